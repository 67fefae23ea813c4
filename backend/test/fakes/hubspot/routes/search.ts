import { validationError, type HandlerResult } from '../errors';
import { publicObject, type ObjectStore } from '../object-store';
import { OBJECT_TYPES } from '../object-types';
import type { Context, Route } from '../router';
import type { CrmObjectType, FakeObject } from '../types';
import { specOp } from './objects-basic';

/**
 * `POST /crm/v3/objects/{contacts,companies,deals,tickets,notes}/search`: filterGroups (OR of ANDed filters) over
 * what the search index sees — a record written less than `searchLagMs` ago is found with its previous values, or
 * not at all. `query` looks in the type's text properties (contacts: name, email, phone, company).
 * String comparisons are case-insensitive. Paging: `after` is an offset; at most 200 results a page.
 */

interface Filter {
  propertyName: string;
  operator: string;
  value?: string;
  values?: string[];
  highValue?: string;
}

interface SearchRequest {
  filterGroups: { filters: Filter[] }[];
  sorts: string[];
  properties: string[];
  limit: number;
  after: string;
  query?: string;
}

export const MAX_SEARCH_LIMIT = 200;
const MAX_GROUPS = 5;
const MAX_FILTERS_PER_GROUP = 6;
const MAX_FILTERS = 18;

function fold(v: string): string {
  return v.toLowerCase();
}

function compare(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && !Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  const da = Date.parse(a);
  const db = Date.parse(b);
  if (!Number.isNaN(da) && !Number.isNaN(db) && /\d{4}-\d{2}-\d{2}/.test(a) && /\d{4}-\d{2}-\d{2}/.test(b)) return da - db;
  return fold(a) < fold(b) ? -1 : fold(a) > fold(b) ? 1 : 0;
}

function tokenMatch(value: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return value.split(/[\s@.,;:_-]+/).some((t) => re.test(t)) || re.test(value);
}

function matches(record: FakeObject, f: Filter): boolean {
  const v = record.properties[f.propertyName];
  const want = f.value ?? '';
  switch (f.operator) {
    case 'HAS_PROPERTY':
      return v !== undefined && v !== '';
    case 'NOT_HAS_PROPERTY':
      return v === undefined || v === '';
    case 'EQ':
      return v !== undefined && compare(v, want) === 0;
    case 'NEQ':
      return v === undefined || compare(v, want) !== 0;
    case 'IN':
      return v !== undefined && (f.values ?? []).some((x) => compare(v, x) === 0);
    case 'NOT_IN':
      return v === undefined || !(f.values ?? []).some((x) => compare(v, x) === 0);
    case 'GT':
      return v !== undefined && compare(v, want) > 0;
    case 'GTE':
      return v !== undefined && compare(v, want) >= 0;
    case 'LT':
      return v !== undefined && compare(v, want) < 0;
    case 'LTE':
      return v !== undefined && compare(v, want) <= 0;
    case 'BETWEEN':
      return v !== undefined && compare(v, want) >= 0 && compare(v, f.highValue ?? '') <= 0;
    case 'CONTAINS_TOKEN':
      return v !== undefined && tokenMatch(v, want);
    case 'NOT_CONTAINS_TOKEN':
      return v === undefined || !tokenMatch(v, want);
    default:
      return false;
  }
}

function check(store: ObjectStore, req: SearchRequest): void {
  if (!Number.isInteger(req.limit) || req.limit < 0 || req.limit > MAX_SEARCH_LIMIT) {
    throw validationError(`limit must be between 0 and ${MAX_SEARCH_LIMIT}, got ${req.limit}`);
  }
  if (req.after !== '' && !/^\d+$/.test(req.after)) throw validationError(`after must be a paging cursor, got "${req.after}"`);
  if (req.filterGroups.length > MAX_GROUPS) throw validationError(`Too many filter groups: at most ${MAX_GROUPS}`);
  let total = 0;
  for (const g of req.filterGroups) {
    if (g.filters.length > MAX_FILTERS_PER_GROUP) throw validationError(`Too many filters in a group: at most ${MAX_FILTERS_PER_GROUP}`);
    total += g.filters.length;
    for (const f of g.filters) {
      if (!store.properties.has(f.propertyName)) {
        throw validationError(`There was a problem with the request: property "${f.propertyName}" does not exist`);
      }
      if (f.operator === 'IN' || f.operator === 'NOT_IN') {
        if (!f.values || f.values.length === 0) throw validationError(`${f.operator} requires values`);
      } else if (!['HAS_PROPERTY', 'NOT_HAS_PROPERTY'].includes(f.operator) && f.value === undefined) {
        throw validationError(`${f.operator} on ${f.propertyName} requires a value`);
      }
      if (f.operator === 'BETWEEN' && f.highValue === undefined) throw validationError('BETWEEN requires highValue');
    }
  }
  if (total > MAX_FILTERS) throw validationError(`Too many filters: at most ${MAX_FILTERS}`);
}

function sorter(sorts: string[]): (a: FakeObject, b: FakeObject) => number {
  return (a, b) => {
    for (const s of sorts) {
      const desc = s.startsWith('-');
      const name = desc ? s.slice(1) : s;
      const av = a.properties[name];
      const bv = b.properties[name];
      if (av === bv) continue;
      if (av === undefined) return 1;
      if (bv === undefined) return -1;
      const c = compare(av, bv);
      if (c !== 0) return desc ? -c : c;
    }
    return Number(a.id) - Number(b.id);
  };
}

function search(type: CrmObjectType, ctx: Context): HandlerResult {
  const store = ctx.portal.store(type);
  const req = ctx.body as SearchRequest;
  check(store, req);
  const q = req.query?.trim();
  const found = store
    .searchable(ctx.now.getTime())
    .filter((c) => req.filterGroups.length === 0 || req.filterGroups.some((g) => g.filters.every((f) => matches(c, f))))
    .filter((c) => !q || store.def.queryProperties.some((p) => fold(c.properties[p] ?? '').includes(fold(q))))
    .sort(sorter(req.sorts));
  const offset = req.after === '' ? 0 : Number(req.after);
  const page = found.slice(offset, offset + req.limit);
  const body: Record<string, unknown> = {
    total: found.length,
    results: page.map((c) => publicObject(store, c, req.properties)),
  };
  if (offset + req.limit < found.length && req.limit > 0) {
    body.paging = { next: { after: String(offset + req.limit) } };
  }
  return { status: 200, body };
}

export const searchRoutes: Route[] = [
  {
    method: 'POST',
    path: '/crm/v3/objects/contacts/search',
    kind: 'search',
    op: { file: 'crm-contacts-v3', path: '/crm/v3/objects/contacts/search', method: 'post' },
    handler: (ctx) => search('contacts', ctx),
  },
];

/** Search of another object type, under its name and its type id. */
export function objectSearchRoutes(type: CrmObjectType): Route[] {
  const def = OBJECT_TYPES[type];
  return def.pathNames.map((name) => ({
    method: 'POST',
    path: `/crm/v3/objects/${name}/search`,
    kind: 'search',
    op: specOp(def, '/search', 'post'),
    handler: (ctx: Context) => search(type, ctx),
  }));
}
