/**
 * How `npm start` launches the server (the backend's `start` script: `NAME=value … node <flags> --import tsx
 * src/main.ts`), for a server process a bench spawns itself (`spawnServerProcess` runs `node --import tsx
 * src/main.ts`): the same environment assignments (the C library's allocator settings) and the same node and V8
 * flags, so the bench measures the process as `npm start` runs it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StartLaunch {
  /** `NAME=value` assignments in front of `node`. */
  env: Record<string, string>;
  /** The flags between `node` and `--import`/the script. */
  nodeArgs: string[];
}

/** Parses a `start` script of the form `[NAME=value …] node [--flag …] (--import tsx )?<script>`. */
export function parseStartScript(script: string): StartLaunch {
  const tokens = script.trim().split(/\s+/);
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < tokens.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(tokens[i]); i++) {
    const eq = tokens[i].indexOf('=');
    env[tokens[i].slice(0, eq)] = tokens[i].slice(eq + 1);
  }
  if (tokens[i] !== 'node') throw new Error(`start script: expected node after the environment, found ${tokens[i] ?? 'nothing'}`);
  const nodeArgs: string[] = [];
  for (i += 1; i < tokens.length && tokens[i].startsWith('--') && tokens[i] !== '--import'; i++) nodeArgs.push(tokens[i]);
  return { env, nodeArgs };
}

export function startScriptLaunch(): StartLaunch {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return parseStartScript(pkg.scripts.start);
}
