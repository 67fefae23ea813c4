import type { FakeHubSpot } from '../fakes/hubspot/server';
import { dbKinds } from '../helpers/db';
import { TEST_PORTAL_ID } from '../helpers/sync-harness';
import { faultHubSpot, Fleet } from './helpers/instances';
import { runKillScenario, type KillScenarioResult } from './helpers/kill-scenario';
import { maxInRollingWindow } from './helpers/verify';

/**
 * kill -9 in the middle of a batch: the backend process dies while webhooks arrive, event jobs run and a HubSpot
 * contact write is mid-call (HubSpot may have applied it; we never learned). Every acknowledged event is applied
 * once and HubSpot ends with exactly one contact per customer holding its newest values (see kill-scenario.ts).
 *
 * - On every database: a new process on the same storage finishes.
 * - On PostgreSQL also: two processes share the database and the webhooks; one is killed, the other finishes.
 *   (PGlite is opened by one process only: its variant is the single-process one.)
 *
 * Both check the HubSpot rate budget, which lives in the database: across the restart, and across the two
 * processes, no rolling 10 s holds more calls than HUBSPOT_RATE_LIMIT_PER_10S.
 */
jest.setTimeout(200_000);

/** Low enough that the run needs more calls than one window allows (the budget binds). */
const RATE_LIMIT = 30;
/**
 * The fake sees arrival times; the budget counts when a slot is taken (with a 250 ms margin). On a loaded
 * machine a request can reach the fake a few hundred ms after its slot, so windows are measured this much
 * shorter. A budget not shared would put twice the limit in a window.
 */
const ARRIVAL_JITTER_MS = 500;

describe.each(dbKinds())('kill -9 mid contact write on %s', (kind) => {
  let hubspot: FakeHubSpot;
  const fleet = new Fleet();

  beforeEach(async () => {
    hubspot = await faultHubSpot();
  });
  afterEach(async () => {
    await fleet.killAll();
    await hubspot?.close();
  });

  function expectWithinBudget(result: KillScenarioResult) {
    expect(result.callsBeforeKill.every((n) => n > 0)).toBe(true);
    const calls = hubspot.requests.filter((r) => r.portalId === TEST_PORTAL_ID);
    expect(calls.length).toBeGreaterThan(RATE_LIMIT);
    expect(maxInRollingWindow(calls.map((r) => r.at), 10_000 - ARRIVAL_JITTER_MS)).toBeLessThanOrEqual(RATE_LIMIT);
    expect(calls.filter((r) => r.status === 429)).toEqual([]);
  }

  it('a new process on the same storage finishes: nothing lost, applied once, no duplicate contact', async () => {
    const result = await runKillScenario({ kind, hubspot, fleet, survivor: 'restart', rateLimit: RATE_LIMIT, seed: 11 });
    expect(result.killedDuring).toMatch(/batch\/(create|update)$/);
    // While it was down, requests got no answer and were sent again.
    expect(result.sent.deliveries.some((d) => d.status === 0)).toBe(true);
    expectWithinBudget(result);
  });

  if (kind === 'postgres') {
    it('two processes on one database, one killed: the other finishes everything, within one shared budget', async () => {
      const result = await runKillScenario({ kind, hubspot, fleet, survivor: 'other', rateLimit: RATE_LIMIT, seed: 23 });
      // Both processes acknowledged events and called HubSpot before the kill.
      expect(result.ackingUrls.size).toBe(2);
      expect(result.callsBeforeKill).toHaveLength(2);
      expectWithinBudget(result);
    });
  }
});
