import { Pool, type PoolClient } from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';

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
  close(): Promise<void>;
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
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir);
  let closed = false;
  const db: Db = {
    kind: 'pglite',
    async query(sql, params) {
      const r = await pg.query(sql, params as unknown[]);
      return { rows: r.rows as never[], rowCount: r.affectedRows ?? r.rows.length };
    },
    transaction(fn) {
      return pg.transaction((tx) =>
        fn({
          async query(sql, params) {
            const r = await tx.query(sql, params as unknown[]);
            return { rows: r.rows as never[], rowCount: r.affectedRows ?? r.rows.length };
          },
        }),
      );
    },
    async exec(sql) {
      const results = await pg.exec(sql);
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
