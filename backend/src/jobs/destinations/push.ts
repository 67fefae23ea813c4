import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DESTINATION_LABELS, type DestinationKind } from '@stripe-hubspot-sync/contracts';
import type { Db } from '../../adapters/store/db';
import {
  destinationById,
  setDestinationHealth,
  setPropertiesEnsured,
  writableDestinations,
  type StoredDestination,
} from '../../adapters/store/destinations-store';
import {
  claimDestinationCustomers,
  customersEventState,
  markDestinationFailed,
  markDestinationSynced,
  recordEventsSent,
  releaseDestinationLeases,
  sentEventKeys,
  type DestinationLease,
} from '../../adapters/store/destination-push-store';
import { DestinationError, type DestinationAdapter, type DestinationEvent, type RecordResult } from '../../domain/destinations/port';
import { declaresProperties, destinationPropertyDefinitions, profileWrite, requiresEmail } from '../../domain/destinations/profile';
import { customerEvents } from '../../domain/destinations/events';
import { relatedWrites } from '../../domain/destinations/related';
import { recordsForCustomers, customerKeyId } from '../../adapters/store/sync-store';
import { waitForQuiet, type Foreground } from '../../queue/apply-backlog';

/**
 * Writes each destination's out-of-date customers: their profile (the chosen fields under the chosen names), then
 * the events they have not received, or — for a customer deleted in Stripe — what the merchant chose (keep,
 * unsubscribe, delete). Every destination runs on its own: a destination that is down, slow or rate limited holds
 * back only itself (never HubSpot, never another destination). State lives in the database (leases, retries, what
 * was sent), so several instances share the work and a crash loses nothing: an unacknowledged write is retried and
 * destinations deduplicate events by key.
 */

/** Makes the adapter of one destination from its (decrypted) key. */
export type AdapterFactory = (d: StoredDestination) => DestinationAdapter;

export interface DestinationPusherOptions {
  db: Db;
  logger: Logger;
  adapterFor: AdapterFactory;
  /** How often to look for work when not woken (ms). Default 1000. */
  pollMs?: number;
  /** A customer is written once it has been quiet this long (ms), so a burst of its events is one write. Default 500. */
  settleMs?: number;
  /** Customers per pass of one destination. Default 100. */
  batchSize?: number;
  leaseSeconds?: number;
  retry?: { baseMs?: number; maxMs?: number; maxAttempts?: number };
  /**
   * Work that goes first (this instance acknowledging a flood, its event worker's backlog): each pass waits while it
   * is busy, at most `yieldMaxMs` (default 5000; 0: never waits), so a destination always progresses.
   */
  yieldTo?: Foreground;
  yieldMaxMs?: number;
}

