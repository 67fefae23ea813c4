import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../helpers/server';

/**
 * A PostgreSQL cluster of its own for one test (so it can be restarted without touching the shared server
 * other test files use): initdb into a temporary directory, trust authentication, a free port on 127.0.0.1.
 * Built from the installed server binaries (`/usr/lib/postgresql/<version>/bin`, Debian's layout, or `pg_ctl`
 * on PATH). As root, the cluster runs as the `postgres` user (PostgreSQL refuses to run as root).
 */

const run = promisify(execFile);

export interface PrivatePostgres {
  url: string;
  port: number;
  dataDir: string;
  /** `pg_ctl restart -m fast`: connections are cut, the server is back when this resolves. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** The server log (for failure messages). */
  log(): Promise<string>;
}

/** The directory of `initdb`/`pg_ctl`, or undefined when no PostgreSQL server binaries are installed. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0], 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'initdb'))) return dir;
  }
  return undefined;
}

export async function startPrivatePostgres(bin: string): Promise<PrivatePostgres> {
  const base = mkdtempSync(join(tmpdir(), 'shs-private-pg-'));
  const dataDir = join(base, 'data');
  const logFile = join(base, 'server.log');
  const asRoot = process.getuid?.() === 0;
  let uid: number | undefined;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error('running as root, but there is no `postgres` user to run a private PostgreSQL cluster as');
    });
    uid = Number(stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(base, uid, gid);
    chmodSync(base, 0o700);
  }
  const pg = (tool: string, args: string[], timeoutMs = 60_000) => {
    const file = join(bin, tool);
    return asRoot
      ? run('runuser', ['-u', 'postgres', '--', file, ...args], { timeout: timeoutMs })
      : run(file, args, { timeout: timeoutMs });
  };
  const port = await freePort();
  await pg('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  // Small and fast: no fsync (a test cluster), unix socket in the data directory, TCP on 127.0.0.1 only.
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${base} -c fsync=off -c max_connections=60`;
  const ctl = (action: string[]) => pg('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options, ...action]);
  await ctl(['start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    restart: async () => void (await ctl(['restart', '-m', 'fast'])),
    async stop() {
      await ctl(['stop', '-m', 'immediate']).catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    },
    async log() {
      return existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    },
  };
}
