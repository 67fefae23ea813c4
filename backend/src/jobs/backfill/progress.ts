import type { BackfillProgress } from '@stripe-hubspot-sync/contracts';

/**
 * Backfill phases, checkpoint state and the progress estimate. Pure: no I/O.
 *
 * HOW THE TOTAL IS ESTIMATED. Stripe lists give no total count, and a counting pass would double the
 * requests, so the estimate uses the time axis: lists come newest first, so while a phase is read the
 * `created` of its last object moves back in time from the phase's newest object towards the oldest
 * customer (objects of a customer are not older than it, give or take imports).
 * - Customers phase: the oldest customer is not known yet, so the total is unknown (`total`, `percent` and
 *   `etaSeconds` are null; `done` counts up).
 * - At the end of the customers phase the customer count is exact and `floor` (the oldest customer's
 *   `created`) is known. One page of each later phase is sampled: n objects spanning [oldest, newest] of a
 *   list that goes back to `floor` give n × (newest − floor) / (newest − oldest) objects.
 * - While a phase runs its estimate is replaced the same way from what it has read so far, and a phase that
 *   ended counts exactly. An estimate is never below what was read (+1 while the list has more).
 * `percent` = done / total (below 100 until the run completes); `etaSeconds` = what is left at the run's
 * average speed so far (objects per second between start and the last checkpoint).
 */

export const PHASES = ['customers', 'subscriptions', 'invoices', 'charges'] as const;
export type Phase = (typeof PHASES)[number];
export type PhaseOrDone = Phase | 'done';

export interface ProgressState {
  /** Objects read per phase. */
  counts: Partial<Record<Phase, number>>;
  /** Estimated totals of the phases not finished. */
  estimates: Partial<Record<Phase, number>>;
  /** `created` of the newest object of the current phase (its first page). */
  phaseNewest: number | null;
  /** `created` of the oldest object read so far in the current phase. */
  phaseOldest: number | null;
  /** `created` of the oldest customer, known once the customers phase ended. */
  floor: number | null;
  /** The current phase lists objects created at or before this (set when a cursor disappeared at Stripe). */
  createdLte: number | null;
  /** Customers whose read model this run changed. */
  changedCustomers: number;
  pages: number;
  /** Attempts that failed in a row since the last checkpoint (transient errors); the run fails after a few. */
  failures: number;
}

export function emptyProgress(): ProgressState {
  return { counts: {}, estimates: {}, phaseNewest: null, phaseOldest: null, floor: null, createdLte: null, changedCustomers: 0, pages: 0, failures: 0 };
}

/** Reads a stored progress document, tolerating missing fields. */
export function parseProgress(raw: unknown): ProgressState {
  const base = emptyProgress();
  if (!raw || typeof raw !== 'object') return base;
  const r = raw as Partial<ProgressState>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const counts = (v: unknown): Partial<Record<Phase, number>> => {
    const out: Partial<Record<Phase, number>> = {};
    if (v && typeof v === 'object') for (const p of PHASES) {
      const n = num((v as Record<string, unknown>)[p]);
      if (n !== null) out[p] = n;
    }
    return out;
  };
  return {
    counts: counts(r.counts),
    estimates: counts(r.estimates),
    phaseNewest: num(r.phaseNewest),
    phaseOldest: num(r.phaseOldest),
    floor: num(r.floor),
    createdLte: num(r.createdLte),
    changedCustomers: num(r.changedCustomers) ?? 0,
    pages: num(r.pages) ?? 0,
    failures: num(r.failures) ?? 0,
  };
}

export function nextPhase(phase: Phase): PhaseOrDone {
  const i = PHASES.indexOf(phase);
  return i + 1 < PHASES.length ? PHASES[i + 1] : 'done';
}

/**
 * How many objects a newest-first list holds, from `count` objects read spanning [oldest, newest], when the
 * list reaches back to `floor`. Exact when the list has no more.
 */
