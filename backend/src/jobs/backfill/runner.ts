import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { Db } from '../../adapters/store/db';
import {
  claimBackfill,
  finishBackfill,
  LeaseLostError,
  recordFailure,
  releaseLease,
  renewLease,
  saveCheckpoint,
  type BackfillRow,
} from '../../adapters/store/backfill-store';
import type { Logger } from '../../logger';
import type { ObjectRecord } from '../../domain/records';
import { backfillMeta, foldGroups, foldGroupsConcurrently, recordsByCustomer } from './fold-page';
import type { BackfillMetrics } from './metrics';
import { advance, extrapolate, PHASES, type Phase, type PhaseOrDone, type ProgressState } from './progress';
import { SlidingWindowLimiter } from './rate-limiter';
import { CursorGoneError, PermanentStripeError, readPage, type RetryOptions } from './stripe-pages';

/**
 * Runs backfills. Each instance runs a runner; a runner leases running backfills from the database (at most
 * `concurrency` at once) and works each one page by page: read a page (rate-limited: 20 requests/s live, 5/s
 * test), fold it, commit the fold with the checkpoint in one transaction that only succeeds while it holds the
 * lease. A heartbeat renews the lease; a crashed runner's lease expires and another runner (or the restarted
 * process) resumes from the last committed page. Cancel is checked at every checkpoint.
 */

export interface BackfillRunnerOptions {
  db: Db;
  logger: Logger;
  /** A Stripe client for that mode's API key (SDK retries off), or null when there is no key for it. */
  stripeFor(livemode: boolean): Stripe | null;
  /** Stripe read requests per second per run. Default 20 live, 5 test. */
  ratePerSecond?: { live?: number; test?: number };
  leaseSeconds?: number;
  /** How often idle runners look for work. Default 5 s. */
  pollMs?: number;
  /** Backfills one runner works at once. Default 2. */
  concurrency?: number;
  pageSize?: number;
  /**
   * Customers folded at once. 1 (the default) folds a page and commits its checkpoint in one transaction; more
   * (PostgreSQL only: PGlite has one connection) folds customers in parallel transactions, then commits the
   * checkpoint — for large accounts on a database server with spare cores.
   */
  foldConcurrency?: number;
  retry?: RetryOptions;
  /** This runner's lease owner name (default: a random id). */
  owner?: string;
  /** Called after a page changed customers (wake the pusher). */
  onCustomersChanged?(): void;
  /** Called after each committed checkpoint. */
  onCheckpoint?(info: { id: string; phase: PhaseOrDone; pages: number }): void;
  metrics?: BackfillMetrics;
  /** Failed attempts in a row (each after its retries) before the run is marked failed. Default 5. */
  maxFailures?: number;
}

export interface BackfillRunner {
  readonly owner: string;
  /** Look for work now (after a backfill was started). */
  wake(): void;
  /** Ids of the runs this runner is working. */
  active(): string[];
  /** Graceful: abandons the page in progress (uncommitted), gives the runs back at once, stops. */
  stop(): Promise<void>;
  /** Like a crash: abandons the runs without committing or giving back their leases (they expire). */
  kill(): Promise<void>;
}

type Checkpoint = { phase: PhaseOrDone; cursor: string | null; progress: ProgressState };

const STOP = 'runner stopped';
const KILL = 'runner killed';

