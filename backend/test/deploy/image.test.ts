import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { BACKEND_DIR, freePort, postWebhook, TEST_WEBHOOK_SECRETS, waitFor } from '../helpers/server';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { envOf, execForm, only, parseDockerfile, stage, type Instruction } from './dockerfile';

/**
 * The deploy files are exercised, not just read. There is no container runtime on the test machines, so the test
 * plays the Dockerfile step by step: the build stage's build command runs in this working tree (its `npm ci` is how
 * this tree was installed), the runtime stage is laid out in a temporary folder standing for /app (its COPY steps
 * copied, its `npm ci --omit=dev` run against the local npm cache, offline), and the image's CMD is started there
 * with compose's environment: /healthz answers, the image's HEALTHCHECK passes, a signed webhook is stored, SIGTERM
 * ends it with 0. The start commands of the Dockerfile, compose and `npm run start:prod` are checked to be one.
 */
jest.setTimeout(300_000);

const REPO = join(BACKEND_DIR, '..');
const stages = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
const compose = parseYaml(readFileSync(join(REPO, 'compose.yaml'), 'utf8')) as ComposeFile;
const build = stage(stages, 'build');
const runtime = stage(stages, 'runtime');
const cmd = execForm(only(runtime, 'CMD').args);
const workdir = only(runtime, 'WORKDIR').args;

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: unknown;
  entrypoint?: unknown;
  environment?: Record<string, string>;
  env_file?: string | string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** The environment of a child process: this one's, without any config variable or NODE_OPTIONS (jest's flags). */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!(CONFIG_VARIABLES as string[]).includes(k) && k !== 'NODE_OPTIONS' && k !== 'DATABASE_URL') env[k] = v;
  }
  return env;
}

