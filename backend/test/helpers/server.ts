import { startScriptLaunch } from '../../bench/lib/start-flags';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CONFIG_VARIABLES, loadConfig, type Config } from '../../src/config';
import { createLogger, type Logger } from '../../src/logger';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/server';
import { freshDatabase, type DbKind, type TestDatabase } from './db';
import { signatureHeader } from './stripe-fixtures';

/** The signing secrets test servers accept: a secret roll in progress (old, new). */
export const TEST_WEBHOOK_SECRETS = ['whsec_test_old', 'whsec_test_new'] as const;
/** The secret `postWebhook` signs with by default. */
export const TEST_WEBHOOK_SECRET = TEST_WEBHOOK_SECRETS[0];

type DeepPartial<T> = { [K in keyof T]?: T[K] extends Buffer | unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface TestServerOptions extends Omit<StartServerOptions, 'logger'> {
  kind: DbKind;
  /** Environment variables, parsed like at boot (e.g. `{ QUEUE_RETRY_LIMIT: '1' }`). */
  env?: Record<string, string>;
  /** Applied after `env`; plain objects merge deeply. */
  config?: DeepPartial<Config>;
  /** A PGlite directory on disk (restart tests); default in memory. */
  dataDir?: string;
  /** Log level of the server (default `silent`; `TEST_LOG_LEVEL` overrides). */
  logLevel?: Config['logLevel'];
}

export interface TestServer extends RunningServer {
  config: Config;
  database: TestDatabase;
  /** Closes the server and drops its database. */
  stop(): Promise<void>;
}

/**
 * An in-process server on port 0 on a fresh database of `kind` (PGlite in memory, or a new PostgreSQL database),
 * accepting `TEST_WEBHOOK_SECRETS`. Call `stop()` in `afterAll`.
 */
export async function startTestServer(opts: TestServerOptions): Promise<TestServer> {
  const { kind, env = {}, config: overrides, dataDir, logLevel, ...startOptions } = opts;
  const database = await freshDatabase(kind, dataDir ? { dataDir } : {});
  const config = deepMerge(
    loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRETS.join(','),
      ...(database.url ? { DATABASE_URL: database.url, DATABASE_POOL_SIZE: '5' } : { DATA_DIR: database.dataDir }),
      ...env,
    }),
    (overrides ?? {}) as Record<string, unknown>,
  );
  const logger: Logger = createLogger({ level: (process.env.TEST_LOG_LEVEL as Config['logLevel']) ?? logLevel ?? 'silent' });
  let server: RunningServer;
  try {
    server = await startServer(config, { ...startOptions, logger });
  } catch (err) {
    await database.drop();
    throw err;
  }
  return {
    ...server,
    config,
    database,
    async stop() {
      await server.close();
      await database.drop();
    },
  };
}

function deepMerge<T>(base: T, overrides: Record<string, unknown>): T {
  const out = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(overrides)) {
    const b = out[k];
    const plain = (x: unknown): x is Record<string, unknown> =>
      typeof x === 'object' && x !== null && !Array.isArray(x) && !Buffer.isBuffer(x);
    out[k] = plain(v) && plain(b) ? deepMerge(b, v) : v;
  }
  return out as T;
}

export interface PostWebhookOptions {
  /** Signing secret (default `TEST_WEBHOOK_SECRET`). */
  secret?: string;
  /** Signature timestamp, unix seconds (default now). */
  timestamp?: number;
  /** The exact `Stripe-Signature` header to send instead of a computed one; `null` sends none. */
  header?: string | null;
}

export interface WebhookResponse {
  status: number;
  body: unknown;
}

/**
 * POSTs `event` (an object, or a raw body string) to `<baseUrl>/webhooks/stripe`, signed like Stripe signs.
 * `baseUrl` is the server's URL (`RunningServer.url`).
 */
export async function postWebhook(
  baseUrl: string,
  event: object | string,
  opts: PostWebhookOptions = {},
): Promise<WebhookResponse> {
  const payload = typeof event === 'string' ? event : JSON.stringify(event);
  const header =
    opts.header === undefined ? signatureHeader(payload, opts.secret ?? TEST_WEBHOOK_SECRET, opts.timestamp) : opts.header;
  const res = await fetch(`${baseUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header !== null ? { 'stripe-signature': header } : {}) },
    body: payload,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

/** Polls `check` every `intervalMs` until it answers a truthy value; throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  { timeoutMs = 20_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---------- The real process (`node --require tsx/cjs src/main.ts`, the `start` script's loader) ----------

export const BACKEND_DIR = join(__dirname, '..', '..');

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** stdout and stderr so far (when captured). */
  output(): string;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  /** Config variables; PORT defaults to a free port. Inherited config variables are removed first. */
  env: Record<string, string>;
  /** Keep stdout/stderr in memory (default true); false discards them (benchmarks). */
  capture?: boolean;
  /** How long to wait for `/healthz` to answer 200 (default 90 s). */
  readyTimeoutMs?: number;
  /** Node options before the loader and `src/main.ts` (e.g. the V8 flags of the `start` script; see bench/lib/start-flags.ts). */
  nodeArgs?: string[];
}

/** Spawns the backend as `npm start` runs it and resolves once `/healthz` answers 200. */
export async function spawnServerProcess(opts: SpawnOptions): Promise<ServerProcess> {
  const port = opts.env.PORT ? Number(opts.env.PORT) : await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!(CONFIG_VARIABLES as string[]).includes(k) && k !== 'NODE_OPTIONS') env[k] = v;
  }
  Object.assign(env, { LOG_LEVEL: 'warn', ...opts.env, PORT: String(port), HOST: '127.0.0.1' });
  const capture = opts.capture ?? true;
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...startScriptLaunch().loader, 'src/main.ts'], {
    cwd: BACKEND_DIR,
    env,
    stdio: ['ignore', capture ? 'pipe' : 'ignore', capture ? 'pipe' : 'ignore'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const url = `http://127.0.0.1:${port}`;
  const proc: ServerProcess = {
    url,
    port,
    child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (!hasExited) child.kill(signal);
      return exited;
    },
  };
  try {
    await waitFor(
      async () => {
        if (hasExited) throw new Error(`server process exited before it was ready:\n${out}`);
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs: opts.readyTimeoutMs ?? 90_000, intervalMs: 200, what: `the server process on port ${port}` },
    );
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return proc;
}
