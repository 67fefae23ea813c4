import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { Db, Queryable } from '../adapters/store/db';
import { claimScheduledRun, finishScheduledRun } from '../adapters/store/backfill-store';
import { claimUncleanStops, finishUncleanStops, recordCleanStop, recordHeartbeat, type UncleanStop } from '../adapters/store/instance-runs';
import { purgeDeletedContactLinks } from '../adapters/store/data-deletion';
import { SYNC_EVENT_TYPES } from '@stripe-hubspot-sync/contracts';
import { LIFECYCLE_EVENT_TYPES, type Ingestor } from '../ingest/ingestor';
import type { VerifiedEvent } from '../ingest/verify';
import type { Logger } from '../logger';
import type { BackfillMetrics } from './backfill/metrics';
import { SlidingWindowLimiter } from './backfill/rate-limiter';
import { listWithRetries, type RetryOptions } from './backfill/stripe-pages';

/**
 * Recovery of missed events: Stripe keeps events 30 days and lists those whose delivery failed
 * (`GET /v1/events?delivery_success=false`). For each connected account and mode, the ones we handle are put
 * into the inbox through the webhook's own ingestor (insert-if-new + enqueue in one transaction), so an event
 * already stored is never processed twice, and a recovered one is processed exactly like a webhook.
 * A schedule runs it (with the drift check) on one instance at a time, every RECOVERY_INTERVAL_MINUTES.
 *
 * After an unclean stop (kill -9, a crash, a power loss) that is not enough: where the database cannot fsync (the
 * embedded PGlite), webhooks acknowledged just before a power loss or kernel crash can be lost, and Stripe counts
 * them as delivered. So every process records a heartbeat while it runs and deletes it when it stops cleanly; a
 * heartbeat left to go stale is claimed by a running process (the restarted one, or another instance), which lists
 * every event created since that heartbeat (minus a margin), delivered or not, and ingests the missing ones.
 */

export interface RecoveryTarget {
  /** '' = the API key's own account. */
  account: string;
  livemode: boolean;
  /**
   * After an unclean stop: every event created at or after this time (unix seconds), delivered or not. Unset: the
   * events whose delivery failed, of the last `windowDays`.
   */
  since?: number;
}

export interface RecoveryResult {
  listed: number;
  inserted: number;
  /** Why nothing was listed (no API key for the mode). */
  skipped?: string;
}