export function startBackfillRunner(opts: BackfillRunnerOptions): BackfillRunner {
  const { db, logger } = opts;
  const owner = opts.owner ?? `runner-${randomUUID()}`;
  const leaseSeconds = opts.leaseSeconds ?? 60;
  const pollMs = opts.pollMs ?? 5_000;
  const concurrency = opts.concurrency ?? 2;
  const pageSize = opts.pageSize ?? 100;
  const foldConcurrency = db.kind === 'postgres' ? (opts.foldConcurrency ?? 1) : 1;
  const active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let running = true;
  let wakeUp: (() => void) | null = null;
  let woken = false;
  const wake = () => {
    woken = true;
    wakeUp?.();
  };

  const rateOf = (livemode: boolean) => (livemode ? (opts.ratePerSecond?.live ?? 20) : (opts.ratePerSecond?.test ?? 5));

  async function sampleEstimates(stripe: Stripe, run: BackfillRow, progress: ProgressState, limiter: SlidingWindowLimiter, signal: AbortSignal) {
    for (const phase of PHASES.slice(1)) {
      const page = await readPage(stripe, { phase, account: run.account, cursor: null, createdLte: null, limit: pageSize }, limiter, signal, opts.retry);
      const created = page.objects.map((o) => Number(o.created));
      const est = extrapolate({
        count: created.length,
        newest: created.length ? Math.max(...created) : null,
        oldest: created.length ? Math.min(...created) : null,
        floor: progress.floor,
        hasMore: page.hasMore,
      });
      if (est !== null) progress.estimates[phase] = est;
    }
  }

  async function work(run: BackfillRow, signal: AbortSignal): Promise<void> {
    if (run.cancelRequested) {
      await finishBackfill(db, run.id, owner, 'canceled');
      return;
    }
    const stripe = opts.stripeFor(run.livemode);
    if (!stripe) {
      await finishBackfill(db, run.id, owner, 'failed', `No Stripe API key is configured for ${run.livemode ? 'live' : 'test'} mode`);
      return;
    }
    const limiter = new SlidingWindowLimiter(rateOf(run.livemode), { marginMs: 300 }); // room for arrival skew on a busy host
    let state: { phase: PhaseOrDone; cursor: string | null; progress: ProgressState } = {
      phase: run.phase,
      cursor: run.cursor,
      progress: run.progress,
    };
    while (state.phase !== 'done') {
      const phase: Phase = state.phase;
      let page;
      try {
        page = await readPage(
          stripe,
          { phase, account: run.account, cursor: state.cursor, createdLte: state.progress.createdLte, limit: pageSize },
          limiter,
          signal,
          opts.retry,
        );
      } catch (err) {
        if (!(err instanceof CursorGoneError)) throw err;
        // The last object we read is gone: continue from its second (re-reading that second is harmless).
        logger.warn({ backfill: run.id, phase }, 'backfill cursor disappeared; continuing by created');
        state = { ...state, cursor: null, progress: { ...state.progress, createdLte: state.progress.phaseOldest } };
        continue;
      }
      const readAt = page.readAt;
      const { groups, skipped } = recordsByCustomer(page.objects, (type) => backfillMeta(run.id, type, readAt, run.account, run.livemode));
      const last = page.objects[page.objects.length - 1];
      const next = advance({ phase, cursor: state.cursor, progress: state.progress }, {
        created: page.objects.map((o) => Number(o.created)),
        hasMore: page.hasMore,
        lastId: typeof last?.id === 'string' ? last.id : null,
      });
      if (phase === 'customers' && next.phase !== 'customers') await sampleEstimates(stripe, run, next.progress, limiter, signal);

      const outcome = foldConcurrency > 1 ? await foldThenCheckpoint(run, groups, state.progress, next, signal) : await foldWithCheckpoint(run, groups, state.progress, next, signal);
      opts.metrics?.objects.inc({ phase }, page.objects.length);
      if (skipped > 0) opts.metrics?.skipped.inc({ phase }, skipped);
      if (outcome.changed > 0) opts.onCustomersChanged?.();
      state = next;
      opts.onCheckpoint?.({ id: run.id, phase: state.phase, pages: state.progress.pages });
      if (outcome.cancelRequested) {
        await finishBackfill(db, run.id, owner, 'canceled');
        logger.info({ backfill: run.id }, 'backfill canceled');
        return;
      }
    }
    await finishBackfill(db, run.id, owner, 'completed');
    logger.info({ backfill: run.id, account: run.account, livemode: run.livemode, changed: state.progress.changedCustomers }, 'backfill completed');
  }

  /** The page's fold and its checkpoint in one transaction. */
  function foldWithCheckpoint(run: BackfillRow, groups: Map<string, ObjectRecord[]>, before: ProgressState, next: Checkpoint, signal: AbortSignal) {
    return db.transaction(async (tx) => {
      signal.throwIfAborted();
      const changed = await foldGroups(tx, db.kind, run.account, run.livemode, groups);
      next.progress.changedCustomers = before.changedCustomers + changed.length;
      // A runner stopped or killed while folding commits nothing: the page is read again by whoever resumes.
      signal.throwIfAborted();
      const { cancelRequested } = await saveCheckpoint(tx, run.id, owner, leaseSeconds, next);
      return { changed: changed.length, cancelRequested };
    });
  }

  /** Parallel folds (each customer its own transaction), then the checkpoint; only while the lease is ours. */
  async function foldThenCheckpoint(run: BackfillRow, groups: Map<string, ObjectRecord[]>, before: ProgressState, next: Checkpoint, signal: AbortSignal) {
    if (!(await renewLease(db, run.id, owner, leaseSeconds))) throw new LeaseLostError(run.id);
    const changed = await foldGroupsConcurrently(db, run.account, run.livemode, groups, foldConcurrency, signal);
    next.progress.changedCustomers = before.changedCustomers + changed.length;
    signal.throwIfAborted();
    const { cancelRequested } = await saveCheckpoint(db, run.id, owner, leaseSeconds, next);
    return { changed: changed.length, cancelRequested };
  }

  function launch(run: BackfillRow): void {
    const controller = new AbortController();
    const heartbeat = setInterval(() => {
      renewLease(db, run.id, owner, leaseSeconds).then(
        (held) => {
          if (!held && !controller.signal.aborted) controller.abort(new LeaseLostError(run.id));
        },
        () => undefined, // the database is unavailable: the lease may expire, the checkpoint fences
      );
    }, Math.max(250, (leaseSeconds * 1000) / 3));
    heartbeat.unref();
    logger.info({ backfill: run.id, account: run.account, livemode: run.livemode, phase: run.phase }, 'backfill leased');
    const done = work(run, controller.signal)
      .catch(async (err: unknown) => {
        const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
        if (reason === KILL) return;
        if (reason === STOP) {
          await releaseLease(db, run.id, owner).catch(() => undefined);
          return;
        }
        if (err instanceof LeaseLostError || reason instanceof LeaseLostError) {
          logger.warn({ backfill: run.id }, 'backfill lease lost; another runner or a deletion took it');
          return;
        }
        if (err instanceof PermanentStripeError) {
          logger.warn({ backfill: run.id, err: err.message }, 'backfill failed');
          await finishBackfill(db, run.id, owner, 'failed', err.message).catch(() => undefined);
          return;
        }
        // Transient (Stripe down beyond the retries, database error): keep the lease until it expires, then
        // this or another runner resumes from the checkpoint — up to `maxFailures` times in a row.
        const message = err instanceof Error ? err.message : String(err);
        const failures = await recordFailure(db, run.id, owner, message).catch(() => null);
        if (failures !== null && failures >= (opts.maxFailures ?? 5)) {
          logger.error({ backfill: run.id, err, failures }, 'backfill failed after repeated errors');
          await finishBackfill(db, run.id, owner, 'failed', message).catch(() => undefined);
          return;
        }
        logger.error({ backfill: run.id, err, failures }, 'backfill interrupted; it resumes when its lease expires');
      })
      .finally(() => {
        clearInterval(heartbeat);
        active.delete(run.id);
        wake();
      });
    active.set(run.id, { controller, done });
  }

  const loop = (async () => {
    while (running) {
      try {
        woken = false;
      while (running && active.size < concurrency) {
          const run = await claimBackfill(db, owner, leaseSeconds, [...active.keys()]);
          if (!run || !running) {
            if (run) await releaseLease(db, run.id, owner);
            break;
          }
          launch(run);
        }
      } catch (err) {
        logger.error({ err }, 'backfill runner could not claim work');
      }
      if (!running) break;
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, pollMs);
        wakeUp = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wakeUp = null;
    }
  })();

  async function halt(reason: string): Promise<void> {
    running = false;
    wake();
    await loop;
    const runs = [...active.values()];
    for (const r of runs) r.controller.abort(reason);
    await Promise.all(runs.map((r) => r.done));
  }

  return {
    owner,
    wake,
    active: () => [...active.keys()],
    stop: () => halt(STOP),
    kill: () => halt(KILL),
  };
}
