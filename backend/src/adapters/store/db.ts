import { Pool, escapeLiteral, type PoolClient } from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { createPgliteDataDir, pgliteStartParams } from './pglite-setup';
import { ConnectionGate, currentLane } from './db-gate';

/** Something that runs one parameterised SQL statement. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[]; rowCount: number }>;
}

/**
 * The one database port of the backend. PostgreSQL dialect only; two drivers:
 * PGlite (embedded, WASM, one connection) and a `pg` pool against a PostgreSQL server.
 */
export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters; answers the rows of the last one. */
  exec<T = Record<string, unknown>>(sql: string): Promise<{ rows: T[] }>;
  /**
   * `query` for a hot read path: the statement is prepared once under `name` and its plan reused, so it is not
   * parsed and planned on every call (the bulk of a small query's cost, above all in PGlite's WASM). Parameters
   * are numbers, booleans, strings or null; one `name` always has the same `sql`.
   */
  queryPrepared<T = Record<string, unknown>>(name: string, sql: string, params: readonly PreparedParam[]): Promise<{ rows: T[] }>;
  /**
   * Only when this process is the database's only writer (the embedded PGlite, which one process opens): a counter
   * that moves whenever a statement has written to the read-model tables (`READ_MODEL_TABLES`), so a reader can
   * keep what it read as long as the counter has not moved. Undefined on PostgreSQL (other instances write too).
   */
  readModelGeneration?(): number;
  close(): Promise<void>;
}

export type PreparedParam = string | number | boolean | null;

/** The tables the HubSpot card reads: customers (status), contact links, HubSpot installs, and its CRM facts (customer-crm-read.ts). */
export const READ_MODEL_TABLES = ['customers', 'contact_links', 'hubspot_installs', 'stripe_objects', 'hubspot_deals', 'crm_companies', 'crm_company_members', 'revenue_movements'] as const;
const WRITES_READ_MODEL = new RegExp(
  `\\b(?:insert\\s+into|update|delete\\s+from|truncate(?:\\s+table)?)\\s+(?:only\\s+)?(?:public\\.)?"?(?:${READ_MODEL_TABLES.join('|')})\\b`,
  'i',
);

/** Whether a statement (or script) may write to the read-model tables. */
export function writesReadModel(sql: string): boolean {
  return WRITES_READ_MODEL.test(sql);
}

export interface DbOptions {
  /** postgres://… → a PostgreSQL server; unset → embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  /** Directory of the embedded database; `memory://` keeps it in memory (tests). */
  dataDir?: string;
  /** Connections in the pool (PostgreSQL only). */
  poolSize?: number;
}

export async function openDb(options: DbOptions): Promise<Db> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  return openPglite(options.dataDir ?? './data');
}

async function openPostgres(url: string, max: number): Promise<Db> {
  const pool = new Pool({ connectionString: url, max });
  // An idle client that loses its server (restart, failover) must not crash the process.
  pool.on('error', () => undefined);
  const run = async <T>(client: Pool | PoolClient, sql: string, params?: unknown[]) => {
    const r = await client.query(sql, params as unknown[]);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
  };
  const db: Db = {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    // node-postgres prepares a named statement once per pooled connection.
    queryPrepared: async (name, sql, params) => ({ rows: (await pool.query({ name, text: sql, values: [...params] })).rows }),
    async transaction(fn) {
      const client = await pool.connect();
      // The server can end the connection while it is checked out (a restart, a failover): the pool does not
      // listen then, and an unheard 'error' event would crash the process. The transaction fails instead, and
      // the broken client is discarded rather than returned to the pool.
      let lost: Error | undefined;
      const onError = (err: Error) => (lost = err);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn({ query: (sql, params) => run(client, sql, params) });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.off('error', onError);
        client.release(lost);
      }
    },
    async exec(sql) {
      const r = (await pool.query(sql)) as unknown as { rows: never[] } | { rows: never[] }[];
      return { rows: Array.isArray(r) ? (r[r.length - 1]?.rows ?? []) : r.rows };
    },
    async close() {
      await pool.end();
    },
  };
  await db.query('SELECT 1');
  return db;
}

async function openPglite(dataDir: string): Promise<Db> {
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
    // A new database is created in a child process: see pglite-setup.ts.
    await createPgliteDataDir(dataDir);
  }
  const pg = await PGlite.create(dataDir, { startParams: pgliteStartParams(PGlite.defaultStartParams) });
  // PGlite runs one operation at a time, first come first served: a webhook's acknowledgement would queue behind
  // every statement background work has asked for. The gate grants the connection to what a client waits on
  // first, with a bounded share for background work (db-gate.ts). A transaction holds it until it ends.
  const gate = new ConnectionGate();
  let closed = false;
  // Moved after every statement that may have written the read model (also inside a transaction that then rolls
  // back: an extra move only costs a reader a fresh read). PGlite runs one statement at a time.
  let generation = 0;
  const noteWrites = (sql: string) => {
    if (writesReadModel(sql)) generation += 1;
  };
  // PGlite takes no bind parameters for EXECUTE: the values go in as literals, quoted by node-postgres's
  // escapeLiteral (strings) or checked to be finite numbers. PREPARE lives as long as the one session does.
  const prepared = new Map<string, Promise<unknown>>();
  const literal = (v: PreparedParam): string => {
    if (v === null) return 'NULL';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new Error('queryPrepared: a number parameter must be finite');
      return String(v);
    }
    return escapeLiteral(v);
  };
  const db: Db = {
    kind: 'pglite',
    query: (sql, params) =>
      gate.run(async () => {
        try {
          const r = await pg.query(sql, params as unknown[]);
          return { rows: r.rows as never[], rowCount: r.affectedRows ?? r.rows.length };
        } finally {
          noteWrites(sql);
        }
      }),
    transaction(fn) {
      let wrote = false;
      // Background work steps aside for a turn of the event loop between its statements once its slice is spent.
      const background = currentLane() === 'background';
      let statements = 0;
      return gate
        .run(() =>
          pg.transaction((tx) =>
            fn({
              async query(sql, params) {
                if (background && statements++ > 0) await gate.pause();
                try {
                  const r = await tx.query(sql, params as unknown[]);
                  return { rows: r.rows as never[], rowCount: r.affectedRows ?? r.rows.length };
                } finally {
                  if (writesReadModel(sql)) wrote = true;
                  noteWrites(sql);
                }
              },
            }),
          ),
        )
        .finally(() => {
          // Once more after the commit: whatever was read while the transaction was open is not kept.
          if (wrote) generation += 1;
        });
    },
    readModelGeneration: () => generation,
    async queryPrepared(name, sql, params) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`queryPrepared: not a statement name: ${name}`);
      const statement = params.length > 0 ? `EXECUTE ${name}(${params.map(literal).join(', ')})` : `EXECUTE ${name}`;
      return gate.run(async () => {
        let ready = prepared.get(name);
        if (!ready) {
          ready = pg.exec(`PREPARE ${name} AS ${sql}`);
          prepared.set(name, ready);
          ready.catch(() => prepared.delete(name));
        }
        await ready;
        const r = await pg.query(statement);
        return { rows: r.rows as never[] };
      });
    },
    async exec(sql) {
      const results = await gate.run(() => pg.exec(sql).finally(() => noteWrites(sql)));
      return { rows: (results[results.length - 1]?.rows ?? []) as never[] };
    },
    async close() {
      if (closed) return;
      closed = true;
      await pg.close();
    },
  };
  return db;
}
