import type { FakeHubSpot } from '../fakes/hubspot/server';
import type { ServerProcess } from '../helpers/server';
import { TEST_PORTAL_ID } from '../helpers/sync-harness';
import { expectSettledEndState, failOnExit, faultHubSpot, faultStorage, Fleet, instanceEnv, tail, type FaultStorage } from './helpers/instances';
import { findPostgresBin, startPrivatePostgres, type PrivatePostgres } from './helpers/private-postgres';
import { debug, deliverAll, pause } from './helpers/sender';
import { waitForHubSpot } from './helpers/verify';
import { buildWorkload } from './helpers/workload';

/**
 * PostgreSQL restarts (`pg_ctl restart -m fast`) while events stream in. On a private cluster, never the shared
 * server other test files use. While the database is away a webhook answers 503 (Stripe sends it again), never
 * 2xx for an event that is not committed; the process lives through it, reconnects, and every acknowledged
 * event lands in HubSpot once.
 */
jest.setTimeout(150_000);

const bin = findPostgresBin();

if (!bin && !process.env.DATABASE_URL) {
  // A developer machine without a PostgreSQL server: nothing to restart. CI (DATABASE_URL set) has the binaries,
  // and there the test below fails loudly if they are missing.
  it('needs the PostgreSQL server binaries (initdb, pg_ctl), which are not installed here', () => {
    expect(findPostgresBin()).toBeUndefined();
  });
} else {
  describe('PostgreSQL restart during a stream', () => {
    let pg: PrivatePostgres | undefined;
    let storage: FaultStorage;
    let hubspot: FakeHubSpot;
    const fleet = new Fleet();

    beforeAll(async () => {
      if (!bin) {
        throw new Error(
          'PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or on PATH: ' +
            'install the postgresql package (Debian: apt-get install postgresql) to run the restart fault test',
        );
      }
      pg = await startPrivatePostgres(bin);
      storage = await faultStorage('postgres', pg.url);
      hubspot = await faultHubSpot();
    });
    afterAll(async () => {
      await fleet.killAll();
      await hubspot?.close();
      await pg?.stop();
    });

    it('answers 503 while the database is away, lives through it, and loses nothing', async () => {
      const { events, expected } = buildWorkload(60, 5, { shuffleSeed: 31 });
      const proc: ServerProcess = await fleet.start(instanceEnv(storage, hubspot));
      debug('postgres-restart: started');

      let ackedSoFar = 0;
      const stream = async () => {
        const sending = deliverAll(events, {
          urls: () => [proc.url],
          concurrency: 4,
          paceMs: 100,
          deadlineMs: 120_000,
          onAck: () => ackedSoFar++,
          shouldStop: () => proc.child.exitCode !== null || proc.child.signalCode !== null,
        });
        // Two restarts mid-stream: one early (jobs and pushes under way), one later.
        for (const share of [1 / 3, 2 / 3]) {
          while (ackedSoFar < events.length * share && proc.child.exitCode === null) await pause(10);
          const from = Date.now();
          await (pg as PrivatePostgres).restart();
          debug(`postgres-restart: restarted at ${ackedSoFar} acknowledged, down ${Date.now() - from} ms`);
        }
        return sending;
      };
      // The process must live through the outages: if it exits, fail now (with its output), not at the timeout.
      const sent = await failOnExit(proc, stream());
      debug('postgres-restart: all sent');

      expect(sent.unacked).toEqual([]);
      // Every answer was a 200 or a 503: no 500, no connection cut, and the process never exited.
      const statuses = new Map<number, number>();
      for (const d of sent.deliveries) statuses.set(d.status, (statuses.get(d.status) ?? 0) + 1);
      debug(`postgres-restart: answers ${JSON.stringify([...statuses])}`);
      expect([...statuses.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([]);
      expect(proc.child.exitCode).toBeNull();
      // The outages were seen by senders (a 503 was answered for an event then sent again).
      expect(statuses.get(503) ?? 0).toBeGreaterThan(0);

      await failOnExit(proc, waitForHubSpot(hubspot, TEST_PORTAL_ID, expected, { timeoutMs: 90_000, describe: () => tail(proc) }));
      debug('postgres-restart: HubSpot converged');
      await expectSettledEndState(storage, proc, hubspot, sent.acked, expected);
    });
  });
}
