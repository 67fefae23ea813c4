import { applyAssociations, planAssociations, type AssociationInput } from '../association-input';
import { validationError, type HandlerResult } from '../errors';
import { publicObject } from '../object-store';
import { OBJECT_TYPES } from '../object-types';
import { applyObjectWrites, type PlannedObjectWrite } from '../object-writes';
import type { Context, Route } from '../router';
import type { CrmObjectType, FakeObject } from '../types';
import { batchBody, inputsOf, rejectDuplicateIds } from './contacts-batch';
import { checkObjectIdProperty, specOp } from './objects-basic';

/**
 * CRM objects v3 batch endpoints of companies, deals, tickets and notes: read (by id or unique idProperty),
 * create (with per-input `associations`), update, upsert (by a unique idProperty; results carry `new`), archive.
 * At most 100 inputs; writes are atomic per request, as for contacts.
 */

type Json = Record<string, unknown>;
type WriteInput = { id: string; idProperty?: string; properties: Record<string, string> };

function read(type: CrmObjectType, ctx: Context): HandlerResult {
  const store = ctx.portal.store(type);
  const body = ctx.body as { inputs: { id: string }[]; properties: string[]; idProperty?: string };
  const inputs = inputsOf<{ id: string }>(body);
  checkObjectIdProperty(store, body.idProperty);
  const archived = ctx.query.archived === 'true';
  const results: Json[] = [];
  const missing: string[] = [];
  const done = new Set<string>();
  for (const { id } of inputs) {
    const key = body.idProperty ? store.key(body.idProperty, id) : id;
    if (done.has(key)) continue;
    done.add(key);
    const record = archived ? [...store.records.values()].find((r) => r.archived && r.id === id) : store.resolve(id, body.idProperty);
    if (record) results.push(publicObject(store, record, body.properties));
    else missing.push(id);
  }
  return batchBody(results, ctx.now, missing, [], store.def.upper);
}

function create(type: CrmObjectType, ctx: Context): HandlerResult {
  const store = ctx.portal.store(type);
  const inputs = inputsOf<{ properties: Record<string, string>; associations: AssociationInput[] }>(ctx.body);
  const links = inputs.map((i) => planAssociations(ctx.portal, type, i.associations));
  const records = applyObjectWrites(ctx.portal, type, inputs.map((i) => ({ values: i.properties })), ctx.now, ctx.searchLagMs);
  records.forEach((r, n) => applyAssociations(ctx.portal, type, r.id, links[n]!));
  const res = batchBody(records.map((r) => publicObject(store, r, undefined, true)), ctx.now, [], [], store.def.upper);
  return { ...res, status: 201 };
}

function update(type: CrmObjectType, ctx: Context): HandlerResult {
  const store = ctx.portal.store(type);
  const inputs = inputsOf<WriteInput>(ctx.body);
  for (const i of inputs) checkObjectIdProperty(store, i.idProperty, 'update/upsert');
  rejectDuplicateIds(inputs.map((i) => `${i.idProperty ?? ''}:${i.idProperty ? store.key(i.idProperty, i.id) : i.id}`));
  const writes: PlannedObjectWrite[] = [];
  const missing: string[] = [];
  for (const i of inputs) {
    const record = store.resolve(i.id, i.idProperty);
    if (record) writes.push({ record, values: i.properties });
    else missing.push(i.id);
  }
  const records = writes.length > 0 ? applyObjectWrites(ctx.portal, type, writes, ctx.now, ctx.searchLagMs) : [];
  return batchBody(records.map((r) => publicObject(store, r, undefined, true)), ctx.now, missing, [], store.def.upper);
}

function upsert(type: CrmObjectType, ctx: Context): HandlerResult {
  const store = ctx.portal.store(type);
  const inputs = inputsOf<WriteInput>(ctx.body);
  for (const i of inputs) {
    if (!i.idProperty) throw validationError('idProperty is required for every upsert input');
    checkObjectIdProperty(store, i.idProperty, 'update/upsert');
  }
  rejectDuplicateIds(inputs.map((i) => `${i.idProperty}:${store.key(i.idProperty!, i.id)}`));
  const writes: PlannedObjectWrite[] = [];
  const isNew: boolean[] = [];
  for (const i of inputs) {
    const record: FakeObject | undefined = store.resolve(i.id, i.idProperty);
    if (!record && i.idProperty === 'hs_object_id') throw validationError(`Cannot upsert by hs_object_id: object ${i.id} does not exist`);
    writes.push({ record, values: record ? i.properties : { ...i.properties, [i.idProperty!]: i.id } });
    isNew.push(!record);
  }
  const records = applyObjectWrites(ctx.portal, type, writes, ctx.now, ctx.searchLagMs);
  const results = records.map((r, n) => ({ ...publicObject(store, r, undefined, true), new: isNew[n] }));
  return batchBody(results, ctx.now, [], [], store.def.upper);
}

function archive(type: CrmObjectType, ctx: Context): HandlerResult {
  const store = ctx.portal.store(type);
  for (const { id } of inputsOf<{ id: string }>(ctx.body)) {
    const record = store.resolve(id);
    if (!record) continue;
    store.archive(record, ctx.now);
    store.indexWrite(record, ctx.now.getTime(), ctx.searchLagMs, true);
  }
  return { status: 204 };
}

export function objectBatchRoutes(type: CrmObjectType): Route[] {
  const def = OBJECT_TYPES[type];
  return def.pathNames.flatMap((name): Route[] => {
    const batch = `/crm/v3/objects/${name}/batch`;
    const route = (verb: string, write: boolean, handler: (type: CrmObjectType, ctx: Context) => HandlerResult): Route => ({
      method: 'POST',
      path: `${batch}/${verb}`,
      kind: 'crm',
      write,
      op: specOp(def, `/batch/${verb}`, 'post'),
      handler: (ctx) => handler(type, ctx),
    });
    return [route('read', false, read), route('create', true, create), route('update', true, update), route('upsert', true, upsert), route('archive', true, archive)];
  });
}
