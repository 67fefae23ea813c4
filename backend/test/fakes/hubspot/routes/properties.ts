import { fail, HubSpotHttpError, notFound, standardError, validationError, type HandlerResult } from '../errors';
import type { ObjectStore } from '../object-store';
import { objectTypeOf } from '../object-types';
import type { Context, Route } from '../router';
import type { OperationRef } from '../spec-validator';

/**
 * Properties v3 of contacts, companies, deals, tickets and notes (`{objectType}` by name, singular or type id):
 * property definitions and groups (single and batch), each object type with its own.
 */

type Json = Record<string, unknown>;

const op = (path: string, method: OperationRef['method']): OperationRef => ({ file: 'crm-properties-v3', path, method });

/** Which fieldTypes each property type accepts (HubSpot's published table). */
export const FIELD_TYPES: Record<string, string[]> = {
  bool: ['booleancheckbox', 'calculation_equation'],
  enumeration: ['booleancheckbox', 'checkbox', 'radio', 'select', 'calculation_equation'],
  date: ['date'],
  datetime: ['date'],
  string: ['file', 'text', 'textarea', 'calculation_equation', 'html', 'phonenumber'],
  number: ['number', 'calculation_equation'],
  phone_number: ['phonenumber'],
};

const NAME = /^[a-z][a-z0-9_]*$/;
const COPIED = ['description', 'displayOrder', 'hidden', 'formField', 'textDisplayHint', 'numberDisplayHint', 'showCurrencySymbol', 'dataSensitivity', 'currencyPropertyName', 'calculationFormula', 'referencedObjectType'];

/** The object type's store, or HubSpot's 400 for a type it cannot infer. */
function checkObjectType(ctx: Context): ObjectStore {
  const t = ctx.params.objectType!;
  const type = objectTypeOf(t);
  if (!type) throw validationError(`Unable to infer object type from: ${t}`);
  return ctx.portal.store(type);
}

function checkTypes(type: string, fieldType: string): void {
  if (!FIELD_TYPES[type]?.includes(fieldType)) {
    throw validationError(`Invalid fieldType "${fieldType}" for property type "${type}": use one of [${(FIELD_TYPES[type] ?? []).join(', ')}]`);
  }
}

function normalizeOptions(options: unknown, type: string): Json[] {
  const list = Array.isArray(options) ? (options as Json[]) : [];
  if (type === 'bool' && list.length === 0) {
    return [
      { label: 'Yes', value: 'true', displayOrder: 0, hidden: false },
      { label: 'No', value: 'false', displayOrder: 1, hidden: false },
    ];
  }
  const values = new Set<string>();
  return list.map((o, i) => {
    const value = String(o.value);
    if (values.has(value)) throw validationError(`Duplicate option value "${value}"`);
    values.add(value);
    return { label: o.label, value, displayOrder: o.displayOrder ?? i, hidden: o.hidden ?? false };
  });
}

/** Creates a property definition of the store's object type, or throws HubSpot's error. */
export function createProperty(store: ObjectStore, input: Json, now: Date): Json {
  const name = String(input.name);
  const type = String(input.type);
  const fieldType = String(input.fieldType);
  if (!NAME.test(name)) throw validationError(`Property name "${name}" is invalid: use lower-case letters, digits and underscores, starting with a letter`);
  if (name.startsWith('hs_')) throw validationError(`Property name "${name}" is reserved: the hs_ prefix is for HubSpot's own properties`);
  const existing = store.properties.get(name);
  if (existing && existing.archived !== true) {
    throw fail(409, 'OBJECT_ALREADY_EXISTS', `Property named '${name}' already exists.`);
  }
  const refused = store.refusedProperties.get(name);
  if (refused !== undefined) throw validationError(refused);
  checkTypes(type, fieldType);
  const group = store.groups.get(String(input.groupName));
  if (!group || group.archived === true) throw validationError(`Property group "${String(input.groupName)}" does not exist`);
  if (input.hasUniqueValue === true && type !== 'string' && type !== 'number') {
    throw validationError('hasUniqueValue is only supported for string and number properties');
  }
  const iso = now.toISOString();
  const def: Json = {
    name,
    label: input.label,
    type,
    fieldType,
    description: '',
    groupName: input.groupName,
    options: normalizeOptions(input.options, type),
    displayOrder: -1,
    calculated: false,
    externalOptions: input.externalOptions === true,
    hasUniqueValue: input.hasUniqueValue === true,
    hidden: false,
    formField: false,
    createdAt: iso,
    updatedAt: iso,
    archived: false,
    modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
  };
  for (const k of COPIED) if (input[k] !== undefined) def[k] = input[k];
  // A property created again after it was deleted starts empty: the deleted one's values are gone.
  if (existing) for (const r of store.records.values()) delete r.properties[name];
  store.properties.set(name, def);
  return def;
}

