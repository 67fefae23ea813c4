import { applyAssociations, planAssociations, type AssociationInput } from '../association-input';
import { notFound, validationError, type HandlerResult } from '../errors';
import { publicObject, type ObjectStore } from '../object-store';
import { OBJECT_TYPES, type ObjectTypeDef } from '../object-types';
import { applyObjectWrites } from '../object-writes';
import type { Context, Route } from '../router';
import type { OperationRef } from '../spec-validator';
import type { CrmObjectType } from '../types';
import { listParam } from './contacts-basic';

/**
 * CRM objects v3 single-record endpoints of companies, deals, tickets and notes (under their name and their type
 * id, e.g. `/crm/v3/objects/companies` and `/crm/v3/objects/0-2`): get by id or unique `idProperty`, list,
 * create (with `associations`), update, archive. Bodies are validated against each type's vendored spec.
 */

type Json = Record<string, unknown>;

/** idProperty must be a property whose values are unique (hasUniqueValue, or email for contacts), or hs_object_id. */
export function checkObjectIdProperty(store: ObjectStore, idProperty: string | undefined, verb = 'read'): void {
  if (idProperty === undefined || idProperty === 'hs_object_id') return;
  if (!store.shape(idProperty)) {
    throw validationError(`Property "${idProperty}" does not exist`, {
      errors: [{ message: `Property "${idProperty}" does not exist`, code: 'PROPERTY_DOESNT_EXIST' }],
    });
  }
  if (!store.isUnique(idProperty)) throw validationError(`Unable to perform ${verb} by non-unique ${store.def.typeId} property`);
}

function getById(type: CrmObjectType, ctx: Context): HandlerResult {
  const store = ctx.portal.store(type);
  const idProperty = ctx.query.idProperty;
  checkObjectIdProperty(store, idProperty);
  const record =
    ctx.query.archived === 'true'
      ? [...store.records.values()].find((r) => r.archived && r.id === ctx.params.objectId)
      : store.resolve(ctx.params.objectId!, idProperty);
  if (!record) throw notFound();
  return { status: 200, body: publicObject(store, record, listParam(ctx.query, 'properties')) };
}

function getPage(type: CrmObjectType, ctx: Context): HandlerResult {
  const store = ctx.portal.store(type);
  const limit = ctx.query.limit === undefined ? 10 : Number(ctx.query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw validationError('limit must be an integer between 1 and 100');
  const archived = ctx.query.archived === 'true';
  const all = [...store.records.values()].filter((r) => r.archived === archived).sort((a, b) => Number(a.id) - Number(b.id));
  const after = ctx.query.after;
  const start = after === undefined ? 0 : all.findIndex((r) => Number(r.id) > Number(after));
  const page = start < 0 ? [] : all.slice(start, start + limit);
  const props = listParam(ctx.query, 'properties');
  const body: Json = { results: page.map((r) => publicObject(store, r, props)) };
  const last = page[page.length - 1];
  if (last && start + limit < all.length) {
    const next = String(Number(last.id) + 1);
    body.paging = { next: { after: next, link: `?after=${next}` } };
  }
  return { status: 200, body };
}

function create(type: CrmObjectType, ctx: Context): HandlerResult {
  const input = ctx.body as { properties: Record<string, string>; associations: AssociationInput[] };
  const links = planAssociations(ctx.portal, type, input.associations);
  const [record] = applyObjectWrites(ctx.portal, type, [{ values: input.properties }], ctx.now, ctx.searchLagMs);
  applyAssociations(ctx.portal, type, record!.id, links);
  return { status: 201, body: publicObject(ctx.portal.store(type), record!, undefined, true) };
}

function update(type: CrmObjectType, ctx: Context): HandlerResult {
  const store = ctx.portal.store(type);
  const idProperty = ctx.query.idProperty;
  checkObjectIdProperty(store, idProperty, 'update/upsert');
  const record = store.resolve(ctx.params.objectId!, idProperty);
  if (!record) throw notFound();
  const input = ctx.body as { properties: Record<string, string> };
  applyObjectWrites(ctx.portal, type, [{ record, values: input.properties }], ctx.now, ctx.searchLagMs);
  return { status: 200, body: publicObject(store, record, undefined, true) };
}

function archive(type: CrmObjectType, ctx: Context): HandlerResult {
  const store = ctx.portal.store(type);
  const record = store.resolve(ctx.params.objectId!);
  if (record) {
    store.archive(record, ctx.now);
    store.indexWrite(record, ctx.now.getTime(), ctx.searchLagMs, true);
  }
  return { status: 204 };
}

/** The spec operation of a path suffix ('' for the collection, '/{id}' for one record, '/batch/read', …). */
export function specOp(def: ObjectTypeDef, suffix: string, method: OperationRef['method']): OperationRef {
  return { file: def.spec, path: `${def.specBase}${suffix.replace('{id}', def.specIdParam)}`, method };
}

/** Listed after the batch and search routes, which `:objectId` would otherwise shadow. */
export function objectBasicRoutes(type: CrmObjectType): Route[] {
  const def = OBJECT_TYPES[type];
  return def.pathNames.flatMap((name): Route[] => {
    const base = `/crm/v3/objects/${name}`;
    return [
      { method: 'GET', path: base, kind: 'crm', handler: (ctx) => getPage(type, ctx) },
      { method: 'POST', path: base, kind: 'crm', write: true, op: specOp(def, '', 'post'), handler: (ctx) => create(type, ctx) },
      { method: 'GET', path: `${base}/:objectId`, kind: 'crm', handler: (ctx) => getById(type, ctx) },
      { method: 'PATCH', path: `${base}/:objectId`, kind: 'crm', write: true, op: specOp(def, '/{id}', 'patch'), handler: (ctx) => update(type, ctx) },
      { method: 'DELETE', path: `${base}/:objectId`, kind: 'crm', write: true, handler: (ctx) => archive(type, ctx) },
    ];
  });
}
