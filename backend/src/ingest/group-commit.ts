/**
 * Group commit: items submitted while a write is in flight are written together by the next write, so N
 * concurrent requests cost about one transaction instead of N. A write starts when the current one finishes
 * (at most `maxInFlight` at a time), or at the end of the current event-loop turn when none is running, and
 * takes at most `maxBatch` items.
 */

export interface GroupCommitOptions {
  /** Most items one write takes. */
  maxBatch: number;
  /** Writes running at once (1 = the next batch accumulates while the current one commits). */
  maxInFlight?: number;
  /**
   * When a write of several items fails with an error for which this answers true, the batch is split in halves
   * and each half written again, so one bad item fails alone instead of failing its neighbours.
   */
  isolate?: (err: unknown) => boolean;
  /** Called after each successful write with its size and duration. */
  onWrite?: (size: number, seconds: number) => void;
}

interface Pending<I, O> {
  item: I;
  resolve(value: O): void;
  reject(err: unknown): void;
}

export class GroupCommitter<I, O> {
  private pending: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  /** `write` answers one output per item, in order, or throws (then every item of that write fails). */
  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly options: GroupCommitOptions,
  ) {
    if (!(options.maxBatch >= 1)) throw new Error('maxBatch must be at least 1');
    this.maxBatch = options.maxBatch;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  }

  /** Resolves with the item's output once the write that carried it has committed. */
  submit(item: I): Promise<O> {
    if (this.closed) return Promise.reject(new GroupCommitClosedError());
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Items waiting or being written. */
  get size(): number {
    return this.pending.length;
  }

  /** Refuses new items and resolves once everything submitted has been written (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pending.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.pending.length >= this.maxBatch && this.inFlight < this.maxInFlight) this.startWrite();
    if (this.pending.length > 0 && this.inFlight < this.maxInFlight && !this.scheduled) {
      // Wait for the rest of this event-loop turn: requests parsed in the same turn share the write.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (this.pending.length > 0 && this.inFlight < this.maxInFlight) this.startWrite();
        this.pump();
      });
    }
  }

  private startWrite(): void {
    const batch = this.pending.splice(0, this.maxBatch);
    this.inFlight += 1;
    void this.writeIsolating(batch).finally(() => {
      this.inFlight -= 1;
      // Whatever accumulated meanwhile goes now.
      while (this.pending.length > 0 && this.inFlight < this.maxInFlight) this.startWrite();
      if (this.pending.length === 0 && this.inFlight === 0) {
        for (const w of this.idleWaiters.splice(0)) w();
      }
    });
  }

  private async writeIsolating(batch: Pending<I, O>[]): Promise<void> {
    const started = performance.now();
    let outputs: O[];
    try {
      outputs = await this.write(batch.map((p) => p.item));
      if (outputs.length !== batch.length) throw new Error(`write answered ${outputs.length} outputs for ${batch.length} items`);
    } catch (err) {
      if (batch.length > 1 && this.options.isolate?.(err)) {
        const half = Math.ceil(batch.length / 2);
        await this.writeIsolating(batch.slice(0, half));
        await this.writeIsolating(batch.slice(half));
        return;
      }
      for (const p of batch) p.reject(err);
      return;
    }
    this.options.onWrite?.(batch.length, (performance.now() - started) / 1000);
    batch.forEach((p, i) => p.resolve(outputs[i]));
  }
}

export class GroupCommitClosedError extends Error {
  constructor() {
    super('the writer is closed (shutting down)');
    this.name = 'GroupCommitClosedError';
  }
}
