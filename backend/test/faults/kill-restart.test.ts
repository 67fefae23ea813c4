import type { FakeHubSpot } from '../fakes/hubspot/server';
import { dbKinds } from '../helpers/db';
import { freePort, type ServerProcess } from '../helpers/server';
import { TEST_PORTAL_ID } from '../helpers/sync-harness';
import { faultHubSpot, faultStorage, Fleet, instanceEnv, tail, waitUntilIdle, type FaultStorage } from './helpers/instances';
import { debug, deliverAll, pause } from './helpers/sender';
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
    let killedDuring: string | undefined;
    // A steady stream (~40 events/s) so the kill lands mid-stream.
    const sending = deliverAll(events, {
      urls: () => (alive ? [url] : []),
      concurrency: 4,
      paceMs: 100,
      deadlineMs: 120_000,
      onAck: (n) => (ackedSoFar = n),
    });
    const contactWriteInFlight = () =>
      hubspot.requests.find((r) => r.status === 0 && r.method === 'POST' && /^\/crm\/v3\/objects\/contacts\/batch\/(create|update)$/.test(r.path));
    // Once a third of the events are in and a contact write is mid-call at HubSpot: kill -9, start again.
    while (!killedDuring && ackedSoFar < events.length) {
      // Once the portal is provisioned and contacts are being written, slow HubSpot's answers: a contact write
      // is then in flight most of the time.
      if (hubspot.requests.some((r) => r.path.startsWith('/crm/v3/objects/contacts'))) hubspot.inject.latency(400);
      const inFlight = ackedSoFar >= events.length / 3 ? contactWriteInFlight() : undefined;
      if (inFlight) {
        killedDuring = `${inFlight.path} with ${ackedSoFar} events acknowledged`;
        alive = false;
        expect(await proc.stop('SIGKILL')).toBeNull(); // it died of the signal
        debug(`${kind}: killed during ${killedDuring}`);
        proc = await fleet.start(env);
        alive = true;
        debug(`${kind}: restarted`);
      }
      await pause(5);
    }
    const sent = await sending;
    debug(`${kind}: all sent`);
    expect(killedDuring).toBeDefined();
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
