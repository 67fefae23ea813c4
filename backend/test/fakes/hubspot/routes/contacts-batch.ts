import { applyAssociations, planAssociations, type AssociationInput } from '../association-input';
import { applyWrites, type PlannedWrite } from '../contact-writes';
import { missingObjectsMessage, standardError, validationError, type HandlerResult } from '../errors';
import { publicContact } from '../portal';
import type { Context, Route } from '../router';
import type { OperationRef } from '../spec-validator';
import type { FakeContact } from '../types';
import { checkIdProperty } from './contacts-basic';

/** Contacts v3 batch endpoints: read, create, update, upsert, archive (at most 100 inputs each). */

type Json = Record<string, unknown>;

export const MAX_BATCH_INPUTS = 100;

const op = (path: string): OperationRef => ({ file: 'crm-contacts-v3', path, method: 'post' });

export function inputsOf<T>(body: unknown): T[] {
  const inputs = (body as { inputs: T[] }).inputs;
  if (inputs.length > MAX_BATCH_INPUTS) {
    throw validationError(
      `Too many inputs: ${inputs.length}. A batch request takes at most ${MAX_BATCH_INPUTS} inputs.`,
    );
  }
  return inputs;
}

/** A batch answer: 200, or 207 with OBJECT_NOT_FOUND listing the missing ids (and any other errors). */
export function batchBody(results: Json[], started: Date, missing: string[] = [], errors: Json[] = [], objectType = 'CONTACT'): HandlerResult {
  const all = missing.length > 0 ? [standardError('OBJECT_NOT_FOUND', missingObjectsMessage(objectType), { ids: missing }), ...errors] : errors;
  const body: Json = { status: 'COMPLETE', results, startedAt: started.toISOString(), completedAt: new Date().toISOString() };
  if (all.length === 0) return { status: 200, body };
  return { status: 207, body: { ...body, numErrors: all.length, errors: all } };
}

function keyFor(id: string, idProperty: string | undefined): string {
  return idProperty === 'email' ? id.trim().toLowerCase() : id;
}

export function rejectDuplicateIds(ids: string[]): void {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const id of ids) (seen.has(id) ? dup : seen).add(id);
  if (dup.size > 0) throw validationError(`Duplicate IDs found in batch input: [${[...dup].join(', ')}]. IDs must be unique`);
}

function read(ctx: Context): HandlerResult {
  const body = ctx.body as { inputs: { id: string }[]; properties: string[]; idProperty?: string };
  const inputs = inputsOf<{ id: string }>(body);
  checkIdProperty(ctx, body.idProperty);
  const archived = ctx.query.archived === 'true';
  const results: Json[] = [];
  const missing: string[] = [];
  const done = new Set<string>();
  for (const { id } of inputs) {
    const key = keyFor(id, body.idProperty);
    if (done.has(key)) continue;
    done.add(key);
    const contact = archived
      ? [...ctx.portal.contacts.values()].find((c) => c.archived && c.id === id)
      : ctx.portal.resolve(id, body.idProperty);
    if (contact) results.push(publicContact(ctx.portal, contact, body.properties));
    else missing.push(id);
  }
  return batchBody(results, ctx.now, missing);
}

function create(ctx: Context): HandlerResult {
  const inputs = inputsOf<{ properties: Record<string, string>; associations: AssociationInput[] }>(ctx.body);
  const links = inputs.map((i) => planAssociations(ctx.portal, 'contacts', i.associations));
  const contacts = applyWrites(ctx.portal, inputs.map((i) => ({ values: i.properties })), ctx.now, ctx.searchLagMs);
  contacts.forEach((c, n) => applyAssociations(ctx.portal, 'contacts', c.id, links[n]!));
  const res = batchBody(contacts.map((c) => publicContact(ctx.portal, c, undefined, true)), ctx.now);
  return { ...res, status: 201 };
}

function update(ctx: Context): HandlerResult {
  const inputs = inputsOf<{ id: string; idProperty?: string; properties: Record<string, string> }>(ctx.body);
  for (const i of inputs) checkIdProperty(ctx, i.idProperty, 'update/upsert');
  rejectDuplicateIds(inputs.map((i) => `${i.idProperty ?? ''}:${keyFor(i.id, i.idProperty)}`));
  const writes: PlannedWrite[] = [];
  const missing: string[] = [];
  for (const i of inputs) {
    const contact = ctx.portal.resolve(i.id, i.idProperty);
    if (contact) writes.push({ contact, values: i.properties });
    else missing.push(i.id);
  }
  const contacts = writes.length > 0 ? applyWrites(ctx.portal, writes, ctx.now, ctx.searchLagMs) : [];
  return batchBody(contacts.map((c) => publicContact(ctx.portal, c, undefined, true)), ctx.now, missing);
}

function upsert(ctx: Context): HandlerResult {
  const inputs = inputsOf<{ id: string; idProperty?: string; properties: Record<string, string> }>(ctx.body);
  for (const i of inputs) {
    if (!i.idProperty) throw validationError('idProperty is required for every upsert input');
    checkIdProperty(ctx, i.idProperty, 'update/upsert');
  }
  rejectDuplicateIds(inputs.map((i) => `${i.idProperty}:${keyFor(i.id, i.idProperty)}`));
  const writes: PlannedWrite[] = [];
  const isNew: boolean[] = [];
  for (const i of inputs) {
    const contact: FakeContact | undefined =
      i.idProperty === 'hs_object_id' ? ctx.portal.resolve(i.id) : ctx.portal.resolve(i.id, i.idProperty);
    if (!contact && i.idProperty === 'hs_object_id') {
      throw validationError(`Cannot upsert by hs_object_id: object ${i.id} does not exist`);
    }
    writes.push({ contact, values: contact ? i.properties : { ...i.properties, [i.idProperty!]: i.id } });
    isNew.push(!contact);
  }
  const contacts = applyWrites(ctx.portal, writes, ctx.now, ctx.searchLagMs);
  const results = contacts.map((c, n) => ({ ...publicContact(ctx.portal, c, undefined, true), new: isNew[n] }));
  return batchBody(results, ctx.now);
}

function archive(ctx: Context): HandlerResult {
  const inputs = inputsOf<{ id: string }>(ctx.body);
  for (const { id } of inputs) {
    const contact = ctx.portal.resolve(id);
    if (!contact) continue;
    ctx.portal.archive(contact, ctx.now);
    ctx.portal.indexWrite(contact, ctx.now.getTime(), ctx.searchLagMs, true);
  }
  return { status: 204 };
}

const BATCH = '/crm/v3/objects/contacts/batch';

export const contactBatchRoutes: Route[] = [
  { method: 'POST', path: `${BATCH}/read`, kind: 'crm', op: op(`${BATCH}/read`), handler: read },
  { method: 'POST', path: `${BATCH}/create`, kind: 'crm', write: true, op: op(`${BATCH}/create`), handler: create },
  { method: 'POST', path: `${BATCH}/update`, kind: 'crm', write: true, op: op(`${BATCH}/update`), handler: update },
  { method: 'POST', path: `${BATCH}/upsert`, kind: 'crm', write: true, op: op(`${BATCH}/upsert`), handler: upsert },
  { method: 'POST', path: `${BATCH}/archive`, kind: 'crm', write: true, op: op(`${BATCH}/archive`), handler: archive },
];
