/**
 * Load generator for `POST /webhooks/stripe`, run in its own process (forked by a bench section, result sent
 * back over IPC). Signs every event up front, then sends a fixed number of requests at a fixed concurrency
 * over keep-alive connections and measures each acknowledgement.
 */
import { Agent, request } from 'node:http';
import { randomId, signatureHeader, stripeEvent, stripeObject } from '../../test/helpers/stripe-fixtures';
import { summarize, type LatencySummary } from '../lib/latency';

export interface LoadRequest {
  url: string;
  secret: string;
  /** Measured requests. */
  count: number;
  /** Requests before the measurement (connections, JIT, caches). */
  warmup: number;
  concurrency: number;
  /** Share of requests that redeliver an earlier event (Stripe's at-least-once delivery). */
  duplicateShare: number;
}

export interface LoadResult {
  count: number;
  concurrency: number;
  ok: number;
  duplicates: number;
  errors: Record<string, number>;
  seconds: number;
  /** Acknowledgements (2xx) per second. */
  ackPerSecond: number;
  latencyMs: LatencySummary;
  meanBodyBytes: number;
}

/** A signed webhook ready to send. */
export interface Prepared {
  body: Buffer;
  signature: string;
}

const SHAPES: [string, string][] = [
  ['customer.created', 'customer'],
  ['customer.updated', 'customer'],
  ['invoice.paid', 'invoice'],
  ['charge.succeeded', 'charge'],
  ['customer.subscription.updated', 'subscription'],
  ['checkout.session.completed', 'checkout.session'],
  ['payment_intent.created', 'payment_intent'],
];

function prepare(n: number, req: LoadRequest): Prepared[] {
  const out: Prepared[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 10 && Math.random() < req.duplicateShare) {
      out.push(out[Math.floor(Math.random() * out.length)]);
      continue;
    }
    const [type, resource] = SHAPES[i % SHAPES.length];
    const object = stripeObject(resource, { id: randomId(resource.slice(0, 3)), customer: randomId('cus') });
    const body = JSON.stringify(stripeEvent(type, object, { account: `acct_${i % 20}` }));
    out.push({ body: Buffer.from(body), signature: signatureHeader(body, req.secret) });
  }
  return out;
}

/** POSTs one signed event to `/webhooks/stripe` (30 s timeout); answers the status and whether it was a duplicate. */
export function postSignedWebhook(agent: Agent, url: URL, p: Prepared): Promise<{ status: number; duplicate: boolean }> {
  return new Promise((resolve, reject) => {
    const r = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: '/webhooks/stripe',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': p.body.length, 'stripe-signature': p.signature },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, duplicate: text.includes('"duplicate":true') });
        });
        res.on('error', reject);
      },
    );
    r.setTimeout(30_000, () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    r.end(p.body);
  });
}

async function runPhase(agent: Agent, url: URL, items: Prepared[], concurrency: number) {
  const latencies: number[] = new Array(items.length);
  const errors: Record<string, number> = {};
  let ok = 0;
  let duplicates = 0;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      try {
        const res = await postSignedWebhook(agent, url, items[i]);
        latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
        if (res.status >= 200 && res.status < 300) {
          ok += 1;
          if (res.duplicate) duplicates += 1;
        } else errors[String(res.status)] = (errors[String(res.status)] ?? 0) + 1;
      } catch (err) {
        latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { latencies, errors, ok, duplicates, seconds };
}

export async function runLoad(req: LoadRequest): Promise<LoadResult> {
  const url = new URL(req.url);
  const warm = prepare(req.warmup, req);
  const items = prepare(req.count, req);
  const agent = new Agent({ keepAlive: true, maxSockets: req.concurrency });
  await runPhase(agent, url, warm, req.concurrency);
  const r = await runPhase(agent, url, items, req.concurrency);
  agent.destroy();
  return {
    count: req.count,
    concurrency: req.concurrency,
    ok: r.ok,
    duplicates: r.duplicates,
    errors: r.errors,
    seconds: Math.round(r.seconds * 1000) / 1000,
    ackPerSecond: Math.round(r.ok / r.seconds),
    latencyMs: summarize(r.latencies),
    meanBodyBytes: Math.round(items.reduce((n, p) => n + p.body.length, 0) / items.length),
  };
}

// Forked: take the request over IPC, answer the result, exit.
if (require.main === module && process.send) {
  process.once('message', (req: LoadRequest) => {
    runLoad(req).then(
      (result) => process.send?.({ result }, () => process.exit(0)),
      (err: Error) => process.send?.({ error: err.stack ?? err.message }, () => process.exit(1)),
    );
  });
}
