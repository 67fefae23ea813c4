import {
  MISSING_PROPERTY,
  PermanentHubSpotError,
  RetryableHubSpotError,
  asConnectionFailure,
  missingProperties,
  retryCategory,
} from './errors';

/**
 * Batch writes record by record: chunks of at most 100 inputs (never two inputs with the same identity in one
 * chunk), each answer matched back to its input (by `objectWriteTraceId`, else by identity values), a 207 handled
 * per record, and a whole-batch 4xx split so that one bad record does not fail the others: inputs the error names
 * are set aside and the rest is sent again; when it names none, the chunk is sent again in halves. A refusal that
 * names a property that does not exist is the same for every record: not split, every input gets
 * PROPERTY_DOESNT_EXIST (the caller re-creates the property and sends again). A refused connection (401/403,
 * `ConnectionHubSpotError`) is thrown: it is about the connection, never about one record.
 */

export type BatchResult =
  | { ok: true; id: string; isNew?: boolean }
  | {
      ok: false;
      /** True: HubSpot will answer the same again (dead-letter it). False: try again later. */
      permanent: boolean;
      message: string;
      category: string;
      status?: number;
      /** On a duplicate (409): the id of the contact that already holds the value. */
      existingId?: string;
    };

export const MAX_BATCH_INPUTS = 100;

export interface BatchItem<I> {
  index: number;
  input: I;
  /** Sent as `objectWriteTraceId`; HubSpot echoes it on results. */
  traceId: string;
  /** Identity values (lower-cased) that HubSpot's results and errors may name: id, idProperty value, email. */
  keys: string[];
}

export interface RawResult {
  id: string;
  isNew?: boolean;
  /** traceId and identity values found on the result (lower-cased). */
  keys: string[];
}

export interface RawBatchAnswer {
  results: RawResult[];
  errors: { status?: string; category?: string; message?: string; context?: Record<string, string[]> }[];
}

export type SendChunk<I> = (chunk: BatchItem<I>[]) => Promise<RawBatchAnswer>;

export function toItems<I>(inputs: I[], keysOf: (input: I) => (string | undefined)[]): BatchItem<I>[] {
  return inputs.map((input, index) => {
    const traceId = `shs-${index}`;
    const keys = [traceId, ...keysOf(input).filter((k): k is string => !!k).map((k) => k.toLowerCase())];
    return { index, input, traceId, keys };
  });
}

/** Runs every chunk and answers one result per input, in input order. */
export async function runBatch<I>(items: BatchItem<I>[], send: SendChunk<I>): Promise<BatchResult[]> {
  const out: BatchResult[] = new Array(items.length);
  for (const chunk of chunk100(items)) {
    for (const [item, result] of await sendResilient(chunk, send, 0)) out[item.index] = result;
  }
  return items.map((item) => out[item.index]!);
}

/** Chunks of ≤ 100 where no identity key (other than the trace id) appears twice. Order is kept per key. */
export function chunk100<I>(items: BatchItem<I>[]): BatchItem<I>[][] {
  const chunks: { items: BatchItem<I>[]; keys: Set<string> }[] = [];
  for (const item of items) {
    const identity = item.keys.slice(1);
    // The first chunk after the last one holding any of our keys, with room left.
    let start = 0;
    chunks.forEach((c, i) => {
      if (identity.some((k) => c.keys.has(k))) start = i + 1;
    });
    let target = chunks.slice(start).find((c) => c.items.length < MAX_BATCH_INPUTS);
    if (!target) {
      target = { items: [], keys: new Set() };
      chunks.push(target);
    }
    target.items.push(item);
    identity.forEach((k) => target.keys.add(k));
  }
  return chunks.map((c) => c.items);
}

type Pairs<I> = [BatchItem<I>, BatchResult][];

async function sendResilient<I>(chunk: BatchItem<I>[], send: SendChunk<I>, sameStreak: number): Promise<Pairs<I>> {
  let answer: RawBatchAnswer;
  try {
    answer = await send(chunk);
  } catch (err) {
    if (err instanceof RetryableHubSpotError) {
      return chunk.map((item) => [item, { ok: false, permanent: false, message: err.message, category: retryCategory(err.reason), status: err.status }]);
    }
    if (!(err instanceof PermanentHubSpotError)) throw err;
    const refused = asConnectionFailure(err);
    if (refused) throw refused;
    return splitOnFailure(chunk, send, err, sameStreak);
  }
  return matchAnswer(chunk, answer);
}

const SPLITTABLE = new Set([400, 409, 413, 422]);

async function splitOnFailure<I>(
  chunk: BatchItem<I>[],
  send: SendChunk<I>,
  err: PermanentHubSpotError,
  sameStreak: number,
): Promise<Pairs<I>> {
  const failed = (item: BatchItem<I>): [BatchItem<I>, BatchResult] => [item, failure(err)];
  if (chunk.length === 1 || !SPLITTABLE.has(err.status) || missingProperties(err).missing) return chunk.map(failed);

  // The error names some inputs: set them aside, send the rest again.
  const named = namedByError(chunk, err);
  if (named.size > 0 && named.size < chunk.length) {
    const rest = chunk.filter((i) => !named.has(i));
    return [...chunk.filter((i) => named.has(i)).map(failed), ...(await sendResilient(rest, send, 0))];
  }

  // Otherwise halves. When both halves fail alike twice in a row, the fault is in every record: stop there.
  const mid = Math.ceil(chunk.length / 2);
  const halves = [chunk.slice(0, mid), chunk.slice(mid)];
  const attempts = await Promise.all(halves.map((h) => trySend(h, send)));
  const alike = attempts.every((a) => a.error && a.error.category === err.category && a.error.message === err.message);
  if (alike && sameStreak >= 1) return chunk.map(failed);
  const pairs: Pairs<I> = [];
  for (let i = 0; i < 2; i++) {
    const a = attempts[i]!;
    if (a.error) pairs.push(...(await splitOnFailure(halves[i]!, send, a.error, alike ? sameStreak + 1 : 0)));
    else pairs.push(...a.pairs!);
  }
  return pairs;
}