function getAll(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  const archived = ctx.query.archived === 'true';
  const results = [...store.properties.values()].filter((p) => (p.archived === true) === archived);
  return { status: 200, body: { results } };
}

function getByName(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  const def = store.properties.get(ctx.params.propertyName!);
  const archived = ctx.query.archived === 'true';
  if (!def || (def.archived === true) !== archived) throw notFound(`Property ${ctx.params.propertyName} does not exist`);
  return { status: 200, body: def };
}

function create(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  return { status: 201, body: createProperty(store, ctx.body as Json, ctx.now) };
}

function update(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  const def = store.properties.get(ctx.params.propertyName!);
  if (!def || def.archived === true) throw notFound(`Property ${ctx.params.propertyName} does not exist`);
  const input = ctx.body as Json;
  const type = String(input.type ?? def.type);
  const fieldType = String(input.fieldType ?? def.fieldType);
  if ((type !== def.type || fieldType !== def.fieldType) && def.hubspotDefined === true) {
    throw validationError(`Property ${String(def.name)} is defined by HubSpot: its type cannot change`);
  }
  checkTypes(type, fieldType);
  if (input.groupName !== undefined && !store.groups.has(String(input.groupName))) {
    throw validationError(`Property group "${String(input.groupName)}" does not exist`);
  }
  const next: Json = { ...def, type, fieldType, updatedAt: ctx.now.toISOString() };
  for (const k of [...COPIED, 'label', 'groupName']) if (input[k] !== undefined) next[k] = input[k];
  if (input.options !== undefined || type !== def.type) next.options = normalizeOptions(input.options ?? def.options, type);
  store.properties.set(String(def.name), next);
  return { status: 200, body: next };
}

function archive(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  const def = store.properties.get(ctx.params.propertyName!);
  if (!def || def.archived === true) throw notFound(`Property ${ctx.params.propertyName} does not exist`);
  if (def.hubspotDefined === true) throw validationError(`Property ${String(def.name)} is defined by HubSpot and cannot be archived`);
  store.properties.set(String(def.name), { ...def, archived: true, archivedAt: ctx.now.toISOString() });
  return { status: 204 };
}

function batchCreate(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  const started = ctx.now.toISOString();
  const results: Json[] = [];
  const errors: Json[] = [];
  for (const input of (ctx.body as { inputs: Json[] }).inputs) {
    try {
      results.push(createProperty(store, input, ctx.now));
    } catch (e) {
      if (!(e instanceof HubSpotHttpError)) throw e;
      errors.push(standardError(String(e.body.category), String(e.body.message), { name: [String(input.name)] }));
    }
  }
  const body: Json = { status: 'COMPLETE', results, startedAt: started, completedAt: new Date().toISOString() };
  return errors.length === 0 ? { status: 201, body } : { status: 207, body: { ...body, numErrors: errors.length, errors } };
}

function batchRead(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  const input = ctx.body as { inputs: { name: string }[]; archived: boolean };
  const results: Json[] = [];
  const missing: string[] = [];
  for (const { name } of input.inputs) {
    const def = store.properties.get(name);
    if (def && (def.archived === true) === input.archived) results.push(def);
    else missing.push(name);
  }
  const body: Json = { status: 'COMPLETE', results, startedAt: ctx.now.toISOString(), completedAt: new Date().toISOString() };
  if (missing.length === 0) return { status: 200, body };
  const errors = [standardError('OBJECT_NOT_FOUND', `Unable to find some properties: [${missing.join(', ')}]`, { name: missing })];
  return { status: 207, body: { ...body, numErrors: 1, errors } };
}

