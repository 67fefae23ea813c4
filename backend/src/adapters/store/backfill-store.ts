import { randomBytes } from 'node:crypto';
import type { Queryable } from './db';
import { parseProgress, type PhaseOrDone, type ProgressState, type RunView } from '../../jobs/backfill/progress';

/**
 * Backfill runs (table `backfills`) and the leases that make exactly one runner hold a run, and exactly one
 * instance run a scheduled job (table `scheduled_jobs`). Lease times come from the database clock.
 */

export interface BackfillRow extends RunView {
  account: string;
  livemode: boolean;
  cursor: string | null;
  cancelRequested: boolean;
  leaseOwner: string | null;
}

interface Row {
  id: string;
  account_key: string;
  livemode: boolean;
  status: RunView['status'];
  phase: PhaseOrDone;
  cursor: string | null;
  progress: unknown;
  cancel_requested: boolean;
  lease_owner: string | null;
  error: string | null;
  started_at: Date | string;
  updated_at: Date | string;
  finished_at: Date | string | null;
}

const COLUMNS = `id, account_key, livemode, status, phase, cursor, progress, cancel_requested, lease_owner, error,
  started_at, updated_at, finished_at`;

function toRow(r: Row): BackfillRow {
  return {
    id: r.id,
    account: r.account_key,
    livemode: r.livemode,
    status: r.status,
    phase: r.phase,
    cursor: r.cursor,
    progress: parseProgress(typeof r.progress === 'string' ? JSON.parse(r.progress) : r.progress),
    cancelRequested: r.cancel_requested,
    leaseOwner: r.lease_owner,
    error: r.error,
    startedAt: new Date(r.started_at),
    updatedAt: new Date(r.updated_at),
    finishedAt: r.finished_at ? new Date(r.finished_at) : null,
  };
}

export function newBackfillId(): string {
  return `bf_${randomBytes(9).toString('base64url')}`;
}

/**
 * The running backfill of (account, mode), creating one when none runs. Two concurrent calls get the same
 * run (a unique index allows one running run per account and mode).
 */
export async function startBackfill(db: Queryable, account: string, livemode: boolean): Promise<{ run: BackfillRow; created: boolean }> {
  const inserted = await db.query<Row>(
    `INSERT INTO backfills (id, account_key, livemode) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [newBackfillId(), account, livemode],
  );
  if (inserted.rows[0]) return { run: toRow(inserted.rows[0]), created: true };
  const running = await latestBackfill(db, account, livemode);
  if (running?.status === 'running') return { run: running, created: false };
  // The running one finished between the two statements: try once more.
  return startBackfill(db, account, livemode);
}

/** Records a run that could not start (e.g. no Stripe key for that mode), so the merchant sees why. */
export async function insertFailedBackfill(db: Queryable, account: string, livemode: boolean, error: string): Promise<BackfillRow> {
  const { rows } = await db.query<Row>(
    `INSERT INTO backfills (id, account_key, livemode, status, error, finished_at) VALUES ($1, $2, $3, 'failed', $4, now())
     RETURNING ${COLUMNS}`,
    [newBackfillId(), account, livemode, error],
  );
  return toRow(rows[0]);
}

/** The running backfill of (account, mode), else the most recent one. */
export async function latestBackfill(db: Queryable, account: string, livemode: boolean): Promise<BackfillRow | null> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM backfills WHERE account_key = $1 AND livemode = $2
      ORDER BY (status = 'running') DESC, started_at DESC LIMIT 1`,
    [account, livemode],
  );
  return rows[0] ? toRow(rows[0]) : null;
}

export async function backfillById(db: Queryable, id: string): Promise<BackfillRow | null> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM backfills WHERE id = $1`, [id]);
  return rows[0] ? toRow(rows[0]) : null;
}

/**
 * Asks the running backfill of (account, mode) to stop. A run no runner holds (lease free) is canceled at
 * once; a held one is canceled by its runner between two pages.
 */
export async function requestCancel(db: Queryable, account: string, livemode: boolean): Promise<BackfillRow | null> {
  await db.query(
    `UPDATE backfills SET cancel_requested = true, updated_at = now(),
            status = CASE WHEN lease_until IS NULL OR lease_until < now() THEN 'canceled' ELSE status END,
            finished_at = CASE WHEN lease_until IS NULL OR lease_until < now() THEN now() ELSE finished_at END
      WHERE account_key = $1 AND livemode = $2 AND status = 'running'`,
    [account, livemode],
  );
  return latestBackfill(db, account, livemode);
}

/** Leases the oldest running backfill that no runner holds (or whose runner's lease expired) to `owner`. */
export async function claimBackfill(db: Queryable, owner: string, leaseSeconds: number, skipIds: string[] = []): Promise<BackfillRow | null> {
  const { rows } = await db.query<Row>(
    `UPDATE backfills b SET lease_owner = $1, lease_until = now() + make_interval(secs => $2::double precision)
      WHERE b.id = (
        SELECT id FROM backfills
         WHERE status = 'running' AND (lease_until IS NULL OR lease_until < now()) AND NOT (id = ANY($3::text[]))
         ORDER BY started_at LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS.split(',').map((c) => `b.${c.trim()}`).join(', ')}`,
    [owner, leaseSeconds, skipIds],
  );
  return rows[0] ? toRow(rows[0]) : null;
}

/** Extends `owner`'s lease; false when the run is no longer its own (taken over, finished or deleted). */
export async function renewLease(db: Queryable, id: string, owner: string, leaseSeconds: number): Promise<boolean> {
  const r = await db.query(
    `UPDATE backfills SET lease_until = now() + make_interval(secs => $3::double precision)
      WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
    [id, owner, leaseSeconds],
  );
  return r.rowCount > 0;
}

