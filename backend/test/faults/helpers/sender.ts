import { postWebhook } from '../../helpers/server';
import type { Json } from './workload';

/**
 * Delivers events the way Stripe does: signed POSTs from several concurrent senders, and an event that was not
 * acknowledged with a 2xx (an error status, a refused or cut connection) is sent again later — here after a
 * short pause rather than Stripe's hours. Every answer is recorded so a test can check what the server said
 * while a fault was going on.
 */

export interface Delivery {
  eventId: string;
  /** HTTP status, or 0 when the request failed without an answer (connection refused or cut). */
  status: number;
  /** Which URL it went to. */
  url: string;
  at: number;
}

export interface SenderOptions {
  /** Where to send: called per attempt, so a test can move traffic (kill an instance, start another). */
  urls: () => string[];
  concurrency?: number;
  /** Pause before an event is sent again after a failed attempt (default 200 ms). */
  retryDelayMs?: number;
  /** Give up the whole stream after this long (default 60 s): the test then fails on what is missing. */
  deadlineMs?: number;
  /** Pause between two sends of one sender (default 0): a steady stream rather than a burst. */
  paceMs?: number;
  /** Stop sending when this holds (the test has failed: no point going on until the deadline). */
  shouldStop?: () => boolean;
  /** Called after every acknowledgement (e.g. to kill a process once N events are in). */
  onAck?: (ackedCount: number) => void;
}

export interface SendResult {
  /** Ids of the events answered 2xx. */
  acked: Set<string>;
  deliveries: Delivery[];
  /** Events never acknowledged before the deadline. */
  unacked: string[];
}

export async function deliverAll(events: Json[], opts: SenderOptions): Promise<SendResult> {
  const concurrency = opts.concurrency ?? 8;
  const retryDelayMs = opts.retryDelayMs ?? 200;
  const deadline = Date.now() + (opts.deadlineMs ?? 60_000);
  const over = () => Date.now() > deadline || opts.shouldStop?.() === true;
  const acked = new Set<string>();
  const deliveries: Delivery[] = [];
  const queue = [...events];
  let rr = 0;

  const sendOne = async (event: Json): Promise<void> => {
    const id = event.id as string;
    for (;;) {
      const urls = opts.urls();
      const url = urls[rr++ % Math.max(1, urls.length)];
      let status = 0;
      if (url) {
        const res = await postWebhook(url, event).catch(() => undefined);
        status = res?.status ?? 0;
      }
      deliveries.push({ eventId: id, status, url: url ?? '', at: Date.now() });
      if (status >= 200 && status < 300) {
        acked.add(id);
        opts.onAck?.(acked.size);
        return;
      }
      if (over()) return;
      await pause(retryDelayMs);
    }
  };

  const worker = async () => {
    for (;;) {
      const event = queue.shift();
      if (!event || over()) return;
      await sendOne(event);
      if (opts.paceMs) await pause(opts.paceMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const unacked = events.map((e) => e.id as string).filter((id) => !acked.has(id));
  return { acked, deliveries, unacked };
}

/** One result of several streams (e.g. the events sent before and after a fault). */
export function mergeResults(...results: SendResult[]): SendResult {
  return {
    acked: new Set(results.flatMap((r) => [...r.acked])),
    deliveries: results.flatMap((r) => r.deliveries).sort((a, b) => a.at - b.at),
    unacked: results.flatMap((r) => r.unacked),
  };
}

export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const started = Date.now();
/** Progress lines on stderr when FAULTS_DEBUG is set (timings of a fault run). */
export function debug(message: string): void {
  if (process.env.FAULTS_DEBUG) process.stderr.write(`[faults +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
}
