import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How the embedded database (PGlite: PostgreSQL compiled to WebAssembly, inside the server process) is sized and
 * created. Its WebAssembly memory starts at 128 MB (the module's minimum) and never shrinks once grown, so what
 * makes it grow is bounded here, and the one-time creation of a database runs in a short-lived child process.
 * Only the pages PostgreSQL touches are resident: about 35 MB through the bench's burst, latency curve and
 * 10,000-customer backfill, while `/metrics` counts the memory's whole size as external memory (README,
 * "Memory of the embedded server").
 */

/**
 * PostgreSQL settings the embedded database starts with (`-c name=value` on its command line, on top of PGlite's
 * own; nothing is written to its postgresql.conf). Each bounds memory inside the server process:
 *
 * - `shared_buffers` 16MB (PostgreSQL's default is 128MB): the buffer pool lives inside the WebAssembly memory; at
 *   128MB it grows that memory past its 128 MB start (to 188 MB) and fills it with pages as the database grows. A
 *   page not in the pool is read from the operating system's file cache: reading back 5,000 random events of a
 *   20,000-event inbox took about 1.4x the CPU of the 128MB pool (32MB: 1.2x), acknowledgements were not slower
 *   (`npm run bench -- ingest`). `wal_buffers` follows (1/32: 512kB).
 * - `maintenance_work_mem` 16MB (default 64MB): what one CREATE INDEX or VACUUM may take; the migrations build
 *   indexes, and a grown WebAssembly memory is never given back.
 *
 * `work_mem` stays 4MB (one sort or hash per query node), `temp_buffers` 8MB (temporary tables only).
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
  maintenance_work_mem: '16MB',
};

/** PGlite's start parameters plus `PGLITE_SETTINGS`. */
export function pgliteStartParams(defaults: readonly string[]): string[] {
  return [...defaults, ...Object.entries(PGLITE_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

// Run by `node -e` in the child: argv[1] is PGlite's CommonJS entry, argv[2] the data directory.
const CREATE_SCRIPT = `
const { PGlite } = require(process.argv[1]);
PGlite.create(process.argv[2])
  .then((pg) => pg.close())
  .then(() => process.exit(0), (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
`;

/** Longest a database creation may take (it takes a few seconds). */
const CREATE_TIMEOUT_MS = 180_000;

/**
 * Creates the embedded database in `dataDir` when it holds none yet (no `PG_VERSION`), in a child process that
 * exits when done. Creating one runs PostgreSQL's initdb, which PGlite does with a second PostgreSQL instance and
 * initdb's own WebAssembly module beside the first: about 950 MB resident at its peak, and a process's memory high
 * enough to be taken for its steady need. In a child it is given back to the system when the child exits, and
 * the server opens a database that exists. Throws, with the child's error, when the database cannot be created.
 */
export async function createPgliteDataDir(dataDir: string): Promise<boolean> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return false;
  const entry = require.resolve('@electric-sql/pglite');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', CREATE_SCRIPT, entry, dataDir],
      // NODE_OPTIONS is not passed on: the child needs no loader or inspector of its parent.
      { timeout: CREATE_TIMEOUT_MS, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 1024 * 1024 },
      (err, _stdout, stderr) => {
        if (!err) return resolve();
        const detail = stderr.trim()
          ? stderr.trim().split('\n').slice(-5).join('\n')
          : err.killed
            ? `no answer within ${CREATE_TIMEOUT_MS / 1000} s`
            : `the creating process exited with ${String(err.code ?? err.signal)}`;
        reject(new Error(`could not create the embedded database in ${dataDir}: ${detail}`));
      },
    );
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) throw new Error(`could not create the embedded database in ${dataDir}: no PG_VERSION after initdb`);
  return true;
}
