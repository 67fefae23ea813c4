import { notFound, standardError, validationError, type HandlerResult } from '../errors';
import { associableTypeOf, TYPE_IDS } from '../object-types';
import type { Portal } from '../portal';
import type { Context, Route } from '../router';
import type { OperationRef } from '../spec-validator';
import type { AssociableType } from '../types';
import { inputsOf } from './contacts-batch';

/**
 * Associations v4: batch create (labelled or unlabeled types), batch associate default, batch read, batch archive,
 * and per record: list (`GET /crm/v4/objects/{type}/{id}/associations/{toType}`), associate default (PUT), create
 * with types (PUT) and remove (DELETE). Object types by name, singular or type id.
 *
 * Missing records: batch create answers 207, creating the valid inputs, with an OBJECT_NOT_FOUND error per
 * missing side (the spec documents 201/207; the error text is assumed); associate default, whose spec has no 207,
 * answers 400 and changes nothing; batch read answers 207 listing the missing ids, like contacts. An association
 * type that does not exist between the two object types: 400 for the whole request.
 */

type Json = Record<string, unknown>;

interface Spec {
  associationCategory: string;
  associationTypeId: number;
}

const op = (suffix: string, method: OperationRef['method'] = 'post'): OperationRef => ({
  file: 'crm-associations-v4',
  path: `/crm/v4/associations/{fromObjectType}/{toObjectType}${suffix}`,
  method,
});
const objOp = (path: string, method: OperationRef['method']): OperationRef => ({ file: 'crm-associations-v4', path, method });

function typeParam(name: string): AssociableType {
  const t = associableTypeOf(name);
  if (!t) throw validationError(`Unable to infer object type from: ${name}`);
  return t;
}

function pair(ctx: Context, fromKey: string, toKey: string): [AssociableType, AssociableType] {
  const from = typeParam(ctx.params[fromKey]!);
  const to = typeParam(ctx.params[toKey]!);
  if (!ctx.portal.associationStore.defaultType(from, to)) throw validationError(`${from} cannot be associated with ${to}`);
  return [from, to];
}

/** Throws 400 unless every spec names a type that exists from → to. */
function checkSpecs(portal: Portal, from: AssociableType, to: AssociableType, specs: Spec[]): void {
  if (specs.length === 0) throw validationError('An association needs at least one association type');
  for (const s of specs) {
    if (!portal.associationStore.typeDef(from, to, s.associationTypeId, s.associationCategory)) {
      throw validationError(`association type id ${s.associationTypeId} (${s.associationCategory}) doesn't exist between ${TYPE_IDS[from]} and ${TYPE_IDS[to]}`, {
        context: { associationTypeId: [String(s.associationTypeId)] },
      });
    }
  }
}

function missingError(type: AssociableType, ids: string[]): Json {
  return standardError('OBJECT_NOT_FOUND', `Could not find ${type} with ids [${ids.join(', ')}]: they may be deleted or not exist.`, { ids });
}

function labelsBetween(portal: Portal, from: AssociableType, fromId: string, to: AssociableType, toId: string): Json {
  const link = portal.associationStore.from(from, fromId, to).find((a) => a.toId === toId);
  return {
    fromObjectTypeId: TYPE_IDS[from],
    fromObjectId: fromId,
    toObjectTypeId: TYPE_IDS[to],
    toObjectId: toId,
    labels: (link?.types ?? []).map((t) => t.label).filter((l): l is string => l !== null),
  };
}

function batchEnvelope(ctx: Context, results: Json[], errors: Json[], okStatus: number): HandlerResult {
  const body: Json = { status: 'COMPLETE', results, startedAt: ctx.now.toISOString(), completedAt: new Date().toISOString() };
  if (errors.length === 0) return { status: okStatus, body };
  return { status: 207, body: { ...body, numErrors: errors.length, errors } };
}

function batchCreate(ctx: Context): HandlerResult {
  const [from, to] = pair(ctx, 'fromObjectType', 'toObjectType');
  const inputs = inputsOf<{ from: { id: string }; to: { id: string }; types: Spec[] }>(ctx.body);
  for (const i of inputs) checkSpecs(ctx.portal, from, to, i.types);
  const results: Json[] = [];
  const missingFrom: string[] = [];
  const missingTo: string[] = [];
  for (const i of inputs) {
    const okFrom = ctx.portal.exists(from, i.from.id);
    const okTo = ctx.portal.exists(to, i.to.id);
    if (!okFrom) missingFrom.push(i.from.id);
    if (!okTo) missingTo.push(i.to.id);
    if (!okFrom || !okTo) continue;
    ctx.portal.associationStore.add(from, i.from.id, to, i.to.id, i.types.map((t) => t.associationTypeId));
    results.push(labelsBetween(ctx.portal, from, i.from.id, to, i.to.id));
  }
  const errors = [
    ...(missingFrom.length > 0 ? [missingError(from, [...new Set(missingFrom)])] : []),
    ...(missingTo.length > 0 ? [missingError(to, [...new Set(missingTo)])] : []),
  ];
  return batchEnvelope(ctx, results, errors, 201);
}

