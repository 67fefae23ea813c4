import { applyAssociations, planAssociations, type AssociationInput } from '../association-input';
import { applyWrites } from '../contact-writes';
import { notFound, validationError, type HandlerResult } from '../errors';
import { publicContact } from '../portal';
import type { Context, Route } from '../router';
import type { OperationRef } from '../spec-validator';

/** Contacts v3 single-object endpoints: get, list, create, update, archive, GDPR delete. */

type Json = Record<string, unknown>;

const op = (path: string, method: OperationRef['method']): OperationRef => ({ file: 'crm-contacts-v3', path, method });

/** A comma-separated (or repeated) query parameter as a list. */
export function listParam(query: Record<string, string>, name: string): string[] | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** idProperty must be a property whose values are unique (email or hasUniqueValue), or hs_object_id. */
export function checkIdProperty(ctx: Context, idProperty: string | undefined, verb = 'read'): void {
  if (idProperty === undefined || idProperty === 'hs_object_id') return;
  if (!ctx.portal.shape(idProperty)) {
    throw validationError(`Property "${idProperty}" does not exist`, { errors: [{ message: `Property "${idProperty}" does not exist`, code: 'PROPERTY_DOESNT_EXIST' }] });
  }
  if (!ctx.portal.isUnique(idProperty)) {
    throw validationError(`Unable to perform ${verb} by non-unique 0-1 property`);
  }
}

function getById(ctx: Context): HandlerResult {
  const idProperty = ctx.query.idProperty;
  checkIdProperty(ctx, idProperty);
  const archived = ctx.query.archived === 'true';
  const contact = archived
    ? [...ctx.portal.contacts.values()].find((c) => c.archived && c.id === ctx.params.contactId)
    : ctx.portal.resolve(ctx.params.contactId!, idProperty);
  if (!contact) throw notFound();
  return { status: 200, body: publicContact(ctx.portal, contact, listParam(ctx.query, 'properties')) };
}

function getPage(ctx: Context): HandlerResult {
  const limit = ctx.query.limit === undefined ? 10 : Number(ctx.query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw validationError('limit must be an integer between 1 and 100');
  const after = ctx.query.after;
  const archived = ctx.query.archived === 'true';
  const all = [...ctx.portal.contacts.values()]
    .filter((c) => c.archived === archived)
    .sort((a, b) => Number(a.id) - Number(b.id));
  const start = after === undefined ? 0 : all.findIndex((c) => Number(c.id) > Number(after));
  const page = start < 0 ? [] : all.slice(start, start + limit);
  const props = listParam(ctx.query, 'properties');
  const body: Json = { results: page.map((c) => publicContact(ctx.portal, c, props)) };
  const last = page[page.length - 1];
  if (last && start + limit < all.length) {
    const next = String(Number(last.id) + 1);
    body.paging = { next: { after: next, link: `?after=${next}` } };
  }
  return { status: 200, body };
}

function create(ctx: Context): HandlerResult {
  const input = ctx.body as { properties: Record<string, string>; associations: AssociationInput[] };
  const links = planAssociations(ctx.portal, 'contacts', input.associations);
  const [contact] = applyWrites(ctx.portal, [{ values: input.properties }], ctx.now, ctx.searchLagMs);
  applyAssociations(ctx.portal, 'contacts', contact!.id, links);
  return { status: 201, body: publicContact(ctx.portal, contact!, undefined, true) };
}

function update(ctx: Context): HandlerResult {
  const idProperty = ctx.query.idProperty;
  checkIdProperty(ctx, idProperty, 'update/upsert');
  const contact = ctx.portal.resolve(ctx.params.contactId!, idProperty);
  if (!contact) throw notFound();
  const input = ctx.body as { properties: Record<string, string> };
  applyWrites(ctx.portal, [{ contact, values: input.properties }], ctx.now, ctx.searchLagMs);
  return { status: 200, body: publicContact(ctx.portal, contact, undefined, true) };
}

function archive(ctx: Context): HandlerResult {
  const contact = ctx.portal.resolve(ctx.params.contactId!);
  if (contact) {
    ctx.portal.archive(contact, ctx.now);
    ctx.portal.indexWrite(contact, ctx.now.getTime(), ctx.searchLagMs, true);
  }
  return { status: 204 };
}

function gdprDelete(ctx: Context): HandlerResult {
  const input = ctx.body as { objectId: string; idProperty?: string };
  checkIdProperty(ctx, input.idProperty, 'delete');
  const contact = ctx.portal.resolve(input.objectId, input.idProperty);
  if (contact) {
    ctx.portal.purge(contact, ctx.now.getTime());
    return { status: 204 };
  }
  // By email HubSpot answers 204 even without a contact (the address is blocked from now on).
  if (input.idProperty === 'email') return { status: 204 };
  throw notFound();
}

const CONTACTS = '/crm/v3/objects/contacts';
const BY_ID = '/crm/v3/objects/contacts/{contactId}';

/** Listed after the literal batch/search/gdpr routes, which they would otherwise shadow. */
export const contactBasicRoutes: Route[] = [
  { method: 'POST', path: `${CONTACTS}/gdpr-delete`, kind: 'crm', write: true, op: op(`${CONTACTS}/gdpr-delete`, 'post'), handler: gdprDelete },
  { method: 'GET', path: CONTACTS, kind: 'crm', handler: getPage },
  { method: 'POST', path: CONTACTS, kind: 'crm', write: true, op: op(CONTACTS, 'post'), handler: create },
  { method: 'GET', path: `${CONTACTS}/:contactId`, kind: 'crm', handler: getById },
  { method: 'PATCH', path: `${CONTACTS}/:contactId`, kind: 'crm', write: true, op: op(BY_ID, 'patch'), handler: update },
  { method: 'DELETE', path: `${CONTACTS}/:contactId`, kind: 'crm', write: true, handler: archive },
];
