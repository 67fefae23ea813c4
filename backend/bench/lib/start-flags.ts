/**
 * The memory flags `npm start` gives the server (`--max-old-space-size=…`, `--max-semi-space-size=…`,
 * `--v8-pool-size=…` in the backend's `start` script), as NODE_OPTIONS for a server process a bench spawns itself
 * (`spawnServerProcess` runs `node --import tsx src/main.ts`): the bench measures the process as `npm start` runs it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const HEAP_FLAG = /^--(?:max-(?:old|semi)-space-size|v8-pool-size)=\d+$/;

export function startScriptNodeOptions(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return pkg.scripts.start
    .split(/\s+/)
    .filter((t) => HEAP_FLAG.test(t))
    .join(' ');
}