function associateDefault(ctx: Context): HandlerResult {
  const [from, to] = pair(ctx, 'fromObjectType', 'toObjectType');
  const inputs = inputsOf<{ from: { id: string }; to: { id: string } }>(ctx.body);
  const missing = [
    ...inputs.filter((i) => !ctx.portal.exists(from, i.from.id)).map((i) => `${from} ${i.from.id}`),
    ...inputs.filter((i) => !ctx.portal.exists(to, i.to.id)).map((i) => `${to} ${i.to.id}`),
  ];
  if (missing.length > 0) {
    throw validationError(`Could not associate: these records do not exist: [${[...new Set(missing)].join(', ')}]`, {
      context: { ids: [...new Set(missing)] },
    });
  }
  const def = ctx.portal.associationStore.defaultType(from, to)!;
  const results = inputs.map((i) => {
    ctx.portal.associationStore.add(from, i.from.id, to, i.to.id, []);
    return {
      from: { id: i.from.id },
      to: { id: i.to.id },
      associationSpec: { associationCategory: def.category, associationTypeId: def.typeId },
    };
  });
  return batchEnvelope(ctx, results, [], 200);
}

function toAssociated(portal: Portal, from: AssociableType, fromId: string, to: AssociableType): Json[] {
  return portal.associationStore
    .from(from, fromId, to)
    .filter((a) => portal.exists(to, a.toId))
    .map((a) => ({
      toObjectId: a.toId,
      associationTypes: a.types.map((t) => ({ category: t.category, typeId: t.typeId, label: t.label })),
    }));
}

function batchRead(ctx: Context): HandlerResult {
  const [from, to] = pair(ctx, 'fromObjectType', 'toObjectType');
  const inputs = inputsOf<{ id: string; after?: string }>(ctx.body);
  const results: Json[] = [];
  const missing: string[] = [];
  for (const i of inputs) {
    if (!ctx.portal.exists(from, i.id)) {
      missing.push(i.id);
      continue;
    }
    const tos = toAssociated(ctx.portal, from, i.id, to);
    if (tos.length > 0) results.push({ from: { id: i.id }, to: tos });
  }
  return batchEnvelope(ctx, results, missing.length > 0 ? [missingError(from, missing)] : [], 200);
}

function batchArchive(ctx: Context): HandlerResult {
  const [from, to] = pair(ctx, 'fromObjectType', 'toObjectType');
  const inputs = inputsOf<{ from: { id: string }; to: { id: string }[] }>(ctx.body);
  for (const i of inputs) for (const t of i.to) ctx.portal.associationStore.removeAll(from, i.from.id, to, t.id);
  return { status: 204 };
}

function listForRecord(ctx: Context): HandlerResult {
  const from = typeParam(ctx.params.objectType!);
  const to = typeParam(ctx.params.toObjectType!);
  if (!ctx.portal.exists(from, ctx.params.objectId!)) throw notFound();
  const results = toAssociated(ctx.portal, from, ctx.params.objectId!, to);
  return { status: 200, body: { results } };
}

function putDefault(ctx: Context): HandlerResult {
  const [from, to] = pair(ctx, 'fromObjectType', 'toObjectType');
  const fromId = ctx.params.fromObjectId!;
  const toId = ctx.params.toObjectId!;
  if (!ctx.portal.exists(from, fromId) || !ctx.portal.exists(to, toId)) throw notFound(`Could not find ${from} ${fromId} or ${to} ${toId}`);
  ctx.portal.associationStore.add(from, fromId, to, toId, []);
  const def = ctx.portal.associationStore.defaultType(from, to)!;
  return batchEnvelope(ctx, [{ from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: def.category, associationTypeId: def.typeId } }], [], 200);
}

function putLabelled(ctx: Context): HandlerResult {
  const [from, to] = pair(ctx, 'objectType', 'toObjectType');
  const fromId = ctx.params.objectId!;
  const toId = ctx.params.toObjectId!;
  const specs = ctx.body as Spec[];
  checkSpecs(ctx.portal, from, to, specs);
  if (!ctx.portal.exists(from, fromId) || !ctx.portal.exists(to, toId)) throw notFound(`Could not find ${from} ${fromId} or ${to} ${toId}`);
  ctx.portal.associationStore.add(from, fromId, to, toId, specs.map((s) => s.associationTypeId));
  return { status: 201, body: labelsBetween(ctx.portal, from, fromId, to, toId) };
}

function remove(ctx: Context): HandlerResult {
  const [from, to] = pair(ctx, 'objectType', 'toObjectType');
  ctx.portal.associationStore.removeAll(from, ctx.params.objectId!, to, ctx.params.toObjectId!);
  return { status: 204 };
}

const B = '/crm/v4/associations/:fromObjectType/:toObjectType/batch';
const O = '/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}';

export const associationRoutes: Route[] = [
  { method: 'POST', path: `${B}/create`, kind: 'crm', write: true, op: op('/batch/create'), handler: batchCreate },
  { method: 'POST', path: `${B}/associate/default`, kind: 'crm', write: true, op: op('/batch/associate/default'), handler: associateDefault },
  { method: 'POST', path: `${B}/read`, kind: 'crm', op: op('/batch/read'), handler: batchRead },
  { method: 'POST', path: `${B}/archive`, kind: 'crm', write: true, op: op('/batch/archive'), handler: batchArchive },
  {
    method: 'PUT',
    path: '/crm/v4/objects/:fromObjectType/:fromObjectId/associations/default/:toObjectType/:toObjectId',
    kind: 'crm',
    write: true,
    handler: putDefault,
  },
  { method: 'GET', path: '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType', kind: 'crm', handler: listForRecord },
  { method: 'PUT', path: '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId', kind: 'crm', write: true, op: objOp(O, 'put'), handler: putLabelled },
  { method: 'DELETE', path: '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId', kind: 'crm', write: true, handler: remove },
];
