/**
 * Whether this process's event worker has a backlog: its last fetch came back full (more jobs were waiting) and was
 * recent. The destination pusher waits on it (bounded) before each pass, so that during a burst the CPU and the
 * database go to applying the events — which every destination, HubSpot first, waits on — and a destination writes
 * each customer once the burst is applied rather than at every intermediate state.
 *
 * Process-local on purpose, like the ingest pressure (pressure.ts): it is about this machine's CPU. Several instances
 * on one PostgreSQL each judge their own worker; nothing about correctness hangs on it.
 */
export class ApplyBacklog {
  private lastFullAt = -Infinity;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: { windowMs?: number; now?: () => number } = {}) {
    this.windowMs = options.windowMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
  }

  /** A fetch of the event worker: `taken` jobs of the `asked` it asked for. */
  recordFetch(taken: number, asked: number): void {
    this.lastFullAt = taken >= asked && taken > 0 ? this.now() : -Infinity;
  }

  /** The worker's last fetch was full and within the window: events are waiting to be applied. */
  busy(): boolean {
    return this.now() - this.lastFullAt < this.windowMs;
  }
}

/** Something more urgent than background writes (acknowledgements, applies) that they wait on, bounded. */
export interface Foreground {
  busy(): boolean;
}

/** Either is busy. */
export function foregroundOf(...parts: readonly (Foreground | undefined)[]): Foreground {
  const present = parts.filter((p): p is Foreground => p !== undefined);
  return { busy: () => present.some((p) => p.busy()) };
}

/**
 * Resolves once `fg` is not busy, or after `maxMs`; answers how long it waited (ms). Checks every `stepMs`.
 */
export async function waitForQuiet(fg: Foreground, maxMs: number, stepMs = 50, now: () => number = () => performance.now()): Promise<number> {
  const started = now();
  while (fg.busy() && now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(stepMs, maxMs - (now() - started)))));
  }
  return now() - started;
}
