/**
 * The benchmark report: reads `bench/results.json` (one key per section, see lib/results.ts) and writes
 * `bench/REPORT.md` (every target with its measured value, met or not and why; the naive baseline beside ours;
 * the machine) and `bench/latency-vs-load.svg` (ack latency against offered load, hand-written SVG).
 * Run alone: `node --import tsx bench/report.ts`, or last in `npm run bench`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PEAK_RSS_TARGET_MB } from './lib/memory';
import { burstComparisonLines, crmBurstRows } from './burst-report';
import { RESULTS_PATH } from './lib/results';
import { destinationsRows, destinationsTable } from './report-destinations';
import { fairnessRows, fairnessTable } from './report-fairness';
import { latencySvg, type Series } from './report-svg';

type Json = Record<string, unknown>;

/** `obj.a.b.c`, or undefined anywhere along the path. */
function at(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Json)[k];
  }
  return cur;
}
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const fmt = (v: number | undefined, unit = ''): string => (v === undefined ? 'not measured' : `${v.toLocaleString('en-US')}${unit}`);
const verdict = (met: boolean | undefined): string => (met === undefined ? '–' : met ? 'met' : '**NOT met**');
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 ? '–' : `${Math.round((a / b) * 10) / 10}×`;

interface Row {
  target: string;
  measured: string;
  met: boolean | undefined;
  section: string;
}

function targetRows(r: Json): Row[] {
  const rows: Row[] = [];
  const ingest = (kind: string, label: string, minRate: number, maxP99?: number) => {
    const s = at(r, 'ingest', kind);
    const rate = num(at(s, 'ackPerSecond'));
    const p99 = num(at(s, 'latencyMs', 'p99'));
    rows.push({ target: `Ingest ${label} ≥ ${minRate.toLocaleString('en-US')} events/s`, measured: fmt(rate, '/s'), met: rate === undefined ? undefined : rate >= minRate, section: 'ingest' });
    if (maxP99 !== undefined) {
      rows.push({ target: `Ingest ${label} ack p99 < ${maxP99} ms`, measured: fmt(p99, ' ms'), met: p99 === undefined ? undefined : p99 < maxP99, section: 'ingest' });
    }
  };
  ingest('postgres', 'PostgreSQL', 1500, 50);
  ingest('pglite', 'embedded', 1000);
  for (const [kind, label] of KINDS) {
    const b = at(r, 'burst', kind);
    if (!measured(b)) continue;
    const calls = num(at(b, 'callsPer100Events', 'measured'));
    rows.push({ target: `≤ 2 HubSpot calls per 100 events (burst, ${label})`, measured: fmt(calls), met: calls === undefined ? undefined : calls <= 2, section: 'burst' });
    const drain = num(at(b, 'drain', 'ratio'));
    rows.push({
      target: `Burst drain ≤ 1.5× the rate-limit floor (${label})`,
      measured: drain === undefined ? 'not measured' : `${drain}× (${num(at(b, 'drain', 'seconds'))} s vs floor ${num(at(b, 'drain', 'floorSeconds'))} s)`,
      met: drain === undefined ? undefined : drain <= 1.5,
      section: 'burst',
    });
  }
  rows.push(...crmBurstRows(r));
  const e2e50 = num(at(r, 'e2e-latency', 'latencyMs', 'p50'));
  const e2e99 = num(at(r, 'e2e-latency', 'latencyMs', 'p99'));
  rows.push({ target: 'End-to-end p50 < 1 s at 50 events/s', measured: fmt(e2e50, ' ms'), met: e2e50 === undefined ? undefined : e2e50 < 1000, section: 'e2e-latency' });
  rows.push({ target: 'End-to-end p99 < 3 s at 50 events/s', measured: fmt(e2e99, ' ms'), met: e2e99 === undefined ? undefined : e2e99 < 3000, section: 'e2e-latency' });
  for (const [kind, label] of [['pglite', 'embedded'], ['postgres', 'PostgreSQL']]) {
    const p95 = num(at(r, 'card', kind, 'latencyMs', 'p95'));
    if (p95 === undefined && at(r, 'card') !== undefined) continue;
    // Issue 16: < 15 ms on PostgreSQL (with margin); the embedded database keeps the original 25 ms.
    const limit = kind === 'postgres' ? 15 : 25;
    // PostgreSQL's target holds in consecutive runs: every run's p95 is shown, and each must be under the limit.
    const runs = (at(r, 'card', kind, 'runsP95Ms') as number[] | undefined) ?? (p95 === undefined ? [] : [p95]);
    rows.push({
      target: `Card p95 < ${limit} ms at 20 concurrent (${label}${runs.length > 1 ? `, ${runs.length} consecutive runs` : ''})`,
      measured: runs.length > 1 ? `${runs.map((x) => fmt(x)).join(' / ')} ms` : fmt(p95, ' ms'),
      met: p95 === undefined ? undefined : runs.every((x) => x < limit),
      section: 'card',
    });
    if (at(r, 'card') === undefined) break;
  }
  for (const [kind, label] of KINDS) {
    const limit = PEAK_RSS_TARGET_MB[kind];
    for (const section of MEMORY_SECTIONS) {
      const s = at(r, section, kind);
      if (!measured(s)) continue;
      const rss = num(at(s, 'memory', 'peakRssMb'));
      rows.push({ target: `Server peak RSS < ${limit} MB (${label}, ${section})`, measured: fmt(rss, ' MB'), met: rss === undefined ? undefined : rss < limit, section });
    }
  }
  rows.push(...fairnessRows(r));
  rows.push(...destinationsRows(r));
  return rows;
}

