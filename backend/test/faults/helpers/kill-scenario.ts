import type { FakeHubSpot } from '../../fakes/hubspot/server';
import type { DbKind } from '../../helpers/db';
import { freePort, type ServerProcess } from '../../helpers/server';
import { TEST_PORTAL_ID } from '../../helpers/sync-harness';
import { expectSettledEndState, faultStorage, Fleet, instanceEnv, tail, type FaultStorage } from './instances';
import { hubspotCallsOf, midContactWrite } from './moments';
import { debug, deliverAll, mergeResults, type SendResult } from './sender';
import { waitForHubSpot } from './verify';
import { buildWorkload } from './workload';

/**
 * kill -9 of a backend process (web + worker + pusher) in the middle of a HubSpot contact write, with webhooks
 * streaming in; then either a new process on the same storage finishes (`survivor: 'restart'`), or a second
 * process that was running all along on the same PostgreSQL database does (`survivor: 'other'`).
 */

export interface KillScenarioOptions {
  kind: DbKind;
  hubspot: FakeHubSpot;
  fleet: Fleet;
  survivor: 'restart' | 'other';
  /** HUBSPOT_RATE_LIMIT_PER_10S of every process. */
  rateLimit: number;
  seed: number;
}

export interface KillScenarioResult {
  sent: SendResult;
  /** The contact write that was in flight at HubSpot when the process was killed. */
  killedDuring: string;
  /** HubSpot calls each process had made when the kill came. */
  callsBeforeKill: number[];
  /** Every process URL that acknowledged events (before the kill and after). */
  ackingUrls: Set<string>;
}

/**
 * Runs the scenario to its end state and asserts it: every event acknowledged (the sender retries like Stripe),
 * HubSpot holding exactly one contact per customer with its newest values, the survivor stopping cleanly
 * (SIGTERM, exit 0), and the storage holding every acknowledged event once, settled, every customer synced.
 */
export async function runKillScenario(opts: KillScenarioOptions): Promise<KillScenarioResult> {
  const { kind, hubspot, fleet } = opts;
  const label = `${kind}/${opts.survivor}`;
  const storage: FaultStorage = await faultStorage(kind);
  try {
    const { events, expected } = buildWorkload(60, 5, { shuffleSeed: opts.seed });
    const env = instanceEnv(storage, hubspot, { HUBSPOT_RATE_LIMIT_PER_10S: String(opts.rateLimit) });
    // A restarted process keeps the port: the sender keeps one URL, like Stripe's endpoint.
    const victimEnv = opts.survivor === 'restart' ? { ...env, PORT: String(await freePort()) } : env;
    debug(`${label}: starting`);
    const victim = await fleet.start(victimEnv);
    let survivor: ServerProcess | undefined = opts.survivor === 'other' ? await fleet.start(env) : undefined;
    let live: ServerProcess[] = [victim, ...(survivor ? [survivor] : [])];
    debug(`${label}: started`);

    let ackedSoFar = 0;
    // A steady stream (~40 events/s) over the live processes; the last third is only sent after the kill.
    const stream = (part: typeof events) =>
      deliverAll(part, { urls: () => live.map((p) => p.url), concurrency: 4, paceMs: 100, deadlineMs: 120_000, onAck: () => ackedSoFar++ });
    const cut = Math.ceil((events.length * 2) / 3);
    const before = stream(events.slice(0, cut));

    const killedDuring = await midContactWrite(hubspot, { ready: () => ackedSoFar >= events.length / 3 });
    if (!killedDuring) throw new Error(`${label}: no contact write was seen in flight to kill the process during`);
    const callsBeforeKill = await Promise.all(live.map((p) => hubspotCallsOf(p.url)));
    live = live.filter((p) => p !== victim);
    const exit = await victim.stop('SIGKILL');
    if (exit !== null) throw new Error(`${label}: the killed process exited with ${exit}, not by the signal`);
    debug(`${label}: killed during ${killedDuring} with ${ackedSoFar} events acknowledged`);
    const after = stream(events.slice(cut));
    if (!survivor) {
      survivor = await fleet.start(victimEnv);
      live = [survivor];
      debug(`${label}: restarted`);
    }
    const sent = mergeResults(await before, await after);
    debug(`${label}: all sent`);
    expect(sent.unacked).toEqual([]);

    hubspot.inject.latency(0);
    const last = survivor;
    await waitForHubSpot(hubspot, TEST_PORTAL_ID, expected, { timeoutMs: 150_000, describe: () => tail(last) });
    debug(`${label}: HubSpot converged`);
    await expectSettledEndState(storage, survivor, hubspot, sent.acked, expected);
    debug(`${label}: verified`);
    const ackingUrls = new Set(sent.deliveries.filter((d) => d.status === 200).map((d) => d.url));
    return { sent, killedDuring, callsBeforeKill, ackingUrls };
  } finally {
    await fleet.killAll();
    await storage.drop();
  }
}
