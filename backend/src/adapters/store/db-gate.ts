import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who is waiting on a database operation. `interactive`: a client waits for the answer (an HTTP request: a
 * Stripe webhook's acknowledgement, the card, the app API). `background`: nobody does (event jobs, the pusher,
 * pg-boss's own statements and maintenance). Work is background unless it runs inside `runInLane('interactive')`.
 */
export type Lane = 'interactive' | 'background';

const lanes = new AsyncLocalStorage<Lane>();

/** Runs `fn` (and whatever it starts) in `lane`. */
export function runInLane<T>(lane: Lane, fn: () => T): T {
  return lanes.run(lane, fn);
}

/** The lane of the calling code (background unless marked). */
export function currentLane(): Lane {
  return lanes.getStore() ?? 'background';
}

export interface ConnectionGateOptions {
  /**
   * The share of the connection's time background work is owed while both lanes wait (default 0.5): interactive
   * work goes first, and background work still progresses under a continuous interactive load (the event jobs of
   * a flood are applied while the flood is acknowledged).
   */
  backgroundShare?: number;
  /** The most background time owed at once, ms (default 50): bounds how long an interactive operation can wait. */
  maxCreditMs?: number;
  /**
   * Longest stretch, ms, that background work keeps the thread without the event loop taking a turn (default 20):
   * past it, the next background statement waits for the next turn (see `ConnectionGate.turn`).
   */
  sliceMs?: number;
}

export interface LaneStats {
  /** Operations granted. */
  granted: number;
  /** Total and longest time from asking to being granted, ms. */
  waitMs: number;
  maxWaitMs: number;
  /** Total and longest time holding the connection, ms. */
  holdMs: number;
  maxHoldMs: number;
}

interface Waiter {
  grant(): void;
}

/**
 * A two-lane gate in front of a connection that runs one operation at a time (the embedded PGlite). Operations
 * are granted one at a time, each lane in order. A free connection goes to an interactive waiter, unless
 * background work is owed time: while background work waits, each interactive operation earns it
 * `backgroundShare / (1 - backgroundShare)` of its own duration (at most `maxCreditMs` owed), and background
 * operations run while nothing interactive waits or while they are owed time, which they then spend. So an
 * interactive operation waits for the operation holding the connection and at most `maxCreditMs` (plus one
 * operation's overrun) of background work, and only when interactive work has just held the connection; under a
 * continuous interactive load background work keeps about its share of the time and is never starved.
 *
 * PGlite runs in this thread, and statements that follow each other through resolved promises never let the event
 * loop read a socket: once background work has kept the thread `sliceMs` without a turn of the event loop, its
 * next operation is granted at the next turn, so a request that arrived meanwhile is read first and its statements
 * go ahead.
 *
 * An operation holds the gate until it settles: a transaction for its whole duration. A statement issued while
 * the gate is held by the caller's own transaction (outside the transaction's handle) would wait forever — as it
 * already would on PGlite's own lock; statements of a transaction go through its handle, not the gate.
 */
export class ConnectionGate {
  private readonly earnRatio: number;
  private readonly maxCreditMs: number;
  /** Background time owed, ms (negative: background held the connection beyond what it was owed). */
  private credit = 0;
  private held = false;
  /** A background grant waits for the next turn of the event loop. */
  private turnPending = false;
  private readonly sliceMs: number;
  /** When the current stretch without a turn of the event loop began (while `watching`). */
  private sliceStart = 0;
  private watching = false;
  private readonly waiting: Record<Lane, Waiter[]> = {
    interactive: [],
    background: [],
  };
  private readonly stats: Record<Lane, LaneStats> = {
    interactive: emptyStats(),
    background: emptyStats(),
  };

  constructor(options: ConnectionGateOptions = {}) {
    const share = Math.min(0.9, Math.max(0.05, options.backgroundShare ?? 0.5));
    this.earnRatio = share / (1 - share);
    this.maxCreditMs = Math.max(0, options.maxCreditMs ?? 50);
    this.sliceMs = Math.max(0, options.sliceMs ?? 20);
  }

  /** Runs `op` once granted the connection, in `lane` (default: the caller's); holds it until `op` settles. */
  async run<T>(op: () => Promise<T>, lane: Lane = currentLane()): Promise<T> {
    const asked = performance.now();
    await this.acquire(lane);
    const granted = performance.now();
    const s = this.stats[lane];
    s.granted += 1;
    s.waitMs += granted - asked;
    s.maxWaitMs = Math.max(s.maxWaitMs, granted - asked);
    try {
      return await op();
    } finally {
      const held = performance.now() - granted;
      s.holdMs += held;
      s.maxHoldMs = Math.max(s.maxHoldMs, held);
      this.release(lane, held);
    }
  }

  /** Operations waiting per lane. */
  get queued(): Record<Lane, number> {
    return {
      interactive: this.waiting.interactive.length,
      background: this.waiting.background.length,
    };
  }

  /** What each lane waited and held so far. */
  laneStats(): Record<Lane, LaneStats> {
    return {
      interactive: { ...this.stats.interactive },
      background: { ...this.stats.background },
    };
  }

  /**
   * Resolves at the next turn of the event loop, after the I/O waiting meanwhile (requests) has been read. PGlite
   * runs in this thread, and a chain of statements that each resolve at once never lets the event loop read a
   * socket: background work steps aside here between its statements.
   */
  static turn(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * Whether background work may go on without a turn of the event loop: the thread has not run `sliceMs` since
   * the last turn this gate saw.
   */
  inSlice(): boolean {
    const now = performance.now();
    if (!this.watching) {
      this.watching = true;
      this.sliceStart = now;
      setImmediate(() => (this.watching = false));
      return true;
    }
    return now - this.sliceStart < this.sliceMs;
  }

  /** For the statements of a background transaction: a turn of the event loop when the slice is spent. */
  pause(): Promise<void> | undefined {
    return this.inSlice() ? undefined : ConnectionGate.turn();
  }

  private acquire(lane: Lane): Promise<void> {
    return new Promise<void>((grant) => {
      this.waiting[lane].push({ grant });
      this.dispatch();
    });
  }

  /** The lane whose oldest waiter goes next, if any waits. */
  private nextLane(): Lane | undefined {
    const { interactive, background } = this.waiting;
    if (interactive.length > 0 && (background.length === 0 || this.credit <= 0)) return 'interactive';
    if (background.length > 0) return 'background';
    return undefined;
  }

  /**
   * Grants the free connection: to an interactive waiter at once; to a background one at once within the slice,
   * else at the next turn of the event loop, so that requests that arrived meanwhile are read first and their
   * statements go ahead.
   */
  private dispatch(): void {
    if (this.held) return;
    const lane = this.nextLane();
    if (lane === 'interactive') return this.grant(lane);
    if (lane === undefined || this.turnPending) return;
    if (this.inSlice()) return this.grant(lane);
    this.turnPending = true;
    setImmediate(() => {
      this.turnPending = false;
      if (this.held) return;
      const now = this.nextLane();
      if (now) this.grant(now);
    });
  }

  private grant(lane: Lane): void {
    const next = this.waiting[lane].shift() as Waiter;
    this.held = true;
    next.grant();
  }

  private release(lane: Lane, heldMs: number): void {
    this.held = false;
    if (lane === 'interactive' && this.waiting.background.length > 0) {
      this.credit = Math.min(this.maxCreditMs, this.credit + heldMs * this.earnRatio);
    } else if (lane === 'background' && this.waiting.interactive.length > 0) {
      // Time an interactive operation waited through is spent; beyond it, owed back (at most ten credits' worth).
      this.credit = Math.max(-10 * this.maxCreditMs, this.credit - heldMs);
    }
    this.dispatch();
  }
}

function emptyStats(): LaneStats {
  return { granted: 0, waitMs: 0, maxWaitMs: 0, holdMs: 0, maxHoldMs: 0 };
}
