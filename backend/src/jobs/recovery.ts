import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { Db, Queryable } from '../adapters/store/db';
import { claimScheduledRun, finishScheduledRun } from '../adapters/store/backfill-store';
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
 */

export interface RecoveryTarget {
  /** '' = the API key's own account. */
  account: string;
  livemode: boolean;
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

/** The event types the processor handles: the only ones worth recovering (at most 20 `types` per list). */
export const RECOVERED_TYPES: readonly string[] = [...SYNC_EVENT_TYPES, ...LIFECYCLE_EVENT_TYPES];

export async function recoverMissedEvents(deps: RecoveryDeps, target: RecoveryTarget): Promise<RecoveryResult> {
  const stripe = deps.stripeFor(target.livemode);
  if (!stripe) return { listed: 0, inserted: 0, skipped: `no Stripe API key for ${target.livemode ? 'live' : 'test'} mode` };
  const signal = deps.signal ?? new AbortController().signal;
  const rate = target.livemode ? (deps.ratePerSecond?.live ?? 20) : (deps.ratePerSecond?.test ?? 5);
  const limiter = new SlidingWindowLimiter(rate);
  const since = Math.floor((deps.now?.() ?? Date.now()) / 1000) - (deps.windowDays ?? 30) * 86_400;
  const list = (p: Record<string, unknown>, o: Stripe.RequestOptions) => stripe.events.list(p, o);
  let cursor: string | null = null;
  let listed = 0;
  let inserted = 0;
  for (;;) {
    const params: Record<string, unknown> = { delivery_success: false, created: { gte: since }, types: [...RECOVERED_TYPES], limit: 100 };
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
  if (inserted > 0) deps.logger.info({ account: target.account, livemode: target.livemode, listed, inserted }, 'missed Stripe events recovered');
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
}

export interface RecoverySchedule {
  /** Runs the job now if it is due and no other instance holds it; answers the per-target results, or null. */
  tick(): Promise<Record<string, unknown> | null>;
  stop(): Promise<void>;
}

/** Every instance ticks; the database lease and the last start time make one instance run the job per interval. */
export function startRecoverySchedule(opts: RecoveryScheduleOptions): RecoverySchedule {
  const owner = opts.owner ?? `recovery-${randomUUID()}`;
  const intervalSeconds = opts.intervalMinutes * 60;
  const controller = new AbortController();
  let current: Promise<unknown> = Promise.resolve();

  async function run(): Promise<Record<string, unknown> | null> {
    if (controller.signal.aborted) return null;
    const due = await claimScheduledRun(opts.db, RECOVERY_JOB, owner, intervalSeconds, opts.leaseSeconds ?? 900);
    if (!due) return null;
    const results: Record<string, unknown> = {};
    try {
      for (const target of await (opts.targets ?? (() => installedTargets(opts.db)))()) {
        if (controller.signal.aborted) break;
        const key = `${target.account || '(own account)'}:${target.livemode ? 'live' : 'test'}`;
        const out: Record<string, unknown> = {};
        try {
          out.recovery = await opts.recover(target, controller.signal);
        } catch (err) {
          out.recovery = { error: err instanceof Error ? err.message : String(err) };
          opts.logger.warn({ err, account: target.account, livemode: target.livemode }, 'recovery of missed events failed');
        }
        if (opts.driftCheck) {
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

  const tick = () => {
    const next = current.then(run, run);
    current = next.catch(() => undefined);
    return next;
  };
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
    async stop() {
      clearInterval(timer);
      clearTimeout(first);
      controller.abort(new Error('recovery schedule stopped'));
      await current;
    },
  };
}