export function extrapolate(input: { count: number; newest: number | null; oldest: number | null; floor: number | null; hasMore: boolean }): number | null {
  const { count, newest, oldest, floor, hasMore } = input;
  if (!hasMore) return count;
  if (newest === null || oldest === null || floor === null) return null;
  const covered = newest - oldest;
  const span = newest - floor;
  if (covered <= 0 || span <= covered) return count + 1;
  return Math.max(count + 1, Math.round((count * span) / covered));
}

export interface PageSummary {
  /** `created` of the page's objects, in list order (newest first). */
  created: number[];
  hasMore: boolean;
  /** The id to continue after, or null when the page was empty. */
  lastId: string | null;
}

/** The checkpoint after a page of `phase` was folded: counts, time axis, estimate, next cursor or phase. */
export function advance(
  state: { phase: Phase; cursor: string | null; progress: ProgressState },
  page: PageSummary,
): { phase: PhaseOrDone; cursor: string | null; progress: ProgressState } {
  const p: ProgressState = { ...state.progress, counts: { ...state.progress.counts }, estimates: { ...state.progress.estimates } };
  const phase = state.phase;
  const count = (p.counts[phase] ?? 0) + page.created.length;
  p.counts[phase] = count;
  p.pages += 1;
  p.failures = 0;
  if (page.created.length > 0) {
    const newest = Math.max(...page.created);
    const oldest = Math.min(...page.created);
    p.phaseNewest = p.phaseNewest === null ? newest : Math.max(p.phaseNewest, newest);
    p.phaseOldest = p.phaseOldest === null ? oldest : Math.min(p.phaseOldest, oldest);
  }
  if (page.hasMore && page.lastId) {
    if (phase !== 'customers') {
      const est = extrapolate({ count, newest: p.phaseNewest, oldest: p.phaseOldest, floor: p.floor, hasMore: true });
      if (est !== null) p.estimates[phase] = est;
    }
    return { phase, cursor: page.lastId, progress: p };
  }
  // The phase is over: its count is exact.
  delete p.estimates[phase];
  if (phase === 'customers') p.floor = p.phaseOldest;
  p.phaseNewest = null;
  p.phaseOldest = null;
  p.createdLte = null;
  return { phase: nextPhase(phase), cursor: null, progress: p };
}

export interface RunView {
  id: string;
  status: BackfillProgress['status'];
  phase: PhaseOrDone;
  progress: ProgressState;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  error: string | null;
}

/** What the Stripe App shows: done, total, percent and time left (see the estimate above). */
export function toBackfillProgress(run: RunView): BackfillProgress {
  const { progress: p } = run;
  const done = PHASES.reduce((s, ph) => s + (p.counts[ph] ?? 0), 0);
  let total: number | null = null;
  if (run.status === 'completed') total = done;
  else if (run.phase !== 'customers') {
    total = 0;
    for (const ph of PHASES) {
      const finished = run.phase === 'done' || PHASES.indexOf(ph) < PHASES.indexOf(run.phase as Phase);
      const est = finished ? (p.counts[ph] ?? 0) : (p.estimates[ph] ?? null);
      if (est === null) {
        total = null;
        break;
      }
      total += Math.max(est, p.counts[ph] ?? 0);
    }
  }
  let percent: number | null = null;
  let etaSeconds: number | null = null;
  if (run.status === 'completed') {
    percent = 100;
    etaSeconds = 0;
  } else if (total !== null && total > 0) {
    percent = Math.min(99, Math.round((done / total) * 1000) / 10);
    const elapsed = (run.updatedAt.getTime() - run.startedAt.getTime()) / 1000;
    if (run.status === 'running' && done > 0 && elapsed > 0) etaSeconds = Math.max(0, Math.round(((total - done) * elapsed) / done));
  }
  return {
    id: run.id,
    status: run.status,
    phase: run.phase,
    done,
    total,
    percent,
    etaSeconds,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt ? run.finishedAt.toISOString() : null,
    error: run.error,
  };
}
