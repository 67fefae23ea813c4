/**
 * `npm run bench [-- <section> …]`: runs the named bench sections (all when none is named), prints their
 * figures, and stores each under its name in `bench/results.json` (other sections are kept).
 * Add a section: one module exporting an async function that answers a JSON-able result, and one line below.
 */
import { machine, writeSection } from './lib/results';

type Section = () => Promise<Record<string, unknown>>;

const SECTIONS: Record<string, Section> = {
  ingest: async () => (await import('./ingest')).runIngestBench(),
  burst: async () => (await import('./burst')).runBurstSection() as unknown as Promise<Record<string, unknown>>,
  card: async () => (await import('./card')).runCardSection() as unknown as Promise<Record<string, unknown>>,
  'e2e-latency': async () => (await import('./e2e-latency')).runE2eLatencySection() as unknown as Promise<Record<string, unknown>>,
  'latency-curve': async () => (await import('./latency-curve')).runLatencyCurveSection(),
  backfill: async () => (await import('./backfill')).runBackfillSection(),
  fairness: async () => (await import('./fairness')).runFairnessSection(),
  destinations: async () => (await import('./destinations')).runDestinationsSection(),
  report: async () => (await import('./report')).writeReportFromResults(),
};

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = asked.filter((a) => !(a in SECTIONS));
  if (unknown.length > 0) {
    console.error(`unknown bench section(s): ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
    process.exit(2);
  }
  for (const name of asked.length > 0 ? asked : Object.keys(SECTIONS)) {
    console.log(`== ${name}`);
    const result = await SECTIONS[name]();
    writeSection(name, { ...result, measuredAt: new Date().toISOString(), machine: machine() });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