function batchArchive(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  for (const { name } of (ctx.body as { inputs: { name: string }[] }).inputs) {
    const def = store.properties.get(name);
    if (def && def.archived !== true && def.hubspotDefined !== true) {
      store.properties.set(name, { ...def, archived: true, archivedAt: ctx.now.toISOString() });
    }
  }
  return { status: 204 };
}

function groupsAll(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  return { status: 200, body: { results: [...store.groups.values()].filter((g) => g.archived !== true) } };
}

function groupByName(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  const group = store.groups.get(ctx.params.groupName!);
  if (!group || group.archived === true) throw notFound(`Property group ${ctx.params.groupName} does not exist`);
  return { status: 200, body: group };
}

function groupCreate(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  const input = ctx.body as { name: string; label: string; displayOrder?: number };
  if (!/^[a-z0-9_]+$/.test(input.name)) throw validationError(`Group name "${input.name}" is invalid: use lower-case letters, digits and underscores`);
  const existing = store.groups.get(input.name);
  if (existing && existing.archived !== true) {
    throw fail(409, 'OBJECT_ALREADY_EXISTS', `Property group named '${input.name}' already exists.`);
  }
  const group = { name: input.name, label: input.label, displayOrder: input.displayOrder ?? -1, archived: false };
  store.groups.set(input.name, group);
  return { status: 201, body: group };
}

function groupUpdate(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  const group = store.groups.get(ctx.params.groupName!);
  if (!group || group.archived === true) throw notFound(`Property group ${ctx.params.groupName} does not exist`);
  const input = ctx.body as { label?: string; displayOrder?: number };
  const next = { ...group, ...(input.label !== undefined ? { label: input.label } : {}), ...(input.displayOrder !== undefined ? { displayOrder: input.displayOrder } : {}) };
  store.groups.set(String(group.name), next);
  return { status: 200, body: next };
}

function groupArchive(ctx: Context): HandlerResult {
  const store = checkObjectType(ctx);
  const group = store.groups.get(ctx.params.groupName!);
  if (!group || group.archived === true) throw notFound(`Property group ${ctx.params.groupName} does not exist`);
  store.groups.set(String(group.name), { ...group, archived: true });
  return { status: 204 };
}

const P = '/crm/v3/properties/{objectType}';
const R = '/crm/v3/properties/:objectType';

export const propertyRoutes: Route[] = [
  { method: 'POST', path: `${R}/batch/create`, kind: 'crm', write: true, op: op(`${P}/batch/create`, 'post'), handler: batchCreate },
  { method: 'POST', path: `${R}/batch/read`, kind: 'crm', op: op(`${P}/batch/read`, 'post'), handler: batchRead },
  { method: 'POST', path: `${R}/batch/archive`, kind: 'crm', write: true, op: op(`${P}/batch/archive`, 'post'), handler: batchArchive },
  { method: 'GET', path: `${R}/groups`, kind: 'crm', handler: groupsAll },
  { method: 'POST', path: `${R}/groups`, kind: 'crm', write: true, op: op(`${P}/groups`, 'post'), handler: groupCreate },
  { method: 'GET', path: `${R}/groups/:groupName`, kind: 'crm', handler: groupByName },
  { method: 'PATCH', path: `${R}/groups/:groupName`, kind: 'crm', write: true, op: op(`${P}/groups/{groupName}`, 'patch'), handler: groupUpdate },
  { method: 'DELETE', path: `${R}/groups/:groupName`, kind: 'crm', write: true, handler: groupArchive },
  { method: 'GET', path: R, kind: 'crm', handler: getAll },
  { method: 'POST', path: R, kind: 'crm', write: true, op: op(P, 'post'), handler: create },
  { method: 'GET', path: `${R}/:propertyName`, kind: 'crm', handler: getByName },
  { method: 'PATCH', path: `${R}/:propertyName`, kind: 'crm', write: true, op: op(`${P}/{propertyName}`, 'patch'), handler: update },
  { method: 'DELETE', path: `${R}/:propertyName`, kind: 'crm', write: true, handler: archive },
];
