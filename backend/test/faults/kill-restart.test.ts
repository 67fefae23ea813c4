import type { FakeHubSpot } from '../fakes/hubspot/server';
import { dbKinds } from '../helpers/db';
import { freePort, type ServerProcess } from '../helpers/server';
import { TEST_PORTAL_ID } from '../helpers/sync-harness';
import { faultHubSpot, faultStorage, Fleet, instanceEnv, tail, waitUntilIdle, type FaultStorage } from './helpers/instances';
import { midContactWrite } from './helpers/moments';
import { debug, deliverAll, mergeResults } from './helpers/sender';
import { hubspotDifferences, storageProblems, waitForHubSpot } from './helpers/verify';
import { buildWorkload } from './helpers/workload';

/**
 * kill -9 of the backend (web + worker + pusher in one process) while webhooks arrive, event jobs run and a
 * HubSpot contact write is mid-call; a new process on the same storage finishes. Every acknowledged event is
 * applied once and HubSpot ends with exactly one contact per customer holding its newest values.
 */
jest.setTimeout(180_000);

describe.each(dbKinds())('kill -9 mid-batch on %s', (kind) => {
  let storage: FaultStorage;
  let hubspot: FakeHubSpot;
  const fleet = new Fleet();

  beforeAll(async () => {
    storage = await faultStorage(kind);
    hubspot = await faultHubSpot();
  });
  afterAll(async () => {
    await fleet.killAll();
    await hubspot?.close();
    await storage?.drop();
  });

  it('loses nothing, applies each event once and writes no duplicate contact', async () => {
    const { events, expected } = buildWorkload(60, 5, { shuffleSeed: 11 });
    // The same port before and after the restart: the sender keeps one URL, like Stripe's endpoint.
    const env = instanceEnv(storage, hubspot, { PORT: String(await freePort()) });
    debug(`${kind}: starting`);
    let proc: ServerProcess = await fleet.start(env);
    const url = proc.url;
    debug(`${kind}: started`);

    let alive = true;
    let ackedSoFar = 0;
    // A steady stream (~40 events/s); the last third is only sent after the kill, so the kill is mid-stream.
    const stream = (part: typeof events) =>
      deliverAll(part, { urls: () => (alive ? [url] : []), concurrency: 4, paceMs: 100, deadlineMs: 120_000, onAck: () => ackedSoFar++ });
    const cut = Math.ceil((events.length * 2) / 3);
    const before = stream(events.slice(0, cut));
    // Once a third of the events are in and a contact write is mid-call at HubSpot: kill -9, start again.
    const inFlight = await midContactWrite(hubspot, { ready: () => ackedSoFar >= events.length / 3 });
    expect(inFlight).toBeDefined();
    expect(await proc.stop('SIGKILL')).toBeNull(); // it died of the signal
    alive = false;
    debug(`${kind}: killed during ${inFlight} with ${ackedSoFar} events acknowledged`);
    const after = stream(events.slice(cut));
    proc = await fleet.start(env);
    alive = true;
    debug(`${kind}: restarted`);
    const sent = mergeResults(await before, await after);
    debug(`${kind}: all sent`);
    expect(sent.unacked).toEqual([]);
    // Requests while it was down got no answer (the sender sent them again).
    expect(sent.deliveries.some((d) => d.status === 0)).toBe(true);

    hubspot.inject.latency(0);
    await waitForHubSpot(hubspot, TEST_PORTAL_ID, expected, { timeoutMs: 150_000, describe: () => tail(proc) });
    debug(`${kind}: HubSpot converged`);
    await waitUntilIdle(storage, proc);
    expect(await proc.stop('SIGTERM')).toBe(0);

    const db = await storage.open();
    try {
      expect(await storageProblems(db, sent.acked, expected)).toEqual([]);
    } finally {
      await db.close();
    }
    expect(hubspotDifferences(hubspot, TEST_PORTAL_ID, expected)).toEqual([]);
    debug(`${kind}: verified`);
  });
});
