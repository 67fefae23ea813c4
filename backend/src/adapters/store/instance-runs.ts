import type { Queryable } from './db';

/**
 * The running backend processes (table `instance_runs`): a row per process with its heartbeat, deleted at a clean
 * stop. A row left behind with a stale heartbeat is an unclean stop, claimed (under a lease) by one process, which
 * recovers the events of its window and then deletes it. Times come from the database clock.
 */

export interface UncleanStop {
  instanceId: string;
  /** The last heartbeat the database kept, unix seconds. */
  lastHeartbeat: number;
}

/** Records that `instanceId` is alive now (its first call also records the start). */
export async function recordHeartbeat(db: Queryable, instanceId: string): Promise<void> {
  await db.query(
    `INSERT INTO instance_runs (instance_id) VALUES ($1)
       ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = now()`,
    [instanceId],
  );
}

/** A clean stop: the process's row goes, so nobody looks for events it may have lost. */
export async function recordCleanStop(db: Queryable, instanceId: string): Promise<void> {
  await db.query('DELETE FROM instance_runs WHERE instance_id = $1', [instanceId]);
}

/**
 * Claims, for `owner`, the rows of other processes whose heartbeat is older than `staleSeconds` and that no one is
 * recovering (or whose recovery lease has run out). Answers them, oldest heartbeat first.
 */
export async function claimUncleanStops(
  db: Queryable,
  owner: string,
  staleSeconds: number,
  leaseSeconds: number,
): Promise<UncleanStop[]> {
  const { rows } = await db.query<{ instance_id: string; last_heartbeat: number | string }>(
    `UPDATE instance_runs SET recovery_owner = $1, recovery_until = now() + make_interval(secs => $3::double precision)
      WHERE instance_id <> $1
        AND heartbeat_at < now() - make_interval(secs => $2::double precision)
        AND (recovery_until IS NULL OR recovery_until < now())
      RETURNING instance_id, floor(extract(epoch FROM heartbeat_at))::bigint AS last_heartbeat`,
    [owner, staleSeconds, leaseSeconds],
  );
  return rows
    .map((r) => ({ instanceId: r.instance_id, lastHeartbeat: Number(r.last_heartbeat) }))
    .sort((a, b) => a.lastHeartbeat - b.lastHeartbeat);
}

/** The unclean stops `owner` recovered: forgotten. */
export async function finishUncleanStops(db: Queryable, owner: string, instanceIds: string[]): Promise<void> {
  await db.query('DELETE FROM instance_runs WHERE instance_id = ANY($1::text[]) AND recovery_owner = $2', [instanceIds, owner]);
}