function sh(command: string, cwd: string, env: NodeJS.ProcessEnv = baseEnv()): void {
  const r = spawnSync('sh', ['-c', command], { cwd, env, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`\`${command}\` in ${cwd} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}

/** The steps of a RUN, split on `&&`. */
const steps = (run: Instruction) => run.args.split('&&').map((s) => s.trim());

describe('deploy: the Dockerfile, compose.yaml and npm run start:prod agree', () => {
  it('builds on node 20 in a build stage and runs production settings as an unprivileged user', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    for (const s of stages) expect(s.image).toBe('node:20-bookworm-slim');
    expect(only(build, 'WORKDIR').args).toBe(workdir);
    expect(envOf(runtime)).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0' });
    expect(only(runtime, 'EXPOSE').args).toBe(envOf(runtime).PORT);
    expect(only(runtime, 'USER').args).not.toMatch(/^(root|0)(:|$)/);
    const health = only(runtime, 'HEALTHCHECK');
    expect(execForm(health.args).join(' ')).toContain('/healthz');
    // The runtime installs production dependencies only, and takes the compiled code from the build stage.
    const installs = runtime.instructions.filter((i) => i.keyword === 'RUN').flatMap(steps).filter((s) => s.startsWith('npm ci'));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toContain('--omit=dev');
    expect(runtime.instructions.filter((i) => i.keyword === 'COPY' && i.flags.from === 'build').map((i) => i.args.split(' ')[0])).toEqual([
      `${workdir}/packages/contracts/dist`,
      `${workdir}/backend/dist`,
    ]);
  });

  it('starts the image the way npm run start:prod does', () => {
    const scripts = (JSON.parse(readFileSync(join(BACKEND_DIR, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const startProd = scripts['start:prod'].split(' ');
    // backend's start:prod runs in backend/; the image runs from the repository root (WORKDIR).
    expect(cmd).toEqual([...startProd.slice(0, -1), `backend/${startProd[startProd.length - 1]}`]);
    expect(cmd).toEqual(['node', '--conditions=compiled', '--max-old-space-size=512', '--max-semi-space-size=3', '--v8-pool-size=1', 'backend/dist/main.js']);
    const root = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(root['start:prod']).toBe('npm run start:prod --workspace backend');
  });

  it('compose runs that image, unchanged, on PostgreSQL once it is healthy, with secrets from .env', () => {
    const { backend, ...others } = compose.services;
    expect(backend.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect(backend.command).toBeUndefined();
    expect(backend.entrypoint).toBeUndefined();
    expect(backend.env_file).toBe('.env');
    const env = backend.environment ?? {};
    expect(env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: only(runtime, 'EXPOSE').args });
    expect(backend.ports?.every((p) => p.endsWith(`:${env.PORT}`))).toBe(true);
    const url = new URL(env.DATABASE_URL.replace(/\$\{[^}]+\}/g, 'secret'));
    expect(url.protocol).toBe('postgres:');
    const db = others[url.hostname];
    expect(db?.image).toMatch(/^postgres:1[56](\.|-|$)/);
    expect(db.environment).toMatchObject({ POSTGRES_USER: url.username, POSTGRES_DB: url.pathname.slice(1) });
    expect(db.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(backend.depends_on).toEqual({ [url.hostname]: { condition: 'service_healthy' } });
    // No secret is written in the file: the password is interpolated from .env.
    expect(env.DATABASE_URL).toContain('${POSTGRES_PASSWORD');
    expect(db.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD/);
  });

  it('keeps installs, builds, databases and secrets out of the build context', () => {
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '**/.env', '.git']));
    for (const copy of stages.flatMap((s) => s.instructions).filter((i) => i.keyword === 'COPY' && !i.flags.from)) {
      for (const source of copy.args.split(' ').slice(0, -1)) expect(existsSync(join(REPO, source))).toBe(true);
    }
  });

  describe('the image, played step by step', () => {
    let app: string;
    let database: TestDatabase | undefined;

    beforeAll(() => {
      app = mkdtempSync(join(tmpdir(), 'shs-image-'));
    });
    afterAll(async () => {
      await database?.drop();
      rmSync(app, { recursive: true, force: true });
    });

    /** A path of the image (absolute, or relative to WORKDIR) in the temporary folder standing for it. */
    const inApp = (p: string) =>
      p === workdir ? app : join(app, p.startsWith(`${workdir}/`) ? p.slice(workdir.length + 1) : p.startsWith('/') ? p.slice(1) : p);

    it('builds, installs production dependencies only, starts, acknowledges a signed webhook, and stops on SIGTERM', async () => {
      // Build stage: its dependency install is the README's `npm ci` this tree was installed with; the rest runs here.
      for (const run of build.instructions.filter((i) => i.keyword === 'RUN')) {
        for (const step of steps(run)) {
          if (step.startsWith('npm ci ')) continue;
          expect(step).toMatch(/^npm run build /);
          sh(step, REPO);
        }
      }
      expect(existsSync(join(BACKEND_DIR, 'dist', 'main.js'))).toBe(true);
      expect(existsSync(join(BACKEND_DIR, 'dist', 'adapters', 'store', 'migrations', '001_inbox.sql'))).toBe(true);
      // tsc compiled the backend only: the contracts sources it reads through node_modules are not emitted into it.
      expect(existsSync(join(BACKEND_DIR, 'dist', 'packages'))).toBe(false);
      expect(existsSync(join(BACKEND_DIR, 'dist', 'index.js'))).toBe(false);

      // Runtime stage, in order.
      const user = only(runtime, 'USER').args;
      for (const i of runtime.instructions) {
        if (i.keyword === 'COPY') {
          const parts = i.args.split(' ');
          const dest = parts.pop() as string;
          for (const source of parts) {
            const from = i.flags.from ? join(REPO, source.slice(workdir.length + 1)) : join(REPO, source);
            const to = dest.endsWith('/') ? join(inApp(dest), source.split('/').pop() as string) : inApp(dest);
            mkdirSync(dirname(to), { recursive: true });
            cpSync(from, to, { recursive: true });
          }
        } else if (i.keyword === 'RUN') {
          for (const step of steps(i)) {
            if (step.startsWith('npm cache clean')) continue; // empties the image's cache; here it would be the machine's
            if (step.startsWith('npm ')) {
              // Offline: the packages come from the npm cache the install of this tree filled; no registry traffic.
              sh(step, app, { ...baseEnv(), npm_config_offline: 'true' });
            } else if (step.startsWith('mkdir -p ')) {
              for (const dir of step.slice('mkdir -p '.length).split(' ')) mkdirSync(inApp(dir), { recursive: true });
            } else if (step.startsWith('chown ')) {
              expect(step.split(' ')[1]).toBe(`${user}:${user}`); // the unprivileged user owns what it writes
            } else {
              throw new Error(`the deploy test does not know how to play this RUN step: ${step}`);
            }
          }
        }
      }
      // What node backend/dist/main.js needs is there; the TypeScript toolchain is not.
      const modules = join(app, 'node_modules');
      const backendPkg = JSON.parse(readFileSync(join(BACKEND_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      for (const dep of Object.keys(backendPkg.dependencies)) expect(existsSync(join(modules, dep))).toBe(true);
      for (const dev of ['tsx', 'typescript', 'jest', 'ts-jest', 'esbuild']) expect(existsSync(join(modules, dev))).toBe(false);
      const resolved = spawnSync(process.execPath, [cmd[1], '-p', "require.resolve('@stripe-hubspot-sync/contracts')"], {
        cwd: join(app, 'backend'),
        env: baseEnv(),
        encoding: 'utf8',
      });
      expect(resolved.stdout.trim()).toBe(join(app, 'packages', 'contracts', 'dist', 'index.js'));

      // Start the CMD with compose's environment: PostgreSQL when the suite has one, else the embedded database
      // (which production refuses unless the operator opts in). Listening on loopback here, 0.0.0.0 in the image.
      const port = await freePort();
      const composeEnv = compose.services.backend.environment ?? {};
      let storage: Record<string, string>;
      if (process.env.DATABASE_URL) {
        database = await freshDatabase('postgres');
        storage = { DATABASE_URL: database.url as string };
      } else {
        storage = { ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION: 'true', DATA_DIR: inApp(envOf(runtime).DATA_DIR) };
      }
      const env: NodeJS.ProcessEnv = {
        ...baseEnv(),
        ...envOf(runtime),
        ...composeEnv,
        ...storage,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRETS.join(','),
      };
      if (!process.env.DATABASE_URL) delete env.DATABASE_URL;
      const child = spawn(process.execPath, cmd.slice(1), { cwd: inApp(workdir), env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve, reject) => {
        child.once('exit', (code) => resolve(code));
        child.once('error', reject);
      });
      let done = false;
      void exited.then(() => (done = true));
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitFor(
          async () => {
            if (done) throw new Error(`the image's CMD exited before it was ready:\n${output}`);
            const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
            return res?.status === 200;
          },
          { timeoutMs: 90_000, intervalMs: 200, what: "the image's CMD to answer /healthz" },
        );
        // The image's HEALTHCHECK command, as Docker runs it inside the container.
        const health = execForm(only(runtime, 'HEALTHCHECK').args);
        const check = spawnSync(process.execPath, health.slice(1), { env: { ...baseEnv(), PORT: String(port) }, encoding: 'utf8', timeout: 10_000 });
        expect(check.status).toBe(0);

        const event = stripeEvent('customer.created', stripeObject('customer', { id: randomId('cus') }));
        expect(await postWebhook(url, event)).toEqual({ status: 200, body: { received: true, duplicate: false } });
        expect((await postWebhook(url, event)).body).toEqual({ received: true, duplicate: true });
      } finally {
        if (!done) child.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
      expect(output).not.toContain('"level":"error"');
    });
  });
});