export class LeaseLostError extends Error {
  constructor(id: string) {
    super(`backfill ${id} is no longer held by this runner`);
    this.name = 'LeaseLostError';
  }
}

/**
 * Commits a page's checkpoint in the page's transaction, only while `owner` holds the run (fencing: a runner
 * that lost its lease can commit nothing). Answers whether a cancel was requested meanwhile.
 */
export async function saveCheckpoint(
  tx: Queryable,
  id: string,
  owner: string,
  leaseSeconds: number,
  next: { phase: PhaseOrDone; cursor: string | null; progress: ProgressState },
): Promise<{ cancelRequested: boolean }> {
  const { rows } = await tx.query<{ cancel_requested: boolean }>(
    `UPDATE backfills SET phase = $3, cursor = $4, progress = $5, updated_at = now(), error = NULL,
            lease_until = now() + make_interval(secs => $6::double precision)
      WHERE id = $1 AND lease_owner = $2 AND status = 'running'
     RETURNING cancel_requested`,
    [id, owner, next.phase, next.cursor, JSON.stringify(next.progress), leaseSeconds],
  );
  if (!rows[0]) throw new LeaseLostError(id);
  return { cancelRequested: rows[0].cancel_requested };
}

/**
 * Counts a failed attempt of `owner`'s run (a transient error: Stripe unreachable beyond the retries, a database
 * error) and shows its message while the run keeps going. Answers the failures in a row, or null when the run is
 * not `owner`'s any more.
 */
export async function recordFailure(db: Queryable, id: string, owner: string, message: string): Promise<number | null> {
  const { rows } = await db.query<{ failures: number }>(
    `UPDATE backfills
        SET progress = jsonb_set(progress, '{failures}', to_jsonb(COALESCE((progress->>'failures')::int, 0) + 1)),
            error = $3, updated_at = now()
      WHERE id = $1 AND lease_owner = $2 AND status = 'running'
     RETURNING (progress->>'failures')::int AS failures`,
    [id, owner, message.slice(0, 1000)],
  );
  return rows[0] ? Number(rows[0].failures) : null;
}

/** Ends `owner`'s run (completed, canceled or failed) and frees its lease. */
export async function finishBackfill(
  db: Queryable,
  id: string,
  owner: string,
  status: 'completed' | 'canceled' | 'failed',
  error: string | null = null,
): Promise<boolean> {
  const r = await db.query(
    `UPDATE backfills SET status = $3, error = $4, finished_at = now(), updated_at = now(), lease_owner = NULL, lease_until = NULL
      WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
    [id, owner, status, error?.slice(0, 1000) ?? null],
  );
  return r.rowCount > 0;
}

/** Gives the run back (graceful stop): another runner may take it at once. */
export async function releaseLease(db: Queryable, id: string, owner: string): Promise<void> {
  await db.query(`UPDATE backfills SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`, [id, owner]);
}

// ---------- Scheduled jobs: one instance at a time, at most once per interval ----------

/**
 * Takes the job `name` for `owner` when its last start is at least `intervalSeconds` ago (or it never ran)
 * and no other instance holds it. True when this instance should run it now.
 */
export async function claimScheduledRun(
  db: Queryable,
  name: string,
  owner: string,
  intervalSeconds: number,
  leaseSeconds: number,
): Promise<boolean> {
  await db.query('INSERT INTO scheduled_jobs (name) VALUES ($1) ON CONFLICT DO NOTHING', [name]);
  const r = await db.query(
    `UPDATE scheduled_jobs SET lease_owner = $2, lease_until = now() + make_interval(secs => $4::double precision),
            last_started_at = now()
      WHERE name = $1
        AND (lease_until IS NULL OR lease_until < now())
        AND (last_started_at IS NULL OR last_started_at <= now() - make_interval(secs => $3::double precision))`,
    [name, owner, intervalSeconds, leaseSeconds],
  );
  return r.rowCount > 0;
}

export async function finishScheduledRun(db: Queryable, name: string, owner: string, result: unknown): Promise<void> {
  await db.query(
    `UPDATE scheduled_jobs SET lease_owner = NULL, lease_until = NULL, last_finished_at = now(), last_result = $3
      WHERE name = $1 AND lease_owner = $2`,
    [name, owner, JSON.stringify(result ?? null)],
  );
}

export interface ScheduledJobState {
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastResult: unknown;
}

export async function scheduledJobState(db: Queryable, name: string): Promise<ScheduledJobState | null> {
  const { rows } = await db.query<{ last_started_at: Date | null; last_finished_at: Date | null; last_result: unknown }>(
    'SELECT last_started_at, last_finished_at, last_result FROM scheduled_jobs WHERE name = $1',
    [name],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    lastStartedAt: r.last_started_at ? new Date(r.last_started_at) : null,
    lastFinishedAt: r.last_finished_at ? new Date(r.last_finished_at) : null,
    lastResult: r.last_result,
  };
}

/** Customers a backfill changed wait for HubSpot as backfill work (live writes first, half the rate budget). */
export async function markBackfillPriority(tx: Queryable, account: string, livemode: boolean, customerIds: string[]): Promise<void> {
  if (customerIds.length === 0) return;
  await tx.query(
    `UPDATE customers SET push_priority = 'backfill'
      WHERE account_key = $1 AND livemode = $2 AND customer_id = ANY($3::text[]) AND version > synced_version`,
    [account, livemode, customerIds],
  );
}