async function trySend<I>(
  chunk: BatchItem<I>[],
  send: SendChunk<I>,
): Promise<{ pairs?: Pairs<I>; error?: PermanentHubSpotError }> {
  try {
    return { pairs: matchAnswer(chunk, await send(chunk)) };
  } catch (err) {
    if (err instanceof PermanentHubSpotError) {
      const refused = asConnectionFailure(err);
      if (refused) throw refused;
      return { error: err };
    }
    if (err instanceof RetryableHubSpotError) {
      return { pairs: chunk.map((item) => [item, { ok: false, permanent: false, message: err.message, category: retryCategory(err.reason), status: err.status }]) };
    }
    throw err;
  }
}

/** Inputs a whole-batch error names: by trace id / identity in its context, or by `inputs[N]` in its details. */
function namedByError<I>(chunk: BatchItem<I>[], err: PermanentHubSpotError): Set<BatchItem<I>> {
  const values = new Set<string>();
  const addContext = (ctx?: Record<string, string[]>) =>
    Object.values(ctx ?? {}).forEach((vs) => vs.forEach((v) => values.add(v.toLowerCase())));
  addContext(err.context);
  const positions = new Set<number>();
  for (const d of err.details) {
    addContext(d.context);
    for (const m of `${d.in ?? ''} ${d.message}`.matchAll(/inputs\[(\d+)\]/g)) positions.add(Number(m[1]));
  }
  return new Set(chunk.filter((item, pos) => positions.has(pos) || item.keys.some((k) => values.has(k))));
}

function matchAnswer<I>(chunk: BatchItem<I>[], answer: RawBatchAnswer): Pairs<I> {
  const byKey = new Map<string, BatchItem<I>>();
  for (const item of chunk) for (const k of item.keys) if (!byKey.has(k)) byKey.set(k, item);
  const done = new Map<BatchItem<I>, BatchResult>();
  const unmatchedResults: RawResult[] = [];

  for (const r of answer.results) {
    const item = r.keys.map((k) => byKey.get(k.toLowerCase())).find((i) => i && !done.has(i));
    if (item) done.set(item, { ok: true, id: r.id, ...(r.isNew === undefined ? {} : { isNew: r.isNew }) });
    else unmatchedResults.push(r);
  }
  const unmatchedErrors: RawBatchAnswer['errors'] = [];
  for (const e of answer.errors) {
    const values = Object.values(e.context ?? {}).flat().map((v) => v.toLowerCase());
    const items = chunk.filter((i) => !done.has(i) && i.keys.some((k) => values.includes(k)));
    if (items.length === 0) unmatchedErrors.push(e);
    for (const item of items) done.set(item, fromStandardError(e));
  }
  const left = chunk.filter((i) => !done.has(i));
  // Answers that name nothing we sent: only safe to pair when the counts leave no doubt.
  if (left.length > 0 && unmatchedResults.length === left.length && unmatchedErrors.length === 0) {
    left.forEach((item, i) => done.set(item, { ok: true, id: unmatchedResults[i]!.id, ...(unmatchedResults[i]!.isNew === undefined ? {} : { isNew: unmatchedResults[i]!.isNew }) }));
  } else if (left.length === 1 && unmatchedErrors.length === 1 && unmatchedResults.length === 0) {
    done.set(left[0]!, fromStandardError(unmatchedErrors[0]!));
  }
  return chunk.map((item) => [
    item,
    done.get(item) ?? { ok: false, permanent: false, category: 'NO_RESULT', message: 'HubSpot answered nothing for this input' },
  ]);
}

function fromStandardError(e: RawBatchAnswer['errors'][number]): BatchResult {
  const status = e.status !== undefined && /^\d+$/.test(e.status) ? Number(e.status) : undefined;
  const category = e.category ?? 'UNKNOWN';
  const retryable = (status !== undefined && (status >= 500 || status === 429 || status === 423)) || category === 'RATE_LIMITS';
  const message = e.message ?? 'HubSpot rejected this input';
  const missing = missingProperties({ message }).missing;
  return { ok: false, permanent: !retryable, message, category: missing ? MISSING_PROPERTY : category, ...(status ? { status } : {}), ...existing(message) };
}

function failure(err: PermanentHubSpotError): BatchResult {
  const category = missingProperties(err).missing ? MISSING_PROPERTY : err.category;
  return { ok: false, permanent: true, message: err.message, category, status: err.status, ...existing(err.message) };
}

function existing(message: string): { existingId?: string } {
  const m = /Existing ID: ?(\d+)/i.exec(message);
  return m ? { existingId: m[1] } : {};
}