export interface RecoveryDeps {
  ingestor: Ingestor;
  stripeFor(livemode: boolean): Stripe | null;
  logger: Logger;
  metrics?: Pick<BackfillMetrics, 'recoveredEvents'>;
  /** Stripe read requests per second (default 20 live, 5 test, as the backfill). */
  ratePerSecond?: { live?: number; test?: number };
  /** How far back to look (default 30 days, all Stripe keeps). */
  windowDays?: number;
  retry?: RetryOptions;
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * Event types whose facts another recovered event carries: Stripe announces every status change of a subscription
 * (paused, resumed) with customer.subscription.updated too, and trial_will_end changes nothing.
 */
const CARRIED_BY_OTHERS = new Set(['customer.subscription.trial_will_end', 'customer.subscription.paused', 'customer.subscription.resumed']);

/** The event types the processor handles: the only ones worth recovering (at most 20 `types` per list). */
export const RECOVERED_TYPES: readonly string[] = [...SYNC_EVENT_TYPES.filter((t) => !CARRIED_BY_OTHERS.has(t)), ...LIFECYCLE_EVENT_TYPES];

export async function recoverMissedEvents(deps: RecoveryDeps, target: RecoveryTarget): Promise<RecoveryResult> {
  const stripe = deps.stripeFor(target.livemode);
  if (!stripe) return { listed: 0, inserted: 0, skipped: `no Stripe API key for ${target.livemode ? 'live' : 'test'} mode` };
  const signal = deps.signal ?? new AbortController().signal;
  const rate = target.livemode ? (deps.ratePerSecond?.live ?? 20) : (deps.ratePerSecond?.test ?? 5);
  const limiter = new SlidingWindowLimiter(rate);
  const oldest = Math.floor((deps.now?.() ?? Date.now()) / 1000) - (deps.windowDays ?? 30) * 86_400;
  const window =
    target.since === undefined
      ? { delivery_success: false, created: { gte: oldest } }
      : { created: { gte: Math.max(oldest, Math.floor(target.since)) } };
  const list = (p: Record<string, unknown>, o: Stripe.RequestOptions) => stripe.events.list(p, o);
  let cursor: string | null = null;
  let listed = 0;
  let inserted = 0;
  for (;;) {
    const params: Record<string, unknown> = { ...window, types: [...RECOVERED_TYPES], limit: 100 };
    if (cursor) params.starting_after = cursor;
    const page = await listWithRetries(list, params, { phase: 'events', account: target.account }, limiter, signal, deps.retry);
    const events = page.objects.filter((e) => e.livemode === target.livemode).map((e) => toVerified(e, target.account));
    listed += events.length;
    const results = await Promise.all(events.map((e) => deps.ingestor.ingest(e)));
    const fresh = results.filter((r) => !r.duplicate).length;
    inserted += fresh;
    if (fresh > 0) deps.metrics?.recoveredEvents.inc(fresh);
    const last = page.objects[page.objects.length - 1];
    if (!page.hasMore || typeof last?.id !== 'string') break;
    cursor = last.id;
  }
  if (inserted > 0) {
    deps.logger.info({ account: target.account, livemode: target.livemode, since: target.since, listed, inserted }, 'missed Stripe events recovered');
  }
  return { listed, inserted };
}

/** An event read from the API, stored as a webhook would have delivered it (`account` set for a connected account). */
function toVerified(event: Record<string, unknown>, account: string): VerifiedEvent {
  const withAccount = account && !event.account ? { ...event, account } : event;
  return {
    id: String(event.id),
    type: String(event.type),
    accountId: account || null,
    livemode: event.livemode === true,
    created: Number(event.created),
    raw: JSON.stringify(withAccount),
  };
}

/** The accounts and modes with a live HubSpot connection in the database. */
export async function installedTargets(db: Queryable): Promise<RecoveryTarget[]> {
  const { rows } = await db.query<{ stripe_account_id: string; livemode: boolean }>(
    `SELECT DISTINCT stripe_account_id, livemode FROM hubspot_installs WHERE disconnected_at IS NULL ORDER BY stripe_account_id, livemode`,
  );
  return rows.map((r) => ({ account: r.stripe_account_id, livemode: r.livemode }));
}

export const RECOVERY_JOB = 'recovery';

export interface RecoveryScheduleOptions {
  db: Db;
  logger: Logger;
  /** RECOVERY_INTERVAL_MINUTES (default 60). */
  intervalMinutes: number;
  /** Accounts and modes to look at (default: the installed ones). */
  targets?(): Promise<RecoveryTarget[]>;
  /** Work per target: recover missed events, then check drift. Errors are logged per target. */
  recover(target: RecoveryTarget, signal: AbortSignal): Promise<RecoveryResult>;
  driftCheck?(target: RecoveryTarget, signal: AbortSignal): Promise<unknown>;
  /** How often an instance looks whether the job is due (default a minute, at most the interval). */
  tickMs?: number;
  owner?: string;
  /** How long one run may hold the job before another instance may take it (default 15 minutes). */
  leaseSeconds?: number;
  /** How often this process records its heartbeat and looks for unclean stops of others (default 30 s). */
  heartbeatMs?: number;
  /** A process whose heartbeat is older than this stopped uncleanly (default 120 s; 0: any other process's row). */
  staleAfterSeconds?: number;
  /** After an unclean stop, events created up to this long before its last heartbeat are listed too (default 900 s). */
  uncleanStopMarginSeconds?: number;
}

export interface RecoverySchedule {
  /** Runs the job now if it is due and no other instance holds it; answers the per-target results, or null. */
  tick(): Promise<Record<string, unknown> | null>;
  /**
   * Records this process's heartbeat now, then claims the unclean stops of others and recovers their window;
   * answers what it recovered, or null when there was no unclean stop to claim.
   */
  heartbeat(): Promise<UncleanStopRecovery | null>;
  /** A clean stop: stops the timers, waits for the running work, and deletes this process's heartbeat. */
  stop(): Promise<void>;
}

export interface UncleanStopRecovery {
  stops: UncleanStop[];
  /** The events listed were created at or after this time (unix seconds). */
  since: number;
  results: Record<string, unknown>;
  /** False when a target failed: the stops stay claimed until the lease runs out, and are recovered again then. */
  complete: boolean;
}

/** Every instance ticks; the database lease and the last start time make one instance run the job per interval. */
export function startRecoverySchedule(opts: RecoveryScheduleOptions): RecoverySchedule {
  const owner = opts.owner ?? `recovery-${randomUUID()}`;
  const intervalSeconds = opts.intervalMinutes * 60;
  const controller = new AbortController();
  let current: Promise<unknown> = Promise.resolve();
  const leaseSeconds = opts.leaseSeconds ?? 900;
  const listTargets = () => (opts.targets ?? (() => installedTargets(opts.db)))();
  const targetKey = (t: RecoveryTarget) => `${t.account || '(own account)'}:${t.livemode ? 'live' : 'test'}`;

  async function recoverUncleanStops(): Promise<UncleanStopRecovery | null> {
    if (controller.signal.aborted) return null;
    const stops = await claimUncleanStops(opts.db, owner, opts.staleAfterSeconds ?? 120, leaseSeconds);
    if (stops.length === 0) return null;
    const since = Math.max(0, stops[0].lastHeartbeat - (opts.uncleanStopMarginSeconds ?? 900));
    opts.logger.warn({ instances: stops.map((s) => s.instanceId), since }, 'unclean stop found: listing the Stripe events since its last heartbeat');
    const results: Record<string, unknown> = {};
    let complete = true;
    for (const target of await listTargets()) {
      if (controller.signal.aborted) {
        complete = false;
        break;
      }
      try {
        results[targetKey(target)] = await opts.recover({ ...target, since }, controller.signal);
      } catch (err) {
        complete = false;
        results[targetKey(target)] = { error: err instanceof Error ? err.message : String(err) };
        opts.logger.warn({ err, account: target.account, livemode: target.livemode }, 'recovery after an unclean stop failed');
      }
    }
    if (complete) await finishUncleanStops(opts.db, owner, stops.map((s) => s.instanceId));
    return { stops, since, results, complete };
  }

  async function run(): Promise<Record<string, unknown> | null> {
    if (controller.signal.aborted) return null;
    const due = await claimScheduledRun(opts.db, RECOVERY_JOB, owner, intervalSeconds, leaseSeconds);
    if (!due) return null;
    const results: Record<string, unknown> = {};
    try {
      for (const target of await listTargets()) {
        if (controller.signal.aborted) break;
        const key = targetKey(target);
        const out: Record<string, unknown> = {};
        try {
          out.recovery = await opts.recover(target, controller.signal);
        } catch (err) {
          out.recovery = { error: err instanceof Error ? err.message : String(err) };
          opts.logger.warn({ err, account: target.account, livemode: target.livemode }, 'recovery of missed events failed');
        }
        // A stopping process starts no drift check: it would queue repairs that nobody here will write.
        if (opts.driftCheck && !controller.signal.aborted) {
          try {
            out.drift = await opts.driftCheck(target, controller.signal);
          } catch (err) {
            out.drift = { error: err instanceof Error ? err.message : String(err) };
            opts.logger.warn({ err, account: target.account, livemode: target.livemode }, 'drift check failed');
          }
        }
        results[key] = out;
      }
      results.purgedDeletedLinks = await purgeDeletedContactLinks(opts.db);
    } finally {
      await finishScheduledRun(opts.db, RECOVERY_JOB, owner, results).catch(() => undefined);
    }
    return results;
  }

  /** Runs `fn` after the work already queued: one recovery at a time in this process. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = current.then(fn, fn);
    current = next.catch(() => undefined);
    return next;
  };
  const tick = () => serial(run);

  // The heartbeat is written outside the queue, so a long recovery run never makes this process look stopped.
  let beating: Promise<unknown> = Promise.resolve();
  const heartbeat = (): Promise<UncleanStopRecovery | null> => {
    if (controller.signal.aborted) return Promise.resolve(null);
    const beat = recordHeartbeat(opts.db, owner);
    // Every beat still in flight (the start's own and an explicit one may overlap): the clean stop waits for all of
    // them, so none lands after the stop deleted the row and leaves a heartbeat that looks like an unclean stop.
    beating = Promise.all([beating, beat.catch(() => undefined)]);
    return beat.then(() => serial(recoverUncleanStops));
  };
  const heartbeatTimer = setInterval(() => {
    heartbeat().catch((err: unknown) => opts.logger.warn({ err }, 'heartbeat or recovery after an unclean stop failed'));
  }, opts.heartbeatMs ?? 30_000);
  heartbeatTimer.unref();
  heartbeat().catch((err: unknown) => opts.logger.warn({ err }, 'heartbeat or recovery after an unclean stop failed'));
  const every = Math.max(1000, Math.min(opts.tickMs ?? 60_000, intervalSeconds * 1000));
  const timer = setInterval(() => {
    tick().catch((err: unknown) => opts.logger.error({ err }, 'recovery schedule tick failed'));
  }, every);
  timer.unref();
  // First look soon after start (a restarted instance catches up on a run it missed).
  const first = setTimeout(() => void tick().catch(() => undefined), Math.min(every, 5_000));
  first.unref();

  return {
    tick,
    heartbeat,
    async stop() {
      clearInterval(timer);
      clearInterval(heartbeatTimer);
      clearTimeout(first);
      controller.abort(new Error('recovery schedule stopped'));
      await current;
      await beating;
      await recordCleanStop(opts.db, owner).catch((err: unknown) => opts.logger.warn({ err }, 'could not record the clean stop'));
    },
  };
}
