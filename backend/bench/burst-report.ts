/**
 * The burst section in the benchmark report (report.ts): the target rows of the burst with companies, deals and
 * timeline on, and the two runs side by side — contacts only (`burst.<database>`) and with those records on
 * (`burst.crm.<database>`) — with their calls by object type. Pure functions of results.json.
 */

type Json = Record<string, unknown>;

function at(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Json)[k];
  }
  return cur;
}
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const fmt = (v: number | undefined, unit = ''): string => (v === undefined ? '–' : `${v.toLocaleString('en-US')}${unit}`);

const KINDS = [
  ['postgres', 'PostgreSQL'],
  ['pglite', 'embedded'],
] as const;

const RUNS = [
  { path: [] as string[], label: 'contacts only' },
  { path: ['crm'], label: 'companies + deals + timeline' },
] as const;

/** Calls-by-object columns, in the order the report shows them. */
const OBJECT_COLUMNS: [string, string][] = [
  ['contacts', 'Contacts'],
  ['companies', 'Companies'],
  ['deals', 'Deals'],
  ['associations', 'Associations'],
  ['timeline', 'Timeline / notes'],
  ['tickets', 'Tickets'],
  ['tasks', 'Tasks'],
  ['provisioning', 'Properties / pipelines'],
  ['other', 'Other'],
];

/** A run that was measured (present, not skipped). */
function run(r: Json, path: readonly string[], kind: string): Json | undefined {
  const s = at(r, 'burst', ...path, kind);
  if (s === undefined || s === null || typeof s !== 'object' || at(s, 'skipped') !== undefined) return undefined;
  return s as Json;
}

export interface BurstRow {
  target: string;
  measured: string;
  met: boolean | undefined;
  section: string;
}

/** The issue-13 targets of the burst with companies, deals and timeline on, per database measured. */
export function crmBurstRows(r: Json): BurstRow[] {
  const rows: BurstRow[] = [];
  for (const [kind, label] of KINDS) {
    const b = run(r, ['crm'], kind);
    if (!b) continue;
    const calls = num(at(b, 'callsPer100Events', 'measured'));
    const target = num(at(b, 'callsPer100Events', 'target')) ?? 3;
    rows.push({
      target: `≤ ${target} HubSpot calls per 100 events (burst with companies, deals, timeline; ${label})`,
      measured: fmt(calls),
      met: calls === undefined ? undefined : calls <= target,
      section: 'burst',
    });
    const drain = num(at(b, 'drain', 'ratio'));
    rows.push({
      target: `Burst drain ≤ 1.5× the rate-limit floor (companies, deals, timeline; ${label})`,
      measured: drain === undefined ? 'not measured' : `${drain}× (${num(at(b, 'drain', 'seconds'))} s vs floor ${num(at(b, 'drain', 'floorSeconds'))} s)`,
      met: drain === undefined ? undefined : drain <= 1.5,
      section: 'burst',
    });
  }
  return rows;
}

