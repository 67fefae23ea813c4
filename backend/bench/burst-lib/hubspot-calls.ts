/** Counting what a sync asked of HubSpot, from the fake HubSpot's request log. */

export type CallKind = 'setup' | 'match' | 'search' | 'write' | 'other';

/** The part of a recorded request these counts need (the fake's `RecordedRequest` has it). */
export interface LoggedCall {
  method: string;
  path: string;
  status: number;
  portalId: number | null;
  at: number;
}

/**
 * setup: account lookups, property/group and pipeline provisioning (once per portal); match: batch reads and single
 * reads; search: CRM search; write: creates, updates and upserts of contacts (and tasks).
 */
export function callKind(method: string, path: string): CallKind {
  if (path.startsWith('/crm/v3/properties') || path.startsWith('/crm/v3/pipelines') || path.startsWith('/account-info') || path.startsWith('/integrations/')) return 'setup';
  if (path.endsWith('/search')) return 'search';
  if (/\/batch\/read$/.test(path) || method === 'GET') return 'match';
  if (/\/batch\/(create|update|upsert)$/.test(path) || ((method === 'POST' || method === 'PATCH') && path.startsWith('/crm/v3/objects/'))) {
    return 'write';
  }
  return 'other';
}

/**
 * What a call was about: contacts, companies, deals, tickets, tasks, associations (v4, and v3 association paths),
 * timeline (timeline events and notes), provisioning (account lookups, properties and groups, pipelines), other.
 */
export type ObjectKind = 'contacts' | 'companies' | 'deals' | 'tickets' | 'tasks' | 'associations' | 'timeline' | 'provisioning' | 'other';

export const OBJECT_KINDS: readonly ObjectKind[] = ['contacts', 'companies', 'deals', 'tickets', 'tasks', 'associations', 'timeline', 'provisioning', 'other'];

export function objectKind(path: string): ObjectKind {
  const p = path.split('?')[0];
  if (p.startsWith('/crm/v3/properties') || p.startsWith('/crm/v3/pipelines') || p.startsWith('/account-info') || p.startsWith('/integrations/')) {
    return 'provisioning';
  }
  if (p.startsWith('/crm/v4/') || /^\/crm\/v3\/(objects|associations)\/[^/]+(\/[^/]+)?\/associations/.test(p) || p.startsWith('/crm/v3/associations')) {
    return 'associations';
  }
  if (p.startsWith('/integrators/timeline') || p.startsWith('/crm/v3/timeline') || p.startsWith('/crm/v3/objects/notes')) return 'timeline';
  const m = /^\/crm\/v3\/objects\/([^/]+)/.exec(p);
  if (m && (['contacts', 'companies', 'deals', 'tickets', 'tasks'] as string[]).includes(m[1])) return m[1] as ObjectKind;
  return 'other';
}

export interface CallCounts {
  /** Every request the portal's token made (429s included: they were sent). */
  total: number;
  byKind: Record<CallKind, number>;
  /** The same calls by what they were about (objectKind). */
  byObject: Record<ObjectKind, number>;
  /** Requests answered 429. */
  rateLimited: number;
  /** Arrival of the first and the last request (ms since epoch), null when none. */
  first: number | null;
  last: number | null;
}

export function countCalls(log: readonly LoggedCall[], filter: { portalId: number; from?: number; to?: number }): CallCounts {
  const byKind: Record<CallKind, number> = { setup: 0, match: 0, search: 0, write: 0, other: 0 };
  const byObject = Object.fromEntries(OBJECT_KINDS.map((k) => [k, 0])) as Record<ObjectKind, number>;
  let total = 0;
  let rateLimited = 0;
  let first: number | null = null;
  let last: number | null = null;
  for (const r of log) {
    if (r.portalId !== filter.portalId) continue;
    if (filter.from !== undefined && r.at < filter.from) continue;
    if (filter.to !== undefined && r.at > filter.to) continue;
    total += 1;
    byKind[callKind(r.method, r.path)] += 1;
    byObject[objectKind(r.path)] += 1;
    if (r.status === 429) rateLimited += 1;
    first = first === null ? r.at : Math.min(first, r.at);
    last = last === null ? r.at : Math.max(last, r.at);
  }
  return { total, byKind, byObject, rateLimited, first, last };
}

/** Records per successful batch call, by kind: how well the sync filled its batches (HubSpot allows 100). */
export function batchFill(
  log: readonly (LoggedCall & { body: unknown })[],
  filter: { portalId: number; from?: number; to?: number },
): Record<'match' | 'write', { calls: number; records: number; meanPerCall: number }> {
  const out = { match: { calls: 0, records: 0, meanPerCall: 0 }, write: { calls: 0, records: 0, meanPerCall: 0 } };
  for (const r of log) {
    if (r.portalId !== filter.portalId || r.status < 200 || r.status >= 300 || !r.path.includes('/batch/')) continue;
    if ((filter.from !== undefined && r.at < filter.from) || (filter.to !== undefined && r.at > filter.to)) continue;
    const kind = callKind(r.method, r.path);
    if (kind !== 'match' && kind !== 'write') continue;
    out[kind].calls += 1;
    out[kind].records += (r.body as { inputs?: unknown[] } | undefined)?.inputs?.length ?? 0;
  }
  for (const k of ['match', 'write'] as const) out[k].meanPerCall = out[k].calls ? Math.round((out[k].records / out[k].calls) * 10) / 10 : 0;
  return out;
}

/** Per object kind: calls, how many were batch calls, and the records those batches carried (HubSpot takes 100). */
export function objectFill(
  log: readonly (LoggedCall & { body: unknown })[],
  filter: { portalId: number; from?: number; to?: number },
): Record<ObjectKind, { calls: number; batchCalls: number; records: number; meanPerBatch: number }> {
  const out = Object.fromEntries(OBJECT_KINDS.map((k) => [k, { calls: 0, batchCalls: 0, records: 0, meanPerBatch: 0 }])) as Record<
    ObjectKind,
    { calls: number; batchCalls: number; records: number; meanPerBatch: number }
  >;
  for (const r of log) {
    if (r.portalId !== filter.portalId) continue;
    if ((filter.from !== undefined && r.at < filter.from) || (filter.to !== undefined && r.at > filter.to)) continue;
    const o = out[objectKind(r.path)];
    o.calls += 1;
    if (!r.path.includes('/batch')) continue;
    o.batchCalls += 1;
    o.records += (r.body as { inputs?: unknown[] } | undefined)?.inputs?.length ?? 0;
  }
  for (const k of OBJECT_KINDS) out[k].meanPerBatch = out[k].batchCalls ? Math.round((out[k].records / out[k].batchCalls) * 10) / 10 : 0;
  return out;
}

/** Calls per method and path (record ids as {id}, query left out): exactly where the calls went. */
export function callPaths(log: readonly LoggedCall[], filter: { portalId: number; from?: number; to?: number }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of log) {
    if (r.portalId !== filter.portalId) continue;
    if ((filter.from !== undefined && r.at < filter.from) || (filter.to !== undefined && r.at > filter.to)) continue;
    const key = `${r.method} ${r.path.split('?')[0].replace(/\/\d+(?=\/|$)/g, '/{id}')}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}
