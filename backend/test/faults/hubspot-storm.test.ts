import type { FakeHubSpot } from '../fakes/hubspot/server';
import { dbKinds } from '../helpers/db';
import type { ServerProcess } from '../helpers/server';
import { TEST_PORTAL_ID } from '../helpers/sync-harness';
import { expectSettledEndState, faultHubSpot, faultStorage, Fleet, instanceEnv, tail, type FaultStorage } from './helpers/instances';
import { startLossyProxy, type LossyProxy } from './helpers/lossy-proxy';
import { waitFor } from '../helpers/server';
import { debug, deliverAll, mergeResults, type SendResult } from './helpers/sender';
import { maxInRollingWindow, waitForHubSpot } from './helpers/verify';
import { buildWorkload, type Expected } from './helpers/workload';

/**
 * The real process against a HubSpot in trouble, in three streams: 20% 5xx answers (and 423 locks) under a rate
 * limit tighter than our budget; contact writes HubSpot applied but answered 502 (the answer lost); every call
 * taking 1–2 s. After each, HubSpot holds exactly one contact per customer with its newest values. One process
 * and its storage serve the three; the last test also checks the storage (every event once, settled).
 */
jest.setTimeout(150_000);

/** HubSpot's limit in the storm: 6 calls per rolling 2 s, well under our budget and under what the stream needs. */
const HUBSPOT_LIMIT = 6;
const HUBSPOT_WINDOW_MS = 2_000;

