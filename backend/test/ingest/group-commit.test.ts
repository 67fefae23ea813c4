import { GroupCommitClosedError, GroupCommitter } from '../../src/ingest/group-commit';

/** A write function that records each batch and finishes when the test releases it. */
function controlledWriter() {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  let failWith: ((items: number[]) => unknown) | undefined;
  const write = async (items: number[]) => {
    batches.push(items);
    await new Promise<void>((r) => releases.push(r));
    const err = failWith?.(items);
    if (err) throw err;
    return items.map((i) => i * 10);
  };
  return {
    write,
    batches,
    releaseAll: () => releases.splice(0).forEach((r) => r()),
    failWhen: (f: (items: number[]) => unknown) => (failWith = f),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommitter', () => {
  it('writes items submitted in the same turn together, and the next ones once the write finishes', async () => {
    const w = controlledWriter();
    const gc = new GroupCommitter(w.write, { maxBatch: 100 });
    const first = [1, 2, 3].map((i) => gc.submit(i));
    await tick();
    expect(w.batches).toEqual([[1, 2, 3]]);
    // While the first write is in flight, new items wait and go together in the next one.
    const second = [4, 5, 6, 7].map((i) => gc.submit(i));
    await tick();
    expect(w.batches).toHaveLength(1);
    w.releaseAll();
    expect(await Promise.all(first)).toEqual([10, 20, 30]);
    await tick();
    expect(w.batches).toEqual([
      [1, 2, 3],
      [4, 5, 6, 7],
    ]);
    w.releaseAll();
    expect(await Promise.all(second)).toEqual([40, 50, 60, 70]);
  });

  it('never puts more than maxBatch items in one write', async () => {
    const w = controlledWriter();
    const gc = new GroupCommitter(w.write, { maxBatch: 4, maxInFlight: 2 });
    const all = Array.from({ length: 10 }, (_, i) => gc.submit(i));
    await tick();
    // Two full batches start at once (two in flight); the rest waits.
    expect(w.batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    for (let i = 0; i < 3; i++) {
      w.releaseAll();
      await tick();
    }
    expect(await Promise.all(all)).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
    expect(w.batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it('fails every item of a failed write, and isolates a bad item when asked', async () => {
    const w = controlledWriter();
    const bad = Object.assign(new Error('bad row'), { code: '22P02' });
    w.failWhen((items) => (items.includes(3) ? bad : undefined));
    const plain = new GroupCommitter(w.write, { maxBatch: 10 });
    const results = [1, 2, 3].map((i) => plain.submit(i).then(String, (e: Error) => e.message));
    await tick();
    w.releaseAll();
    expect(await Promise.all(results)).toEqual(['bad row', 'bad row', 'bad row']);

    const isolating = new GroupCommitter(w.write, { maxBatch: 10, isolate: (e) => e === bad });
    const isolated = [1, 2, 3, 4].map((i) => isolating.submit(i).then(String, (e: Error) => e.message));
    for (let i = 0; i < 10; i++) {
      w.releaseAll();
      await tick();
    }
    expect(await Promise.all(isolated)).toEqual(['10', '20', 'bad row', '40']);
  });

  it('close waits for the items in flight and refuses new ones', async () => {
    const w = controlledWriter();
    const gc = new GroupCommitter(w.write, { maxBatch: 10 });
    const p = gc.submit(1);
    await tick();
    let closed = false;
    const closing = gc.close().then(() => (closed = true));
    await tick();
    expect(closed).toBe(false);
    await expect(gc.submit(2)).rejects.toBeInstanceOf(GroupCommitClosedError);
    w.releaseAll();
    await closing;
    expect(await p).toBe(10);
    expect(closed).toBe(true);
  });
});
