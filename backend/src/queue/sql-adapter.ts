import { createRequire } from 'node:module';
import type PgBoss from 'pg-boss';
import type { Db } from '../adapters/store/db';

/**
 * The statements pg-boss 10 runs without awaiting them when a worker's handler is done: completing or failing
 * its jobs (timgit/pg-boss#577). If the database is away at that moment (a restart, a failover), the rejection
 * is unhandled and Node exits. These two statements fail softly instead: the jobs stay active, expire and run
 * again (at least once, as after a crash). Matched by their exact text, from pg-boss's own statement plans.
 */
const UNAWAITED_STATEMENTS: ReadonlySet<string> = (() => {
  const plans = createRequire(__filename)('pg-boss/src/plans') as {
    completeJobs(schema: string): string;
    failJobsById(schema: string): string;
  };
  return new Set([plans.completeJobs('pgboss'), plans.failJobsById('pgboss')]);
})();

/**
 * pg-boss's `db` option over our database port. pg-boss calls `executeSql(text, values)`: with values it is one
 * parameterised statement (`query`); without, it may be a script of several statements (`exec`, which answers
 * the last statement's rows). Tracks calls in flight so shutdown can wait for them before closing the database
 * (pg-boss does not await some of its own completions).
 */
export interface TrackedBossDb extends PgBoss.Db {
  /** Counts `p` as work in flight until it settles (job handlers, whose end triggers more statements). */
  track<T>(p: Promise<T>): Promise<T>;
  /** Resolves once nothing has been in flight for a quiet moment (or after `timeoutMs`). */
  idle(timeoutMs: number): Promise<void>;
}

export function bossDb(db: Db): TrackedBossDb {
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    const done = () => inFlight.delete(p);
    p.then(done, done);
    return p;
  };
  return {
    executeSql(text, values) {
      if (values !== undefined && UNAWAITED_STATEMENTS.has(text)) {
        return track(db.query(text, values).catch(() => ({ rows: [{ count: '0' }], rowCount: 0 })));
      }
      if (values !== undefined) return track(db.query(text, values));
      return track(execScript(db, text));
    },
    track,
    async idle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, deadline - Date.now()))));
      while (Date.now() < deadline) {
        if (inFlight.size > 0) {
          await Promise.race([Promise.allSettled([...inFlight]), sleep(deadline - Date.now())]);
          continue;
        }
        // A statement that just finished may start a handler or another statement a few ticks later.
        await sleep(25);
        if (inFlight.size === 0) return;
      }
    },
  };
}

async function execScript(db: Db, text: string): Promise<{ rows: unknown[] }> {
  try {
    return await db.exec(text);
  } catch (err) {
    // A failed `BEGIN; …; COMMIT;` script leaves PGlite's only connection inside an aborted transaction.
    if (db.kind === 'pglite' && /^\s*BEGIN\b/i.test(text)) await db.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

