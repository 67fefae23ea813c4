import { IngestPressure } from '../../src/ingest/pressure';
import { PRESSURE_SLICE } from '../../src/queue/event-worker';
import type { EventProcessor } from '../../src/jobs/types';
import { dbKinds } from '../helpers/db';
import { postWebhook, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';

describe('IngestPressure (acknowledgements first)', () => {
  function clocked(busyRate: number, maxDeferMs = 1000) {
    const clock = { t: 10_000 };
    const p = new IngestPressure({ busyRate, maxDeferMs, windowMs: 500, now: () => clock.t });
    return { p, clock };
  }

  it('is busy only while the acknowledgement rate over the window is above the threshold', () => {
    const { p, clock } = clocked(200);
    p.record(100); // 100 in 500 ms = 200/s: not above
    expect(p.rate()).toBe(200);
    expect(p.busy()).toBe(false);
    clock.t += 60;
    p.record(1);
    expect(p.busy()).toBe(true);
    clock.t += 520; // the first 100 left the window (counted in 50 ms slots)
    expect(p.rate()).toBe(2);
    expect(p.busy()).toBe(false);
  });

  it('never yields when turned off (rate 0)', () => {
    const { p } = clocked(0);
    p.record(1_000_000);
    expect(p.rate()).toBe(0);
    expect(p.busy()).toBe(false);
  });

  it('waits for a quiet moment, but never longer than maxDeferMs', async () => {
    const flooded = new IngestPressure({ busyRate: 10, maxDeferMs: 150 });
    flooded.record(50);
    const keepBusy = setInterval(() => flooded.record(50), 10);
    try {
      const waited = await flooded.yieldToAcknowledgements();
      expect(waited).toBeGreaterThanOrEqual(140);
      expect(waited).toBeLessThan(1_000);
      expect(flooded.busy()).toBe(true);
      // A caller's own limit (the worker's share of the job expiry) cuts the wait shorter.
      const capped = await flooded.yieldToAcknowledgements(30);
      expect(capped).toBeGreaterThanOrEqual(25);
      expect(capped).toBeLessThan(140);
    } finally {
      clearInterval(keepBusy);
    }
    const calm = new IngestPressure({ busyRate: 10, maxDeferMs: 5_000 });
    calm.record(100);
    expect(calm.busy()).toBe(true);
    // The burst ages out of the 500 ms window: the wait ends then, well before maxDeferMs.
    const waited = await calm.yieldToAcknowledgements();
    expect(waited).toBeGreaterThan(300);
    expect(waited).toBeLessThan(2_000);
  });
});

describe.each(dbKinds())('the event worker under a webhook flood on %s', (kind) => {
  const N = 300;

  async function flood(busyRate: number): Promise<{ server: TestServer; batches: number[]; deferred: number }> {
    const batches: number[] = [];
    const server = await startTestServer({
      kind,
      env: { INGEST_PRIORITY_RATE: String(busyRate), INGEST_PRIORITY_MAX_DEFER_MS: '300', WORKER_BATCH_SIZE: '100' },
      processor: (): EventProcessor => ({
        async process(events) {
          batches.push(events.length);
        },
      }),
    });
    const events = Array.from({ length: N }, () =>
      stripeEvent('customer.updated', stripeObject('customer', { id: randomId('cus') })),
    );
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < events.length) {
          const res = await postWebhook(server.url, events[next++]);
          expect(res.status).toBe(200);
        }
      }),
    );
    await waitFor(() => batches.reduce((a, b) => a + b, 0) >= N, { what: 'every acknowledged event processed', timeoutMs: 30_000 });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const deferred = Number(/^worker_deferred_seconds_total (\S+)$/m.exec(metrics)?.[1]);
    return { server, batches, deferred };
  }

  it('yields to acknowledgements while flooded, in slices, and still processes every event', async () => {
    const { server, batches, deferred } = await flood(20);
    try {
      expect(batches.reduce((a, b) => a + b, 0)).toBe(N);
      expect(deferred).toBeGreaterThan(0);
      // While it yielded, the worker took slices, never a whole batch at once.
      expect(batches.some((b) => b <= PRESSURE_SLICE)).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('never waits when yielding is turned off', async () => {
    const { server, batches, deferred } = await flood(0);
    try {
      expect(batches.reduce((a, b) => a + b, 0)).toBe(N);
      expect(deferred).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
