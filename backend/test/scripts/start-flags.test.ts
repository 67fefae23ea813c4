import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStartScript, startScriptLaunch } from '../../bench/lib/start-flags';
import { spawnServerProcess } from '../helpers/server';

/** The benches start the server as `npm start` does: its allocator settings and node flags, parsed from the script. */

describe('parseStartScript', () => {
  it('takes the NAME=value assignments before node, the flags, and the loader apart', () => {
    expect(parseStartScript('A_B=2 C_=65536 node --x=1 --y --import tsx src/main.ts')).toEqual({
      env: { A_B: '2', C_: '65536' },
      nodeArgs: ['--x=1', '--y'],
      loader: ['--import', 'tsx'],
    });
    expect(parseStartScript('node --x=1 --require tsx/cjs --z src/main.ts')).toEqual({ env: {}, nodeArgs: ['--x=1', '--z'], loader: ['--require', 'tsx/cjs'] });
    expect(parseStartScript('node --x=1 dist/main.js')).toEqual({ env: {}, nodeArgs: ['--x=1'], loader: [] });
  });

  it('refuses a script that does not run node', () => {
    expect(() => parseStartScript('FOO=1 tsx src/main.ts')).toThrow(/expected node/);
  });

  it("reads the backend's start script: the allocator bounded, the heap capped, TypeScript loaded in the main thread", () => {
    const { env, nodeArgs, loader } = startScriptLaunch();
    expect(env).toMatchObject({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536' });
    expect(nodeArgs).toEqual(expect.arrayContaining(['--max-old-space-size=512', '--max-semi-space-size=3', '--v8-pool-size=1']));
    // tsx's require hook: `--import tsx` would also start the ESM loader's hooks thread (~30 MB resident for nothing:
    // the backend is CommonJS).
    expect(loader).toEqual(['--require', 'tsx/cjs']);
  });
});

describe('a server spawned with the start launch', () => {
  it('runs with the allocator settings in its environment and the flags on its command line', async () => {
    if (process.platform !== 'linux') return; // /proc
    const dataDir = mkdtempSync(join(tmpdir(), 'shs-start-flags-'));
    const launch = startScriptLaunch();
    const server = await spawnServerProcess({ nodeArgs: launch.nodeArgs, env: { ...launch.env, DATA_DIR: dataDir } });
    try {
      const pid = server.child.pid as number;
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      for (const [k, v] of Object.entries(launch.env)) expect(environ).toContain(`${k}=${v}`);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(cmdline).toEqual(expect.arrayContaining(launch.nodeArgs));
      expect(cmdline.join(' ')).toContain(` ${launch.loader.join(' ')} src/main.ts`);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.stop('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
