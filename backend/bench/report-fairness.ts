/** The `fairness` section in the benchmark report: its targets (one pair per database) and its table. */

type Json = Record<string, unknown>;

export interface FairnessRow {
  target: string;
  measured: string;
  met: boolean | undefined;
  section: string;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const label = (kind: unknown) => (kind === 'postgres' ? 'PostgreSQL' : 'embedded');

function runsOf(results: Json): Json[] {
  const s = results.fairness as Json | undefined;
  return Array.isArray(s?.runs) ? (s.runs as Json[]) : [];
}

const get = (run: Json, ...path: string[]): number | undefined => {
  let cur: unknown = run;
  for (const k of path) cur = cur !== null && typeof cur === 'object' ? (cur as Json)[k] : undefined;
  return num(cur);
};

export function fairnessRows(results: Json): FairnessRow[] {
  const runs = runsOf(results);
  if (runs.length === 0) {
    return [{ target: "Quiet merchant's p99 < 3 s during another's flood", measured: 'not measured', met: undefined, section: 'fairness' }];
  }
  return runs.flatMap((run) => {
    const p99 = get(run, 'quiet', 'latencyMs', 'p99');
    const over = get(run, 'drain', 'overFloor');
    const events = get(run, 'flood', 'events');
    return [
      {
        target: `Quiet merchant (5 events/s) p99 < 3 s during a ${events?.toLocaleString('en-US') ?? '?'}-event flood (${label(run.database)})`,
        measured: p99 === undefined ? 'not measured' : `${p99.toLocaleString('en-US')} ms`,
        met: p99 === undefined ? undefined : p99 < 3000,
        section: 'fairness',
      },
      {
        target: `Flooding merchant drains ≤ 1.5× its floor (${label(run.database)})`,
        measured: over === undefined ? 'not measured' : `${over}× (${get(run, 'drain', 'seconds')} s vs floor ${get(run, 'drain', 'floorSeconds')} s)`,
        met: over === undefined ? undefined : over <= 1.5,
        section: 'fairness',
      },
    ];
  });
}

export function fairnessTable(results: Json): string[] {
  const runs = runsOf(results);
  if (runs.length === 0) return ['No fairness section in results.json.'];
  const ms = (v: number | undefined) => (v === undefined ? '–' : `${v.toLocaleString('en-US')} ms`);
  return [
    '| Database | A: flood | A: sent in | A: drained in (floor) | B: p50 | B: p99 | B: ack p99 | Most jobs waiting |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...runs.map(
      (run) =>
        `| ${label(run.database)} | ${get(run, 'flood', 'events')?.toLocaleString('en-US') ?? '–'} events | ${get(run, 'flood', 'sendSeconds') ?? '–'} s | ` +
        `${get(run, 'drain', 'seconds') ?? '–'} s (${get(run, 'drain', 'floorSeconds') ?? '–'} s) | ${ms(get(run, 'quiet', 'latencyMs', 'p50'))} | ` +
        `${ms(get(run, 'quiet', 'latencyMs', 'p99'))} | ${ms(get(run, 'quiet', 'ackMs', 'p99'))} | ${get(run, 'maxQueueDepth')?.toLocaleString('en-US') ?? '–'} |`,
    ),
    '',
    "Where A's time went, per 10 s from the flood's first send (HubSpot calls to A's portal, of the 100 our budget allows; event jobs waiting at the end of the window):",
    '',
    ...runs.flatMap((run) => {
      const t = run.timeline as { callsPer10s?: number[]; queueDepthPer10s?: number[] } | undefined;
      if (!t?.callsPer10s) return [];
      return [`- ${label(run.database)}: calls ${t.callsPer10s.join(' ')}; jobs waiting ${(t.queueDepthPer10s ?? []).join(' ')}`];
    }),
  ];
}
