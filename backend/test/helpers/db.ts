import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { openDb, type Db } from '../../src/adapters/store/db';
import { migrate } from '../../src/adapters/store/migrate';

export type DbKind = 'pglite' | 'postgres';

/**
 * The databases every storage test runs against: always the embedded PGlite, and PostgreSQL when
 * `DATABASE_URL` is set (CI sets it). Use with `describe.each(dbKinds())`.
 */
export function dbKinds(): DbKind[] {
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase {
  kind: DbKind;
  /** postgres URL of the fresh database (postgres only). */
  url?: string;
  /** A directory for PGlite when the test needs a real on-disk database (e.g. restarts). */
  dataDir?: string;
  open(): Promise<Db>;
  drop(): Promise<void>;
}

/** A fresh, empty database of that kind: a new PostgreSQL database, or an in-memory/on-disk PGlite. */
export async function freshDatabase(kind: DbKind, opts: { dataDir?: string } = {}): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const dataDir = opts.dataDir ?? 'memory://';
    return { kind, dataDir, open: () => openDb({ dataDir }), drop: async () => undefined };
  }
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set');
  const name = `shs_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(base, name);
  return {
    kind,
    url,
    open: () => openDb({ databaseUrl: url, poolSize: 5 }),
    async drop() {
      const c = new Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Opens a fresh database of that kind with every migration applied. */
export async function migratedDb(kind: DbKind): Promise<{ db: Db; target: TestDatabase }> {
  const target = await freshDatabase(kind);
  const db = await target.open();
  await migrate(db);
  return { db, target };
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A migrated database of that kind for the enclosing `describe`: opened before its tests, closed and dropped after
 * them. Answers a getter (the database exists only once `beforeAll` has run).
 */
export function useMigratedDb(kind: DbKind): () => Db {
  let opened: { db: Db; target: TestDatabase } | undefined;
  beforeAll(async () => {
    opened = await migratedDb(kind);
  });
  afterAll(async () => {
    await opened?.db.close();
    await opened?.target.drop();
  });
  return () => {
    if (!opened) throw new Error('the test database is opened in beforeAll');
    return opened.db;
  };
}