const KINDS = [
  ['postgres', 'PostgreSQL'],
  ['pglite', 'embedded'],
] as const;
/** The sections that report the server's memory, each on both databases. */
const MEMORY_SECTIONS = ['burst', 'latency-curve', 'backfill'] as const;
/** A per-database result that ran (not absent, not skipped). */
const measured = (s: unknown): boolean => s !== undefined && s !== null && at(s, 'skipped') === undefined;

/** Peak RSS and its breakdown per section and database, and the backfill's durations. */
function memoryLines(r: Json): string[] {
  const out = [
    '| Section | Database | Peak RSS (VmHWM) | Target | Largest sample | At start of load | End | V8 heap used (max) | External (max) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  // The burst's second run (companies, deals and timeline on) is listed under the burst.
  const runs = MEMORY_SECTIONS.flatMap((section) => (section === 'burst' ? [[section], [section, 'crm']] : [[section]]));
  for (const path of runs) {
    for (const [kind, label] of KINDS) {
      const m = at(r, ...path, kind, 'memory');
      if (!measured(at(r, ...path, kind)) || m === undefined) continue;
      const v = (k: string) => fmt(num(at(m, k)), ' MB');
      const section = path.length > 1 ? `${path[0]} (companies, deals, timeline)` : path[0];
      out.push(
        `| ${section} | ${label} | ${v('peakRssMb')} | < ${PEAK_RSS_TARGET_MB[kind]} MB | ${v('maxSampledRssMb')} | ${v('startRssMb')} | ${v('endRssMb')} | ${v('maxHeapUsedMb')} | ${v('maxExternalMb')} |`,
      );
    }
  }
  if (out.length === 2) return ['No section measured the server memory.'];
  out.push(
    '',
    'Peak RSS is the kernel\'s high-water mark of the server process\'s resident set (its start included); the other columns are samples (every 200 ms for RSS, every second for the V8 figures the server exports on `/metrics`). External memory includes the embedded database\'s WebAssembly memory.',
    '',
    'What bounds it: the server runs with `--max-old-space-size=512 --max-semi-space-size=3 --v8-pool-size=1` (backend `start` script; the bench passes them on, and its loader: the tsx require hook `--require tsx/cjs`, in the main thread — `--import tsx` kept the ES module loader hooks thread, ~30 MB, for the life of the server), so V8 collects before its heap grows far past the live data (and on the embedded database the server lets the old generation grow only 10% past what survived the last full collection, `--heap-growing-percent=10` set at start, where V8 would choose up to 4 times: a 4,000-customer backfill\'s heap snapshots show the live objects growing by 9 MB, the rest of the heap\'s growth being garbage waiting for a collection) and compiles the WebAssembly of the embedded database on one helper thread; the embedded database starts with `shared_buffers=16MB` and `maintenance_work_mem=16MB` and a new one is created (initdb, ~950 MB at its peak) in a child process (src/adapters/store/pglite-setup.ts).',
  );
  const backfill: string[] = [];
  for (const [kind, label] of KINDS) {
    const b = at(r, 'backfill', kind);
    if (!measured(b)) continue;
    backfill.push(
      `| ${label} | ${fmt(num(at(b, 'customers')))} | ${fmt(num(at(b, 'seconds', 'completed')), ' s')} | ${fmt(num(at(b, 'seconds', 'allContactsWritten')), ' s')} | ${fmt(num(at(b, 'contacts', 'written')))} | ${fmt(num(at(b, 'hubspotCalls')))} |`,
    );
  }
  if (backfill.length > 0) {
    out.push('', '| Backfill | Customers | Run completed | Every contact written | Contacts | HubSpot calls |', '|---|---:|---:|---:|---:|---:|', ...backfill);
  }
  return out;
}

function baselineTable(r: Json): string[] {
  const b = KINDS.map(([kind]) => at(r, 'burst', kind)).find((x) => at(x, 'naive') !== undefined);
  if (b === undefined) return ['No burst section with the naive baseline: it was not measured.'];
  const ourCalls = num(at(b, 'hubspotCalls', 'total'));
  const naiveCalls = num(at(b, 'naive', 'projectedCalls'));
  const our100 = num(at(b, 'callsPer100Events', 'measured'));
  const naive100 = num(at(b, 'naive', 'callsPer100Events'));
  const ourDrain = num(at(b, 'drain', 'seconds'));
  const naiveDrain = num(at(b, 'naive', 'projectedDrainSeconds'));
  return [
    `Burst of ${fmt(num(at(b, 'events')))} events over ${fmt(num(at(b, 'customers')))} customers (${String(at(b, 'database'))}):`,
    '',
    '| | Ours | Naive per-event | Naive ÷ ours |',
    '|---|---:|---:|---:|',
    `| HubSpot calls | ${fmt(ourCalls)} | ${fmt(naiveCalls)} (projected) | ${ratio(naiveCalls, ourCalls)} |`,
    `| Calls per 100 events | ${fmt(our100)} | ${fmt(naive100)} | ${ratio(naive100, our100)} |`,
    `| Drain time | ${fmt(ourDrain, ' s')} | ${fmt(naiveDrain, ' s')} (projected) | ${ratio(naiveDrain, ourDrain)} |`,
    '',
    `Naive baseline: ${String(at(b, 'naive', 'projection') ?? 'see results.json')}; sample of ${fmt(num(at(b, 'naive', 'sample')))} events measured in the same run.`,
  ];
}

function chartSeries(r: Json): Series[] {
  const series: Series[] = [];
  const colors: Record<string, [string, string]> = { postgres: ['#1f77b4', '#d62728'], pglite: ['#17becf', '#e377c2'] };
  for (const [kind] of KINDS) {
    const curve = at(r, 'latency-curve', kind, 'points');
    if (!Array.isArray(curve) || curve.length === 0) continue;
    const pts = curve as Json[];
    const label = `latency-curve (${kind}, open loop)`;
    series.push({ label: `${label} p50`, color: colors[kind][0], line: true, points: pts.map((p) => ({ x: num(p.rate) ?? 0, y: num(p.p50) ?? 0 })) });
    series.push({ label: `${label} p99`, color: colors[kind][1], line: true, points: pts.map((p) => ({ x: num(p.rate) ?? 0, y: num(p.p99) ?? 0 })) });
  }
  const marker = (label: string, color: string, x: unknown, p50: unknown, p99: unknown) => {
    const xs = num(x);
    if (xs === undefined) return;
    const a = num(p50);
    const b = num(p99);
    if (a !== undefined) series.push({ label: `${label} p50`, color, line: false, shape: 'circle', points: [{ x: xs, y: a }] });
    if (b !== undefined) series.push({ label: `${label} p99`, color, line: false, shape: 'square', points: [{ x: xs, y: b }] });
  };
  const conc = num(at(r, 'ingest', 'concurrency'));
  for (const [kind, color] of [['pglite', '#2ca02c'], ['postgres', '#9467bd']]) {
    const s = at(r, 'ingest', kind);
    marker(`ingest ${kind} (${conc ?? '?'} concurrent, at its rate)`, color, at(s, 'ackPerSecond'), at(s, 'latencyMs', 'p50'), at(s, 'latencyMs', 'p99'));
  }
  const e = at(r, 'e2e-latency');
  marker(`e2e-latency ${String(at(e, 'database'))} ack`, '#ff7f0e', at(e, 'ratePerSecond'), at(e, 'send', 'ackMs', 'p50'), at(e, 'send', 'ackMs', 'p99'));
  return series;
}

function machineLines(r: Json): string[] {
  const out = ['| Section | Measured at | Database | CPUs | Load average (1, 5, 15 min) | Node |', '|---|---|---|---:|---|---|'];
  for (const [name, s] of Object.entries(r)) {
    if (name === 'report' || s === null || typeof s !== 'object') continue;
    const m = at(s, 'machine');
    const db = at(s, 'database') ?? (at(s, 'postgres') || at(s, 'pglite') ? ['pglite', 'postgres'].filter((k) => at(s, k, 'skipped') === undefined && at(s, k) !== undefined).join(' + ') : '–');
    const load = at(m, 'loadavg');
    out.push(`| ${name} | ${String(at(s, 'measuredAt') ?? '–')} | ${String(db)} | ${String(at(m, 'cpus') ?? '–')} (${String(at(m, 'cpuModel') ?? '?')}) | ${Array.isArray(load) ? load.join(', ') : '–'} | ${String(at(m, 'node') ?? '–')} |`);
  }
  return out;
}

/** For sections that carry no notes (ingest, card): the facts in their results that explain a miss. */
function derivedNotes(name: string, s: unknown): string[] {
  if (name === 'latency-curve') return KINDS.flatMap(([kind]) => (measured(at(s, kind)) ? curveNotes(at(s, kind)) : []));
  if (name !== 'ingest' && name !== 'card') return [];
  const out: string[] = [];
  const cpus = num(at(s, 'machine', 'cpus'));
  for (const kind of ['pglite', 'postgres']) {
    const k = at(s, kind);
    const drain = num(at(k, 'drainSeconds'));
    if (name === 'ingest' && drain !== undefined) {
      out.push(
        `${kind}: acknowledgements first — ${fmt(num(at(k, 'jobsDoneAtLastAck')))} event jobs ran during the flood of ` +
          `${fmt(num(at(k, 'count')))}; the rest were processed within ${drain} s after the last acknowledgement.`,
      );
    }
    if (k === undefined || at(k, 'skipped') !== undefined || at(k, 'met') !== false) continue;
    const cpu = num(at(k, 'serverCpuMsPerRequest'));
    const own = at(k, 'loadavg');
    const load = Array.isArray(own) ? `${own.join(' → ')} (before → after)` : Array.isArray(at(s, 'machine', 'loadavg')) ? `${(at(s, 'machine', 'loadavg') as number[]).join(', ')} (1, 5, 15 min)` : undefined;
    const what =
      name === 'ingest'
        ? `${fmt(num(at(k, 'ackPerSecond')), '/s')} with ack p99 ${fmt(num(at(k, 'latencyMs', 'p99')), ' ms')} at ${fmt(num(at(k, 'concurrency')))} concurrent`
        : `p95 ${fmt(num(at(k, 'latencyMs', 'p95')), ' ms')} at ${fmt(num(at(k, 'concurrency')) ?? num(at(s, 'concurrency')))} concurrent (one at a time: p95 ${fmt(num(at(k, 'serialLatencyMs', 'p95')), ' ms')})`;
    const cpuPart = cpu === undefined ? '' : `; the server spent ${cpu} ms of CPU per request, so one core tops out near ${Math.round(1000 / cpu)} requests/s`;
    const loadPart = load ? `; load average ${load} on ${cpus ?? '?'} CPUs shared with other test runs` : '';
    out.push(`${kind}: ${what}${cpuPart}${loadPart}.`);
  }
  return out;
}

function curveNotes(s: unknown): string[] {
  const out: string[] = [];
  const points = (at(s, 'points') as Json[] | undefined) ?? [];
  const slow = points.filter((p) => (num(p.achieved) ?? 0) < (num(p.rate) ?? 0) * 0.9);
  if (at(s, 'database') === 'pglite' && slow.length > 0) {
    out.push(
      `Embedded database: the server acknowledged at most ${Math.max(...points.map((p) => num(p.achieved) ?? 0))}/s here, far below the ingest section's figure. ` +
        'Unlike the ingest section (no HubSpot connected, nothing to push), this run has the whole product working: PGlite is one connection inside the server process, ' +
        "so each webhook insert waits behind the event jobs' and the pusher's transactions, and everything shares one core of a loaded machine.",
    );
  }
  const rss = num(at(s, 'peakRssMb'));
  const kind = at(s, 'database') === 'pglite' ? 'pglite' : 'postgres';
  if (rss !== undefined && rss >= PEAK_RSS_TARGET_MB[kind]) {
    out.push(
      `${kind}: peak RSS ${rss} MB is over ${PEAK_RSS_TARGET_MB[kind]} MB${kind === 'pglite' ? ': the embedded database (PostgreSQL compiled to WASM, its memory and caches) lives inside the server process' : ''}.`,
    );
  }
  return out;
}

function notesLines(r: Json): string[] {
  const out: string[] = [];
  for (const [name, s] of Object.entries(r)) {
    const given = at(s, 'notes');
    const perKind = KINDS.flatMap(([kind]) => {
      const n = at(s, kind, 'notes');
      return measured(at(s, kind)) && Array.isArray(n) ? n.map((x) => `${kind}: ${String(x)}`) : [];
    });
    const notes = [...derivedNotes(name, s), ...(Array.isArray(given) ? given.map(String) : []), ...perKind];
    if (notes.length === 0) continue;
    out.push(`### ${name}`, '', ...notes.map((n) => `- ${n}`), '');
  }
  return out;
}

export function renderReport(results: Json, svgName: string): string {
  const rows = targetRows(results);
  const missed = rows.filter((row) => row.met === false).length;
  const lines = [
    '# Benchmark report',
    '',
    `Generated from \`bench/results.json\` by \`node --import tsx bench/report.ts\`. Measure again with \`npm run bench\` (all sections) or \`npm run bench -- <section>\`.`,
    'Figures are what this 2-core machine gave, with the load generator, the server and the database on the same cores; the load averages at the time are listed below.',
    '',
    '## Targets',
    '',
    `${rows.length - missed - rows.filter((row) => row.met === undefined).length} met, ${missed} not met, ${rows.filter((row) => row.met === undefined).length} not measured.`,
    '',
    '| Target | Measured | Verdict | Section |',
    '|---|---:|---|---|',
    ...rows.map((row) => `| ${row.target} | ${row.measured} | ${verdict(row.met)} | ${row.section} |`),
    '',
    'Why a target is missed, in the words of the section that measured it:',
    '',
    ...notesLines(results),
    '## Burst: contacts only and with companies, deals, timeline',
    '',
    ...burstComparisonLines(results),
    '',
    '## Naive baseline',
    '',
    ...baselineTable(results),
    '',
    '## Memory',
    '',
    ...memoryLines(results),
    '',
    '## Fairness between merchants',
    '',
    'Merchant A (one tenant) is flooded while merchant B sends 5 events/s; B\'s end-to-end latency during the flood, A\'s drain against its floor.',
    '',
    ...fairnessTable(results),
    '',
    '## Destinations: HubSpot + Klaviyo + Loops',
    '',
    ...destinationsTable(results),
    '',
    '## Latency against load',
    '',
    `![Webhook acknowledgement latency against offered load](${svgName})`,
    '',
  ];
  for (const [kind, label] of KINDS) {
    const curve = at(results, 'latency-curve', kind, 'points');
    if (!Array.isArray(curve) || curve.length === 0) continue;
    lines.push(`${label}:`, '', '| Offered (events/s) | Acknowledged (events/s) | Ack p50 | Ack p99 |', '|---:|---:|---:|---:|');
    for (const p of curve as Json[]) lines.push(`| ${fmt(num(p.rate))} | ${fmt(num(p.achieved))} | ${fmt(num(p.p50), ' ms')} | ${fmt(num(p.p99), ' ms')} |`);
    lines.push('');
  }
  lines.push('## Machine', '', ...machineLines(results), '');
  return lines.join('\n');
}

/** Writes `REPORT.md` and `latency-vs-load.svg` into `outDir` from the parsed results; answers their paths. */
export function writeReport(results: Json, outDir: string): { report: string; chart: string } {
  const chart = join(outDir, 'latency-vs-load.svg');
  const report = join(outDir, 'REPORT.md');
  writeFileSync(chart, latencySvg(chartSeries(results), 'Webhook ack latency against offered load'));
  writeFileSync(report, renderReport(results, 'latency-vs-load.svg'));
  return { report, chart };
}

/** The `report` bench section: reads results.json next to this file and writes the report beside it. */
export async function writeReportFromResults(): Promise<Record<string, unknown>> {
  const results = JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as Json;
  const written = writeReport(results, __dirname);
  console.log(`report: wrote ${written.report} and ${written.chart}`);
  return { written: ['bench/REPORT.md', 'bench/latency-vs-load.svg'] };
}

if (require.main === module) {
  writeReportFromResults().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
