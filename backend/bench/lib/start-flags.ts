/**
 * How `npm start` launches the server (the backend's `start` script: `NAME=value … node <flags> --require tsx/cjs
 * src/main.ts`), for a server process a bench or a test spawns itself (`spawnServerProcess`): the same environment
 * assignments (the C library's allocator settings), the same node and V8 flags and the same TypeScript loader, so
 * what is measured and tested is the process as `npm start` runs it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StartLaunch {
  /** `NAME=value` assignments in front of `node`. */
  env: Record<string, string>;
  /** The flags between `node` and the script, but the loader's. */
  nodeArgs: string[];
  /** How TypeScript is loaded: `--require tsx/cjs` (or `--import tsx`), as written; empty for compiled JavaScript. */
  loader: string[];
}

/** Parses a `start` script of the form `[NAME=value …] node [--flag …] [--require|--import <module>] [--flag …] <script>`. */
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
  const loader: string[] = [];
  for (i += 1; i < tokens.length && tokens[i].startsWith('--'); i++) {
    if (tokens[i] === '--import' || tokens[i] === '--require') loader.push(tokens[i], tokens[++i]);
    else nodeArgs.push(tokens[i]);
  }
  return { env, nodeArgs, loader };
}

export function startScriptLaunch(): StartLaunch {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return parseStartScript(pkg.scripts.start);
}
