import type { Db } from '../../adapters/store/db';
import { committedReadModelGeneration } from '../../adapters/store/read-model-generation';

/**
 * The card's answers kept between views of a contact, on either database, and never answered stale: an answer is
 * kept with the read model's generation read before it was built, and given again only when a generation read
 * after the request arrived is the same.
 *
 * - Embedded (PGlite): this process is the only writer and counts its own writes (`Db.readModelGeneration`): no
 *   query at all.
 * - PostgreSQL: every instance writes. The generation lives in the database (migration 021: each transaction that
 *   writes a read-model table moves it at its commit, whichever instance ran it), and each request reads it with
 *   one tiny prepared query — shared by the requests that arrived before that query was sent (`sharedAfterAsking`),
 *   so at 20 concurrent views one query answers several. A change applied anywhere is seen by the next request
 *   anywhere: its commit moved the sum before the apply returned, and the request's read starts after it arrived.
 *   (LISTEN/NOTIFY alone would not do: a notification arrives some time after the commit, and a request in between
 *   would be answered stale.)
 *
 * Only linked answers are kept: "not linked" may hang on something outside the database (HubSpot telling the
 * private-app token's portal), so it is asked again each time.
 */

export type Generation = number | string;

/** Most contacts whose answer is kept (the oldest kept goes first). */
const MAX_ENTRIES = 10_000;

/** The generation now, by the database's kind; undefined: nothing can be kept (another driver). */
export function generationSource(db: Db): (() => Generation | Promise<Generation>) | undefined {
  if (db.readModelGeneration) return db.readModelGeneration.bind(db);
  if (db.kind === 'postgres') return sharedAfterAsking(() => committedReadModelGeneration(db));
  return undefined;
}

/**
 * `probe`, with concurrent callers sharing one call — but only a call made after they asked (a call already on its
 * way may have read the database before they arrived). At most one call runs; callers arriving meanwhile share the
 * next, made as soon as it settles.
 */
export function sharedAfterAsking<T>(probe: () => Promise<T>): () => Promise<T> {
  let running = false;
  let next: { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } | undefined;
  const start = (): Promise<T> => {
    running = true;
    const call = probe();
    void call.then(settled, settled);
    return call;
  };
  function settled() {
    running = false;
    if (!next) return;
    const waiting = next;
    next = undefined;
    start().then(waiting.resolve, waiting.reject);
  }
  return () => {
    if (!running) return start();
    if (!next) {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      next = { promise, resolve, reject };
    }
    return next.promise;
  };
}

/** Answers kept per key with the generation they were built at. */
export function answerCache<V>(generation: () => Generation | Promise<Generation>) {
  const kept = new Map<string, { generation: Generation; value: V }>();
  return {
    /**
     * The answer kept for `key` if the read model has not moved since it was built, else `build()`'s (kept when
     * `keep` says so). The generation is read before building: a write that lands meanwhile makes it stale at once.
     */
    async get(key: string, build: () => Promise<V>, keep: (value: V) => boolean): Promise<V> {
      const now = await generation();
      const hit = kept.get(key);
      if (hit && hit.generation === now) return hit.value;
      const value = await build();
      kept.delete(key);
      if (keep(value)) kept.set(key, { generation: now, value });
      if (kept.size > MAX_ENTRIES) kept.delete(kept.keys().next().value as string);
      return value;
    },
  };
}
