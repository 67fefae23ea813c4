/**
 * Runs the `burst` and/or `e2e-latency` bench sections on their own (until `bench/run.ts` wires them in):
 *   node --import tsx bench/burst-run.ts [burst] [e2e-latency] [--write]
 * Prints each result as JSON; `--write` also stores it under its name in bench/results.json.
 */
import { machine, writeSection } from './lib/results';
import { runBurstSection, type BurstResult } from './burst';
import { runE2eLatencySection, type E2eLatencyResult } from './e2e-latency';

const SECTIONS: Record<string, () => Promise<Record<string, unknown>>> = {
  burst: async () => {
    const r = await runBurstSection();
    for (const one of [r.pglite, r.postgres]) if (!('skipped' in one)) printBurst(one);
    if (r.crm && !('skipped' in r.crm)) for (const one of [r.crm.pglite, r.crm.postgres]) if (!('skipped' in one)) printBurst(one);
    return r;
  },
  'e2e-latency': async () => {
    const r = await runE2eLatencySection();
    printLatency(r);
    return r;
  },
};

function printBurst(r: BurstResult): void {
  const c = r.callsPer100Events;
  const d = r.drain;
  console.log(
    `burst${r.crm.companies || r.crm.deals || r.crm.timeline ? '+crm' : ''}/${r.database}: ${r.events} events, ${r.customers} customers, acked in ${r.send.seconds} s (${r.send.ackPerSecond}/s); ` +
      `HubSpot calls ${r.hubspotCalls.total} → ${c.measured} per 100 events (target ≤ ${c.target}: ${c.met ? 'met' : 'NOT met'}); ` +
      `drain ${d.seconds} s vs floor ${d.floorSeconds} s = ${d.ratio}× (target ≤ ${d.target}×: ${d.met ? 'met' : 'NOT met'})`,
  );
  if (r.naive) {
    console.log(
      `burst/naive: ${r.naive.callsPer100Events} calls per 100 events over the first ${r.naive.sample} events (${r.naive.sampleSeconds} s); ` +
        `projected drain for ${r.events} events ${r.naive.projectedDrainSeconds} s; duplicate contacts ${r.naive.duplicateContacts}`,
    );
  }
  console.log(`burst/${r.database}: server peak RSS ${r.memory.peakRssMb} MB`);
  for (const n of r.notes) console.log(`  note: ${n}`);
}

function printLatency(r: E2eLatencyResult): void {
  const l = r.latencyMs;
  console.log(
    `e2e-latency/${r.database}: ${r.events} events at ${r.send.achievedPerSecond}/s; p50 ${l.p50} ms (target < ${r.target.p50Ms}: ${r.met.p50 ? 'met' : 'NOT met'}), ` +
      `p99 ${l.p99} ms (target < ${r.target.p99Ms}: ${r.met.p99 ? 'met' : 'NOT met'}), max ${l.max} ms; ` +
      `${r.hubspotCalls.total} HubSpot calls (${r.hubspotCalls.perSecond}/s)`,
  );
  for (const n of r.notes) console.log(`  note: ${n}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const write = args.includes('--write');
  const asked = args.filter((a) => !a.startsWith('-'));
  const unknown = asked.filter((a) => !(a in SECTIONS));
  if (unknown.length > 0) throw new Error(`unknown section(s): ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
  for (const name of asked.length > 0 ? asked : Object.keys(SECTIONS)) {
    console.log(`== ${name}`);
    const result = await SECTIONS[name]();
    console.log(JSON.stringify(result, null, 2));
    if (write) writeSection(name, { ...result, measuredAt: new Date().toISOString(), machine: machine() });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
