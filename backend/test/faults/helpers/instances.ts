import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../../src/adapters/store/db';
import { startFakeHubSpot, type FakeHubSpot, type FakeHubSpotOptions } from '../../fakes/hubspot/server';
import { freshDatabase, type DbKind, type TestDatabase } from '../../helpers/db';
import { spawnServerProcess, TEST_WEBHOOK_SECRETS, waitFor, type ServerProcess } from '../../helpers/server';
import { TEST_PORTAL_ID, TEST_PRIVATE_APP_TOKEN } from '../../helpers/sync-harness';
import { hubspotDifferences, pendingWork, storageProblems } from './verify';
import type { Expected } from './workload';

/**
 * The real backend (`src/main.ts`, as `npm start` runs it) in child processes, on storage that outlives them
 * (a PGlite directory, or a PostgreSQL database), writing to a fake HubSpot that runs in the test process.
 */

export interface FaultStorage {
  kind: DbKind;
  /** DATA_DIR or DATABASE_URL for the processes. */
  env: Record<string, string>;
  /** Opens the storage from the test process (PGlite: only while no server process has it open). */
  open(): Promise<Db>;
  drop(): Promise<void>;
}

/**
 * Storage that outlives the processes: a PGlite directory, a fresh database on the shared PostgreSQL server, or
 * (`databaseUrl`) a database the test owns (a private cluster; `drop` leaves it to its owner).
 */
export async function faultStorage(kind: DbKind, databaseUrl?: string): Promise<FaultStorage> {
  if (databaseUrl) {
    return { kind: 'postgres', env: { DATABASE_URL: databaseUrl }, open: () => openDb({ databaseUrl, poolSize: 2 }), drop: async () => undefined };
  }
  if (kind === 'pglite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'shs-faults-'));
    const database = await freshDatabase('pglite', { dataDir });
    return {
      kind,
      env: { DATA_DIR: dataDir },
      open: () => database.open(),
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const database: TestDatabase = await freshDatabase('postgres');
  return { kind, env: { DATABASE_URL: database.url as string }, open: () => database.open(), drop: () => database.drop() };
}

/** A fake HubSpot with the harness's private-app token registered for portal 4242. */
export async function faultHubSpot(options: FakeHubSpotOptions = {}): Promise<FakeHubSpot> {
  const hubspot = await startFakeHubSpot(options);
  hubspot.addPrivateAppToken(TEST_PRIVATE_APP_TOKEN, TEST_PORTAL_ID);
  return hubspot;
}

/** The environment of one backend process writing to `hubspot` with the private-app token. */
export function instanceEnv(storage: FaultStorage, hubspot: FakeHubSpot, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRETS.join(','),
    HUBSPOT_ACCESS_TOKEN: TEST_PRIVATE_APP_TOKEN,
    HUBSPOT_API_BASE_URL: hubspot.url,
    HUBSPOT_PRIVATE_APP_PORTAL_ID: String(TEST_PORTAL_ID),
    // Event jobs and push leases a dead process held are free again after ~2 s (default 60 s).
    QUEUE_EXPIRE_SECONDS: '2',
    SHUTDOWN_TIMEOUT_MS: '5000',
    DATABASE_POOL_SIZE: '5',
    ...storage.env,
    ...extra,
  };
}

/**
 * The backend processes a test started: `start` spawns one (ready when it resolves), `killAll` (in `afterAll`)
 * kills every one still running, also one whose start was under way when the test gave up.
 */
export class Fleet {
  private readonly all: Promise<ServerProcess | undefined>[] = [];

  start(env: Record<string, string>): Promise<ServerProcess> {
    const starting = spawnServerProcess({ env, readyTimeoutMs: 120_000 });
    this.all.push(starting.catch(() => undefined));
    return starting;
  }

  async killAll(): Promise<void> {
    const procs = await Promise.all(this.all);
    await Promise.all(procs.map((p) => p?.stop('SIGKILL')));
  }
}

/** The tail of a process's output, for failure messages. */
export function tail(proc: ServerProcess | undefined, chars = 3000): string {
  if (!proc) return '';
  const out = proc.output();
  return out.length > chars ? `…${out.slice(-chars)}` : out;
}

/**
 * Waits until the backend has nothing left to do (up to a minute: after a database restart a write HubSpot already
 * holds may still wait out its retry backoff before it is recorded). PostgreSQL: the storage is read directly. PGlite (one
 * process only): the queue depth of `proc` stays 0 for 1.5 s (the caller already saw HubSpot converge).
 */
export async function waitUntilIdle(storage: FaultStorage, proc: ServerProcess, timeoutMs = 60_000): Promise<void> {
  if (storage.kind === 'postgres') {
    const db = await storage.open();
    try {
      await waitFor(async () => (await pendingWork(db)) === 0, { timeoutMs, intervalMs: 200, what: 'no pending work' });
    } finally {
      await db.close();
    }
    return;
  }
  let zeroSince = 0;
  await waitFor(
    async () => {
      const text = await (await fetch(`${proc.url}/metrics`)).text();
      const depth = Number(/^queue_depth (\d+)/m.exec(text)?.[1] ?? NaN);
      if (depth !== 0) zeroSince = 0;
      else zeroSince ||= Date.now();
      return zeroSince > 0 && Date.now() - zeroSince > 1_500;
    },
    { timeoutMs, intervalMs: 200, what: 'an empty queue' },
  );
}

/**
 * The end state every fault test asserts once HubSpot has converged: `proc` runs out of work and stops cleanly,
 * every acknowledged event is stored once and settled, and the portal holds exactly the expected contacts.
 */
export async function expectSettledEndState(
  storage: FaultStorage,
  proc: ServerProcess,
  hubspot: FakeHubSpot,
  acked: Set<string>,
  expected: Map<string, Expected>,
): Promise<void> {
  await waitUntilIdle(storage, proc);
  expect(await proc.stop('SIGTERM')).toBe(0);
  const db = await storage.open();
  try {
    // Acknowledged means committed: every 2xx event is stored, and applied.
    expect(await storageProblems(db, acked, expected)).toEqual([]);
  } finally {
    await db.close();
  }
  expect(hubspotDifferences(hubspot, TEST_PORTAL_ID, expected)).toEqual([]);
}

/** `work`, failing at once (with the process's output) if `proc` exits before it is done. */
export async function failOnExit<T>(proc: ServerProcess, work: Promise<T>): Promise<T> {
  let onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = (code, signal) => reject(new Error(`the server process exited (${code ?? signal}) unexpectedly:\n${tail(proc)}`));
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) onExit(proc.child.exitCode, proc.child.signalCode);
    else proc.child.once('exit', onExit);
  });
  try {
    return await Promise.race([work, exited]);
  } finally {
    if (onExit) proc.child.off('exit', onExit);
  }
}
