import { ConnectionGate, currentLane, runInLane, type Lane } from './db-gate';
import { openDb, type Db } from './db';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps the thread busy for `ms`, as PGlite's statements do (they run in this thread). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

/** Loops of operations in one lane until `stop()`; each operation lasts `ms` (awaited, not spinning). */
function load(gate: ConnectionGate, lane: Lane, loops: number, ms: number, log?: string[]) {
  let running = true;
  let done = 0;
  const all = Array.from({ length: loops }, async () => {
    while (running) {
      await gate.run(async () => {
        log?.push(`${lane}:start`);
        await sleep(ms);
        log?.push(`${lane}:end`);
      }, lane);
      done += 1;
    }
  });
  return {
    get done() {
      return done;
    },
    async stop() {
      running = false;
      await Promise.all(all);
    },
  };
}

describe('ConnectionGate', () => {
  it('grants an interactive operation after at most the background operation holding the connection', async () => {
    const gate = new ConnectionGate();
    const log: string[] = [];
    const background = load(gate, 'background', 4, 10, log);
    await sleep(35);
    for (let i = 0; i < 5; i++) {
      const asked = log.length;
      await gate.run(async () => {
        // Since it asked: at most the end of the one background operation that held the connection.
        const between = log.slice(asked);
        expect(between.filter((e) => e === 'background:start')).toHaveLength(0);
        expect(between.filter((e) => e === 'background:end').length).toBeLessThanOrEqual(1);
        log.push('interactive');
      }, 'interactive');
      // Background work gets its turn between interactive operations that follow one another.
      await sleep(25);
    }
    await background.stop();
    // In time: the wait is bounded by the longest background operation held, not by a fixed figure (a 10 ms
    // operation takes far longer on a loaded machine), plus a turn of the event loop.
    const stats = gate.laneStats();
    expect(stats.interactive.maxWaitMs).toBeLessThanOrEqual(stats.background.maxHoldMs + 50);
  });

  it('keeps background work progressing, at about its share of the time, under a continuous interactive load', async () => {
    const gate = new ConnectionGate({ backgroundShare: 0.5 });
    const interactive = load(gate, 'interactive', 4, 4);
    const background = load(gate, 'background', 2, 4);
    await sleep(600);
    await Promise.all([interactive.stop(), background.stop()]);
    const stats = gate.laneStats();
    expect(background.done).toBeGreaterThan(10);
    const share = stats.background.holdMs / (stats.background.holdMs + stats.interactive.holdMs);
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.7);
  });

  it('gives interactive work the connection first when background work is owed nothing', async () => {
    const gate = new ConnectionGate({ backgroundShare: 0.05 });
    const order: string[] = [];
    // One background operation holds; two of each lane queue behind it.
    const holding = gate.run(() => sleep(20), 'background');
    const queued = [
      gate.run(async () => void order.push('b1'), 'background'),
      gate.run(async () => void order.push('i1'), 'interactive'),
      gate.run(async () => void order.push('b2'), 'background'),
      gate.run(async () => void order.push('i2'), 'interactive'),
    ];
    await Promise.all([holding, ...queued]);
    expect(order.slice(0, 2)).toEqual(['i1', 'i2']);
    expect(order.slice(2)).toEqual(['b1', 'b2']);
  });

  it('lets the event loop take a turn while background work chains statements that keep the thread', async () => {
    const gate = new ConnectionGate({ sliceMs: 20 });
    let timerFiredAfter: number | undefined;
    const started = performance.now();
    setTimeout(() => (timerFiredAfter = performance.now() - started), 0);
    // 60 statements of 5 ms each that resolve at once: 300 ms of thread time with no I/O of their own.
    for (let i = 0; i < 60; i++) await gate.run(async () => spin(5), 'background');
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    // A timer (or a request) waits for at most about one slice, not for the whole chain.
    expect(timerFiredAfter).toBeDefined();
    expect(timerFiredAfter!).toBeLessThan(100);
  });

  it('tells work in the interactive lane from the rest, across awaits', async () => {
    expect(currentLane()).toBe('background');
    await runInLane('interactive', async () => {
      await sleep(1);
      expect(currentLane()).toBe('interactive');
    });
    expect(currentLane()).toBe('background');
  });
});

describe('the embedded database behind the gate', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDb({ dataDir: 'memory://' });
    await db.exec('CREATE TABLE gate_t (id int PRIMARY KEY, v text)');
  });
  afterAll(() => db?.close());

  it('runs a background transaction whole while interactive statements wait for it, then them, without deadlock', async () => {
    const seen: string[] = [];
    // The reads are issued once the transaction holds the connection (before that, interactive work rightly goes first).
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const tx = db.transaction(async (t) => {
      for (let i = 0; i < 20; i++) {
        await t.query('INSERT INTO gate_t (id, v) VALUES ($1, $2)', [i, 'tx']);
        if (i === 0) holding();
      }
      seen.push('tx');
      return (await t.query<{ n: number }>('SELECT count(*)::int AS n FROM gate_t')).rows[0].n;
    });
    await held;
    const reads = Array.from({ length: 5 }, () =>
      runInLane('interactive', async () => {
        const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM gate_t');
        seen.push('read');
        return rows[0].n;
      }),
    );
    expect(await tx).toBe(20);
    // Each interactive read saw the committed transaction whole, never a part of it.
    expect(await Promise.all(reads)).toEqual([20, 20, 20, 20, 20]);
    expect(seen[0]).toBe('tx');
  });

  it('rolls back a failed transaction and frees the connection for what waits', async () => {
    await expect(
      db.transaction(async (t) => {
        await t.query('INSERT INTO gate_t (id, v) VALUES (100, $1)', ['x']);
        await t.query('INSERT INTO gate_t (id, v) VALUES (100, $1)', ['dup']);
      }),
    ).rejects.toThrow();
    const [prepared, plain] = await Promise.all([
      runInLane('interactive', () => db.queryPrepared('gate_count', 'SELECT count(*)::int AS n FROM gate_t WHERE id >= $1', [100])),
      db.exec('SELECT 1 AS one'),
    ]);
    expect(prepared.rows).toEqual([{ n: 0 }]);
    expect(plain.rows).toEqual([{ one: 1 }]);
  });
});