describe.each(dbKinds())('HubSpot in trouble, through the real process, on %s', (kind) => {
  let storage: FaultStorage;
  let hubspot: FakeHubSpot;
  let proc: ServerProcess;
  let proxy: LossyProxy;
  const fleet = new Fleet();
  const expected = new Map<string, Expected>();
  const acked = new Set<string>();

  beforeAll(async () => {
    storage = await faultStorage(kind);
    hubspot = await faultHubSpot({ seed: 99 });
    proxy = await startLossyProxy(hubspot.url, 7);
    debug(`${kind}: starting`);
    // Our budget allows 10 calls/s; HubSpot (below) allows 3 per second. Calls go through the lossy proxy.
    proc = await fleet.start(instanceEnv(storage, hubspot, { HUBSPOT_RATE_LIMIT_PER_10S: '100', HUBSPOT_API_BASE_URL: proxy.url }));
    debug(`${kind}: started`);
  });
  afterAll(async () => {
    await fleet.killAll();
    await proxy?.close();
    await hubspot?.close();
    await storage?.drop();
  });

  function record(sent: SendResult, newlyExpected: Map<string, Expected>) {
    expect(sent.unacked).toEqual([]);
    for (const id of sent.acked) acked.add(id);
    for (const [id, e] of newlyExpected) expected.set(id, e);
  }

  it('20% 5xx and a rate limit tighter than the budget: everything lands, once', async () => {
    hubspot.inject.failRate(0.2, 503);
    hubspot.inject.setBurstLimit(HUBSPOT_LIMIT, HUBSPOT_WINDOW_MS);
    hubspot.inject.lockNext(3);
    const stream = buildWorkload(60, 5, { shuffleSeed: 5 });
    // A steady stream (~40 events/s): many pusher passes, each exposed to the storm.
    const sent = await deliverAll(stream.events, { urls: () => [proc.url], concurrency: 4, paceMs: 100 });
    debug(`${kind}: storm: all sent`);
    record(sent, stream.expected);

    await waitForHubSpot(hubspot, TEST_PORTAL_ID, expected, { timeoutMs: 120_000, describe: () => tail(proc) });
    debug(`${kind}: storm: HubSpot converged`);
    const statuses = hubspot.requests.map((r) => r.status);
    const count = (status: number) => statuses.filter((s) => s === status).length;
    debug(`${kind}: storm: ${statuses.length} calls, ${count(503)} 503, ${count(429)} 429, ${count(423)} 423`);
    // The storm was real: failures, refusals and locks were answered and absorbed.
    expect(count(503)).toBeGreaterThan(3);
    expect(count(423)).toBe(3);
    // HubSpot's limit was reached (some rolling window was full), never passed.
    const admitted = hubspot.requests.filter((r) => r.status !== 429).map((r) => r.at);
    expect(maxInRollingWindow(admitted, HUBSPOT_WINDOW_MS)).toBe(HUBSPOT_LIMIT);
    hubspot.inject.clear();
  });

  it('contact writes HubSpot applied but answered 502 (the answer lost): retried, no duplicate, newest values', async () => {
    proxy.loseWrites(0.3);
    proxy.loseNextCreates(2);
    proxy.loseNextUpdates(1);
    const callsBefore = hubspot.requests.length;
    const stream = buildWorkload(40, 5, { shuffleSeed: 8 });
    // In waves, so that contacts are created in at least two batches and then updated, however passes batch them
    // (the records written after each contact, e.g. deals, make passes longer and so fuller): half the customers'
    // first events, the other half's, then every later event once each customer has its contact.
    const ids = [...stream.expected.keys()];
    const customerOf = (e: Record<string, unknown>) => {
      const o = (e.data as { object: { id: string; customer?: string } }).object;
      return o.customer ?? o.id;
    };
    const first = (e: Record<string, unknown>) => e.type === 'customer.created' || e.type === 'customer.subscription.created';
    const waves = [
      stream.events.filter((e) => first(e) && ids.indexOf(customerOf(e)) < ids.length / 2),
      stream.events.filter((e) => first(e) && ids.indexOf(customerOf(e)) >= ids.length / 2),
      stream.events.filter((e) => !first(e)),
    ];
    const results: SendResult[] = [];
    for (const [i, wave] of waves.entries()) {
      results.push(await deliverAll(wave, { urls: () => [proc.url], concurrency: 4, paceMs: 100 }));
      if (i === waves.length - 1) break;
      const wanted = [...new Set(wave.map(customerOf))];
      const portal = hubspot.portal(TEST_PORTAL_ID);
      await waitFor(() => wanted.every((id) => portal.contactByProperty('stripe_customer_id', id)), { timeoutMs: 60_000, what: `the contacts of wave ${i + 1}` });
    }
    const sent = mergeResults(...results);
    record(sent, stream.expected);
    await waitForHubSpot(hubspot, TEST_PORTAL_ID, expected, { timeoutMs: 120_000, describe: () => tail(proc) });
    const calls = hubspot.requests.slice(callsBefore);
    const lost = proxy.lost();
    debug(`${kind}: lost answers: converged; ${lost.writes} of ${calls.length} answers lost (${lost.creates} creates), ${calls.filter((r) => r.status === 409).length} 409`);
    expect(lost.creates).toBeGreaterThanOrEqual(2);
    expect(lost.writes).toBeGreaterThan(lost.creates);
    proxy.loseWrites(0);
  });

  it('HubSpot taking 1–2 s per call: everything lands, once', async () => {
    const latency = setInterval(() => hubspot.inject.latency(1_000 + Math.floor(Math.random() * 1_000)), 50);
    try {
      const callsBefore = hubspot.requests.length;
      const stream = buildWorkload(40, 5, { shuffleSeed: 6 });
      const sent = await deliverAll(stream.events, { urls: () => [proc.url], concurrency: 8 });
      debug(`${kind}: slow: all sent`);
      record(sent, stream.expected);
      await waitForHubSpot(hubspot, TEST_PORTAL_ID, expected, { timeoutMs: 120_000, describe: () => tail(proc) });
      debug(`${kind}: slow: HubSpot converged after ${hubspot.requests.length - callsBefore} calls`);
    } finally {
      clearInterval(latency);
      hubspot.inject.latency(0);
    }

    await expectSettledEndState(storage, proc, hubspot, acked, expected);
    debug(`${kind}: verified`);
  });
});
