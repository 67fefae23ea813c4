import { randomUUID } from 'node:crypto';
import { fail, validationError, type HubSpotHttpError } from './errors';
import { newObjectId } from './object-store';
import { objectTypeOf } from './object-types';
import type { Portal } from './portal';
import { checkValue } from './property-values';
import type { FakeEventTemplate, FakeTimelineEvent } from './types';

/**
 * Timeline v3 state: the app's event templates (the fake has one app; templates belong to it, not to a portal)
 * and, per portal, the events created from them. Events are immutable and their `id` is unique per app and
 * template: the same id again is refused with 409 (HubSpot documents the uniqueness, not the answer: assumed).
 */

type Json = Record<string, unknown>;

export const TEMPLATE_OBJECT_TYPES = ['contacts', 'companies', 'deals', 'tickets'];
const TOKEN_NAME = /^[A-Za-z0-9._-]+$/;

export class TimelineTemplates {
  list: FakeEventTemplate[] = [];

  get(appId: number, id: string): FakeEventTemplate | undefined {
    return this.list.find((t) => t.appId === appId && t.id === id);
  }

  clear(): void {
    this.list = [];
  }
}

export interface TokenInput {
  name: string;
  label: string;
  type: string;
  options?: { label: string; value: string }[];
  objectPropertyName?: string;
}

/** A template token from its input, or HubSpot's 400. */
export function buildToken(input: TokenInput, existing: FakeEventTemplate['tokens'], now: Date): FakeEventTemplate['tokens'][number] {
  if (!TOKEN_NAME.test(input.name)) {
    throw validationError(`Token name "${input.name}" is invalid: use letters, digits, periods, dashes or underscores`);
  }
  if (existing.some((t) => t.name === input.name)) throw validationError(`A token named "${input.name}" already exists on this template`);
  if (input.type === 'enumeration' && (input.options ?? []).length === 0) {
    throw validationError(`Token "${input.name}" is an enumeration: it needs options`);
  }
  const iso = now.toISOString();
  return {
    name: input.name,
    label: input.label,
    type: input.type,
    ...(input.type === 'enumeration' ? { options: input.options!.map((o) => ({ label: o.label, value: o.value })) } : {}),
    ...(input.objectPropertyName !== undefined ? { objectPropertyName: input.objectPropertyName } : {}),
    createdAt: iso,
    updatedAt: iso,
  };
}

/** The object type a template's `objectType` stands for (contacts, companies, deals or tickets), or 400. */
export function templateObjectType(raw: string): string {
  const t = objectTypeOf(raw);
  if (!t || !TEMPLATE_OBJECT_TYPES.includes(t)) {
    throw validationError(`objectType "${raw}" is not supported for timeline event templates: use one of [${TEMPLATE_OBJECT_TYPES.join(', ')}]`);
  }
  return t;
}

export function newTemplateId(): string {
  return newObjectId();
}

export interface EventInput {
  eventTemplateId: string;
  id?: string;
  tokens: Record<string, string>;
  objectId?: string;
  email?: string;
  utk?: string;
  timestamp?: string;
  extraData?: unknown;
  timelineIFrame?: unknown;
}

function checkTokens(template: FakeEventTemplate, tokens: Record<string, string>): void {
  for (const [name, value] of Object.entries(tokens)) {
    const token = template.tokens.find((t) => t.name === name);
    if (!token) throw validationError(`Token "${name}" is not defined on event template ${template.id}`, { context: { tokens: [name] } });
    const bad = (why: string): HubSpotHttpError => validationError(`Token "${name}" (${token.type}): ${why}, got "${value}"`);
    if (token.type === 'number' && !/^-?(\d+\.?\d*|\.\d+)$/.test(value)) throw bad('not a number');
    if (token.type === 'date' && !/^-?\d+$/.test(value) && Number.isNaN(Date.parse(value))) throw bad('not epoch milliseconds or an ISO 8601 date');
    if (token.type === 'enumeration' && !(token.options ?? []).some((o) => o.value === value)) {
      throw bad(`not one of [${(token.options ?? []).map((o) => o.value).join(', ')}]`);
    }
  }
}

/**
 * Creates an event in the portal, or throws HubSpot's error: unknown template (404), unknown token or bad token
 * value (400), no record to put it on (400; for contacts an unknown `email` creates the contact, as HubSpot
 * documents), a duplicate id for the template (409). `{{uuid}}` in the id is replaced by a fresh UUID.
 */
export function createEvent(portal: Portal, templates: TimelineTemplates, appId: number, input: EventInput, now: Date, searchLagMs: number): FakeTimelineEvent {
  const template = templates.get(appId, input.eventTemplateId);
  if (!template) throw fail(404, 'OBJECT_NOT_FOUND', `Event template ${input.eventTemplateId} not found for app ${appId}`);
  checkTokens(template, input.tokens);
  const id = input.id === undefined ? randomUUID() : input.id.replace(/\{\{uuid\}\}/g, () => randomUUID());
  const taken = portal.events.some((e) => e.eventTemplateId === template.id && e.id === id);
  if (taken) {
    throw fail(409, 'CONFLICT', `An event with id "${id}" already exists for event template ${template.id}: timeline events are immutable`, {
      context: { id: [id] },
    });
  }
  const objectId = resolveObject(portal, template.objectType, input, now, searchLagMs);
  const iso = now.toISOString();
  const event: FakeTimelineEvent = {
    id,
    eventTemplateId: template.id,
    appId,
    objectType: template.objectType,
    objectId,
    ...(input.email !== undefined ? { email: input.email.trim().toLowerCase() } : {}),
    tokens: { ...input.tokens },
    ...(input.extraData !== undefined ? { extraData: input.extraData } : {}),
    ...(input.timelineIFrame !== undefined ? { timelineIFrame: input.timelineIFrame } : {}),
    timestamp: input.timestamp ? new Date(input.timestamp).toISOString() : iso,
    createdAt: iso,
  };
  portal.events.push(event);
  return event;
}

function resolveObject(portal: Portal, objectType: string, input: EventInput, now: Date, searchLagMs: number): string {
  const type = objectTypeOf(objectType)!;
  const store = portal.store(type);
  if (input.objectId !== undefined) {
    if (!store.resolve(input.objectId)) {
      throw validationError(`No ${store.def.singular} with id ${input.objectId} to put the event on`, { context: { objectId: [input.objectId] } });
    }
    return input.objectId;
  }
  if (type === 'contacts' && input.email !== undefined) {
    const existing = store.byProperty('email', input.email);
    if (existing) return existing.id;
    const problem = checkValue('email', input.email.trim(), { type: 'string', options: [] });
    if (problem) throw validationError(problem.message, { context: { email: [input.email] } });
    const contact = store.create(store.normalize({ email: input.email }), now);
    store.indexWrite(contact, now.getTime(), searchLagMs);
    return contact.id;
  }
  throw validationError(
    type === 'contacts'
      ? 'An event on a contact needs objectId or email (utk is not modelled by this fake)'
      : `An event on a ${store.def.singular} needs objectId`,
  );
}

/** The public form of an event (HubSpot's TimelineEventResponse). */
export function publicEvent(e: FakeTimelineEvent): Json {
  const { appId: _appId, ...rest } = e;
  return rest;
}