/** The two runs side by side, their calls by object type, the records written, and the crm runs' notes. */
export function burstComparisonLines(r: Json): string[] {
  const measured = RUNS.flatMap((x) => KINDS.map(([kind, label]) => ({ ...x, kind, db: label, b: run(r, x.path, kind) }))).filter(
    (x): x is typeof x & { b: Json } => x.b !== undefined,
  );
  if (measured.length === 0) return ['The burst section was not measured.'];
  const out = [
    'The same 2,000 events over 400 customers, contacts only (settings.crm all off) and with companies, deals and timeline on (tickets off). Floor = calls ÷ our budget of 10 per second.',
    '',
    '| Run | Database | Events | HubSpot calls | Per 100 events | Target | Drain | Floor | Drain ÷ floor | Setup calls before the burst |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const x of measured) {
    const b = x.b;
    out.push(
      `| ${x.label} | ${x.db} | ${fmt(num(at(b, 'events')))} | ${fmt(num(at(b, 'hubspotCalls', 'total')))} | ${fmt(num(at(b, 'callsPer100Events', 'measured')))} | ≤ ${fmt(num(at(b, 'callsPer100Events', 'target')))} | ` +
        `${fmt(num(at(b, 'drain', 'seconds')), ' s')} | ${fmt(num(at(b, 'drain', 'floorSeconds')), ' s')} | ${fmt(num(at(b, 'drain', 'ratio')), '×')} | ${fmt(num(at(b, 'hubspotCalls', 'setupBeforeBurst')))} |`,
    );
  }
  out.push(
    '',
    'HubSpot calls of the burst by object type (batch calls: mean records per call in brackets; HubSpot takes 100):',
    '',
    `| Run | Database | ${OBJECT_COLUMNS.map(([, t]) => t).join(' | ')} |`,
    `|---|---|${OBJECT_COLUMNS.map(() => '---:').join('|')}|`,
  );
  for (const x of measured) {
    const cells = OBJECT_COLUMNS.map(([k]) => {
      const n = num(at(x.b, 'hubspotCalls', 'byObject', k));
      const mean = num(at(x.b, 'hubspotCalls', 'byObjectFill', k, 'meanPerBatch'));
      return n === undefined ? '–' : `${n}${mean ? ` (${mean})` : ''}`;
    });
    out.push(`| ${x.label} | ${x.db} | ${cells.join(' | ')} |`);
  }
  const withRecords = measured.filter((x) => at(x.b, 'records') !== undefined);
  if (withRecords.length > 0) {
    out.push('', '| Records after the burst | Database | Companies (expected) | Deals (expected) | Notes | Timeline events | Contact–company | Contact–deal | Company–deal |', '|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const x of withRecords) {
      const g = (...p: string[]) => fmt(num(at(x.b, 'records', ...p)));
      out.push(
        `| ${x.label} | ${x.db} | ${g('companies', 'found')} (${g('companies', 'expected')}) | ${g('deals', 'found')} (${g('deals', 'expected')}) | ${g('notes')} | ${g('timelineEvents')} | ` +
          `${g('associations', 'contactCompany')} | ${g('associations', 'contactDeal')} | ${g('associations', 'companyDeal')} |`,
      );
    }
  }
  const crmRuns = measured.filter((x) => x.path.length > 0 && at(x.b, 'hubspotCalls', 'byPath') !== undefined);
  if (crmRuns.length > 0) {
    const paths = [...new Set(crmRuns.flatMap((x) => Object.keys(at(x.b, 'hubspotCalls', 'byPath') as Json)))];
    const calls = (x: (typeof crmRuns)[number], p: string) => num(at(x.b, 'hubspotCalls', 'byPath', p)) ?? 0;
    paths.sort((a, b) => calls(crmRuns[0], b) - calls(crmRuns[0], a) || a.localeCompare(b));
    out.push('', 'Where the calls of the burst with companies, deals and timeline went:', '', `| Call | ${crmRuns.map((x) => x.db).join(' | ')} |`, `|---|${crmRuns.map(() => '---:').join('|')}|`);
    for (const p of paths) out.push(`| \`${p}\` | ${crmRuns.map((x) => calls(x, p)).join(' | ')} |`);
  }
  const load = at(r, 'burst', 'machine', 'loadavg');
  if (Array.isArray(load)) out.push('', `Load average when the section ended: ${load.join(', ')} (1, 5, 15 min) on ${fmt(num(at(r, 'burst', 'machine', 'cpus')))} cores; the drain ratio depends on it, calls per 100 events do not.`);
  const notes = measured.filter((x) => x.path.length > 0).flatMap((x) => {
    const n = at(x.b, 'notes');
    return Array.isArray(n) ? n.map((t) => `- ${x.db}, ${x.label}: ${String(t)}`) : [];
  });
  if (notes.length > 0) out.push('', ...notes);
  return out;
}
