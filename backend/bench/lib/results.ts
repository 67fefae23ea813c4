import { cpus, loadavg } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `backend/bench/results.json`: one key per bench section; a run replaces only its own section. */
export const RESULTS_PATH = join(__dirname, '..', 'results.json');

export function writeSection(name: string, data: unknown): void {
  const all: Record<string, unknown> = existsSync(RESULTS_PATH)
    ? (JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as Record<string, unknown>)
    : {};
  all[name] = data;
  writeFileSync(RESULTS_PATH, `${JSON.stringify(all, null, 2)}\n`);
}

/** Facts about the machine a result was measured on. */
export function machine(): Record<string, unknown> {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadavg: loadavg().map((l) => +l.toFixed(2)) };
}