export interface DestinationPusher {
  wake(): void;
  /** Writes until nothing is due (tests and the demo). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

const PERMANENT_EVENT = 'refused by the destination';

/**
 * Destinations where every request counts against a daily allowance shared with the org's other integrations
 * (Salesforce) wait longer for a customer to be quiet, write fuller passes (up to a collection's 200 records) and
 * start a pass that is not full at most every `spacingFactor` × settle time (5 s by default): during a burst a
 * customer is written about once and each pass's few collection calls carry many customers, for a few seconds of
 * latency.
 */
const PASS_SHAPE: Partial<Record<DestinationKind, { settleFactor: number; batchSize: number; spacingFactor: number }>> = {
  salesforce: { settleFactor: 4, batchSize: 200, spacingFactor: 10 },
};

export function startDestinationPusher(opts: DestinationPusherOptions): DestinationPusher {
  const { db, logger } = opts;
  const pollMs = opts.pollMs ?? 1000;
  const settleMs = opts.settleMs ?? 500;
  const batchSize = opts.batchSize ?? 100;
  const leaseSeconds = opts.leaseSeconds ?? 300;
  const baseMs = opts.retry?.baseMs ?? 2000;
  const maxMs = opts.retry?.maxMs ?? 300_000;
  const maxAttempts = opts.retry?.maxAttempts ?? 10;
  const yieldMaxMs = opts.yieldMaxMs ?? 5000;
  const running = new Map<string, Promise<number>>();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let dueAt = 0;
  let ticking: Promise<void> | null = null;
  let again = false;

  const backoff = (attempts: number) => Math.min(maxMs, baseMs * 2 ** Math.min(attempts, 20));

  /** When each destination's last pass started, and whether it was full (a full one is followed at once). */
  const lastPass = new Map<string, { at: number; full: boolean }>();

  /** One pass over one destination: answers how many customers it leased. */
  async function pass(d: StoredDestination): Promise<number> {
    const token = randomUUID();
    const shape = PASS_SHAPE[d.kind];
    const last = lastPass.get(d.id);
    if (shape && last && !last.full && Date.now() - last.at < settleMs * shape.spacingFactor) return 0;
    if (opts.yieldTo && yieldMaxMs > 0 && opts.yieldTo.busy()) await waitForQuiet(opts.yieldTo, yieldMaxMs);
    if (stopped) return 0;
    const leases = await claimDestinationCustomers(db, {
      destinationIds: [d.id],
      limit: shape?.batchSize ?? batchSize,
      leaseSeconds,
      settleMs: settleMs * (shape?.settleFactor ?? 1),
      token,
    });
    if (leases.length === 0) return 0;
    lastPass.set(d.id, { at: Date.now(), full: leases.length >= (shape?.batchSize ?? batchSize) });
    try {
      const adapter = opts.adapterFor(d);
      await writeLeases(d, adapter, leases, token);
      if (d.health.state !== 'ok') await setDestinationHealth(db, d.id, 'ok', null);
    } catch (err) {
      await failLeases(d, leases, token, err);
    }
    return leases.length;
  }

  async function failLeases(d: StoredDestination, leases: DestinationLease[], token: string, err: unknown): Promise<void> {
    const e = err instanceof DestinationError ? err : new DestinationError('retryable', err instanceof Error ? err.message : String(err));
    if (e.errorClass === 'connection') {
      logger.warn({ destination: d.id, kind: d.kind, status: e.status }, 'destination refused its key; marked broken');
      await setDestinationHealth(db, d.id, 'broken', e.message);
      await releaseDestinationLeases(db, token, d.id);
      return;
    }
    const rateLimited = e.errorClass === 'rate_limited';
    logger.info({ destination: d.id, kind: d.kind, errorClass: e.errorClass, customers: leases.length }, 'destination write deferred');
    await markDestinationFailed(
      db,
      token,
      leases.map((l) => {
        const dead = !rateLimited && (e.errorClass === 'record' || l.attempts + 1 >= maxAttempts);
        return {
          destinationId: d.id,
          customerId: l.customerId,
          version: l.version,
          message: e.message,
          retryInMs: rateLimited ? Math.max(e.retryAfterMs ?? 1000, 250) : backoff(l.attempts),
          countAttempt: !rateLimited,
          dead,
        };
      }),
    );
  }

  async function writeLeases(d: StoredDestination, adapter: DestinationAdapter, leases: DestinationLease[], token: string): Promise<void> {
    const settings = d.settings;
    if (declaresProperties(d.kind)) {
      const wanted = destinationPropertyDefinitions(settings);
      const missing = wanted.filter((p) => !d.propertiesEnsured.includes(p.name));
      if (missing.length > 0) {
        await adapter.ensureProperties(missing);
        await setPropertiesEnsured(db, d.id, [...new Set([...d.propertiesEnsured, ...missing.map((p) => p.name)])]);
      }
    }
    const results = new Map<string, RecordResult>();
    const removals = leases.filter((l) => l.status.deleted && settings.onCustomerDeleted !== 'keep');
    // Nothing to write yet where a contact needs an email and the customer has none: its next change with an email is.
    const noEmail = requiresEmail(d.kind) ? leases.filter((l) => !removals.includes(l) && !l.status.email && !l.externalId) : [];
    const writes = leases.filter((l) => !removals.includes(l) && !noEmail.includes(l));
    for (const l of noEmail) results.set(l.customerId, { ok: true, externalId: null });
    for (const l of removals) {
      results.set(l.customerId, await adapter.removeProfile({ customerId: l.customerId, email: l.status.email, externalId: l.externalId }, settings.onCustomerDeleted as 'unsubscribe' | 'delete'));
    }
    const backfill = writes.length > 0 && writes.every((l) => l.backfill);
    // Subscriptions and companies only for an adapter that asks (Salesforce): one read of the pass's records.
    const wants = adapter.related;
    const keyOf = (l: DestinationLease) => ({ account: d.account, livemode: d.livemode, customerId: l.customerId });
    const records = wants && (wants.subscriptions || wants.company) && writes.length > 0 ? await recordsForCustomers(db, writes.map(keyOf)) : null;
    for (let i = 0; i < writes.length; i += adapter.maxProfilesPerCall) {
      const chunk = writes.slice(i, i + adapter.maxProfilesPerCall);
      const answered = await adapter.upsertProfiles(
        chunk.map((l) => ({
          ...profileWrite(l.status, settings, { externalId: l.externalId, syncedEmail: l.syncedEmail }),
          ...(records && wants ? relatedWrites(l.status, records.get(customerKeyId(keyOf(l))) ?? [], wants) : {}),
        })),
        { backfill },
      );
      for (const l of chunk) results.set(l.customerId, answered.get(l.customerId) ?? { ok: false, errorClass: 'retryable', message: 'No answer for this profile' });
    }

    // Events of the customers whose profile is written (the profile carries the identity the events attach to).
    const written = writes.filter((l) => results.get(l.customerId)?.ok);
    const eventFailures = new Map<string, string>();
    if (written.length > 0 && settings.events.length > 0) {
      const state = await customersEventState(db, d.account, d.livemode, written.map((l) => l.customerId));
      const all: DestinationEvent[] = [];
      for (const l of written) {
        const s = state.get(l.customerId);
        if (s) all.push(...customerEvents({ customerId: l.customerId, email: l.status.email }, s, settings.events));
      }
      const sent = await sentEventKeys(db, d.id, all.map((e) => e.key));
      const due = all.filter((e) => !sent.has(e.key));
      for (let i = 0; i < due.length; i += adapter.maxEventsPerCall) {
        const chunk = due.slice(i, i + adapter.maxEventsPerCall);
        const answered = await adapter.sendEvents(chunk, { backfill: chunk.every((e) => writes.find((l) => l.customerId === e.customerId)?.backfill) });
        const done: { key: string; customerId: string }[] = [];
        for (const e of chunk) {
          const r = answered.get(e.key) ?? { ok: false as const, errorClass: 'retryable' as const, message: 'No answer for this event' };
          if (r.ok) done.push(e);
          else if (r.errorClass === 'record') {
            // Never sent again (it would be refused again), but said where the merchant looks.
            done.push(e);
            logger.warn({ destination: d.id, event: e.key, message: r.message }, `event ${PERMANENT_EVENT}`);
          } else eventFailures.set(e.customerId, r.message);
        }
        await recordEventsSent(db, d.id, done);
      }
    }

    const synced: Parameters<typeof markDestinationSynced>[2][number][] = [];
    const failed: Parameters<typeof markDestinationFailed>[2][number][] = [];
    for (const l of leases) {
      const r = results.get(l.customerId)!;
      const eventFailure = eventFailures.get(l.customerId);
      if (r.ok && !eventFailure) {
        synced.push({
          destinationId: d.id,
          customerId: l.customerId,
          version: l.version,
          externalId: r.externalId,
          email: l.status.email,
          removed: removals.includes(l),
          note: noEmail.includes(l) ? `the customer has no email, and ${DESTINATION_LABELS[d.kind]} contacts need one` : null,
        });
      } else {
        const message = r.ok ? eventFailure! : r.message;
        const permanent = !r.ok && r.errorClass === 'record';
        failed.push({
          destinationId: d.id,
          customerId: l.customerId,
          version: l.version,
          message,
          retryInMs: backoff(l.attempts),
          countAttempt: true,
          dead: permanent || l.attempts + 1 >= maxAttempts,
        });
      }
    }
    await markDestinationSynced(db, token, synced);
    await markDestinationFailed(db, token, failed);
  }

  /** Keeps one destination's writes going while it has work; never overlaps itself. */
  function runDestination(d: StoredDestination): Promise<number> {
    const already = running.get(d.id);
    if (already || stopped) return already ?? Promise.resolve(0);
    const task = (async () => {
      let leased = 0;
      try {
        let current: StoredDestination | null = d;
        while (!stopped && current && current.health.state !== 'broken') {
          const n = await pass(current);
          if (n === 0) break;
          leased += n;
          current = await destinationById(db, d.id);
        }
      } catch (err) {
        logger.error({ err, destination: d.id }, 'destination pass failed');
      } finally {
        running.delete(d.id);
      }
      return leased;
    })();
    running.set(d.id, task);
    return task;
  }

  /** Starts every writable destination that is not running; answers the runs (each: how many customers it leased). */
  async function tick(): Promise<Promise<number>[]> {
    if (stopped) return [];
    try {
      return (await writableDestinations(db)).map((d) => runDestination(d));
    } catch (err) {
      logger.error({ err }, 'destination pusher could not list destinations');
      return [];
    }
  }

  /** Runs a tick after `delay`, unless one is already due sooner: a stream of wakes never postpones the next tick. */
  function schedule(delay: number): void {
    if (stopped) return;
    const due = Date.now() + delay;
    if (timer) {
      if (dueAt <= due) return;
      clearTimeout(timer);
    }
    dueAt = due;
    timer = setTimeout(() => {
      timer = null;
      ticking = tick().then(() => undefined).finally(() => {
        ticking = null;
        if (again) {
          again = false;
          schedule(0);
        } else schedule(pollMs);
      });
    }, delay);
    timer.unref?.();
  }

  schedule(0);

  return {
    wake() {
      if (ticking) again = true;
      else schedule(Math.min(settleMs, pollMs));
    },
    async drain() {
      for (;;) {
        const leased = await Promise.all(await tick());
        if (leased.every((n) => n === 0)) return;
      }
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking;
      await Promise.all([...running.values()]);
    },
  };
}
