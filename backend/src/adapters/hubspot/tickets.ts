import type { BatchInputPublicAssociationMultiPost } from '@hubspot/api-client/lib/codegen/crm/associations/v4';
import type { PropertyCreate } from '@hubspot/api-client/lib/codegen/crm/properties';
import { chunk100, runBatch, toItems, type BatchResult, type RawBatchAnswer, type RawResult } from './batch';
import { PermanentHubSpotError } from './errors';
import type { HubSpotPortal } from './portal';

/**
 * Tickets through the batch endpoints (crm-tickets-v3), their pipeline (crm-pipelines-v3) and their associations
 * (crm-associations-v4), at most 100 inputs a call. Tickets are created by upsert on our unique property
 * (`stripe_invoice_id`): sending one again after a lost answer finds the ticket HubSpot already made instead of
 * making a second one, so no create needs a lookup first. Tickets HubSpot holds are updated by id with only the
 * properties that changed. Scopes: `tickets` (objects, pipelines and ticket properties); associations also need
 * the other side's object scope (contacts, companies, deals).
 */

export type { BatchResult } from './batch';

export type TicketAssociationTarget = 'contacts' | 'companies' | 'deals';

/** HubSpot-defined (unlabeled) association types from a ticket (associations v4). */
export const TICKET_ASSOCIATION_TYPE: Record<TicketAssociationTarget, number> = { contacts: 16, companies: 339, deals: 28 };

/** Upserts by `idProperty` (a unique ticket property): one result per input, in input order. */
export function upsertTickets(
  portal: HubSpotPortal,
  idProperty: string,
  inputs: { id: string; properties: Record<string, string> }[],
): Promise<BatchResult[]> {
  const items = toItems(inputs, (i) => [i.id]);
  return runBatch(items, async (chunk) =>
    normalize(
      await portal.call('crm', 'tickets.batch.upsert', (c, sdk) =>
        c.crm.tickets.batchApi.upsert(
          { inputs: chunk.map((i) => ({ id: i.input.id, idProperty, properties: i.input.properties, objectWriteTraceId: i.traceId })) },
          sdk,
        ),
      ),
      (r) => [r.properties?.[idProperty] ?? undefined],
    ),
  );
}

/** Updates by ticket id: one result per input (a ticket deleted in HubSpot: OBJECT_NOT_FOUND, permanent). */
export function updateTickets(portal: HubSpotPortal, inputs: { id: string; properties: Record<string, string> }[]): Promise<BatchResult[]> {
  const items = toItems(inputs, (i) => [i.id]);
  return runBatch(items, async (chunk) =>
    normalize(
      await portal.call('crm', 'tickets.batch.update', (c, sdk) =>
        c.crm.tickets.batchApi.update(
          { inputs: chunk.map((i) => ({ id: i.input.id, properties: i.input.properties, objectWriteTraceId: i.traceId })) },
          sdk,
        ),
      ),
      (r) => [r.id],
    ),
  );
}

/** Tickets holding these values of a unique property: value → ticket id (absent: no such ticket). */
export async function readTicketsBy(portal: HubSpotPortal, idProperty: string, values: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const chunk of chunk100(toItems([...new Set(values)], () => []))) {
    const answer = await portal.call('crm', 'tickets.batch.read', (c, sdk) =>
      c.crm.tickets.batchApi.read(
        { idProperty, inputs: chunk.map((i) => ({ id: i.input })), properties: [idProperty], propertiesWithHistory: [] },
        false,
        sdk,
      ),
    );
    for (const r of answer.results) {
      const v = r.properties?.[idProperty];
      if (v) found.set(v, r.id);
    }
  }
  return found;
}

export interface TicketPipelineStages {
  /** The first stage (by display order) whose ticket state is OPEN, and the first CLOSED one. */
  openStage: string | null;
  closedStage: string | null;
}

/** The open and closed stage of a ticket pipeline; null when the portal has no such pipeline. */
export async function ticketPipelineStages(portal: HubSpotPortal, pipelineId: string): Promise<TicketPipelineStages | null> {
  let pipeline;
  try {
    pipeline = await portal.call('crm', 'pipelines.tickets.get', (c, sdk) => c.crm.pipelines.pipelinesApi.getById('tickets', pipelineId, sdk));
  } catch (err) {
    if (err instanceof PermanentHubSpotError && (err.status === 404 || err.category === 'OBJECT_NOT_FOUND')) return null;
    throw err;
  }
  const stages = pipeline.stages.filter((s) => !s.archived).sort((a, b) => a.displayOrder - b.displayOrder);
  const state = (s: (typeof stages)[number]) => String((s.metadata as Record<string, string> | undefined)?.ticketState ?? '').toUpperCase();
  return {
    openStage: stages.find((s) => state(s) === 'OPEN')?.id ?? null,
    closedStage: stages.find((s) => state(s) === 'CLOSED')?.id ?? null,
  };
}

export interface TicketPropertyDefinition {
  name: string;
  label: string;
  description: string;
  type: 'string';
  fieldType: 'text';
  hasUniqueValue: boolean;
}

/**
 * Our ticket property in our group on tickets (crm-properties-v3): read first (a second run makes one read), the
 * group and the property created when missing (a 409, made meanwhile, counts as there). Answers null when the
 * portal has it as we need it, else why not (HubSpot's refusal, or a property of that name that is not ours).
 */
export async function ensureTicketProperty(
  portal: HubSpotPortal,
  group: { name: string; label: string },
  def: TicketPropertyDefinition,
): Promise<string | null> {
  const existing = await absentOn404(() => portal.call('crm', 'properties.tickets.get', (c, sdk) => c.crm.properties.coreApi.getByName('tickets', def.name, false, undefined, sdk)));
  if (existing) {
    const unique = (existing as { hasUniqueValue?: boolean }).hasUniqueValue === true;
    return existing.type === def.type && (unique || !def.hasUniqueValue) ? null : `The ticket property ${def.name} exists but is not a ${def.type} with unique values`;
  }
  try {
    const hasGroup = await absentOn404(() => portal.call('crm', 'properties.tickets.groups.get', (c, sdk) => c.crm.properties.groupsApi.getByName('tickets', group.name, sdk)));
    if (!hasGroup) {
      await ignoringConflict(() =>
        portal.call('crm', 'properties.tickets.groups.create', (c, sdk) => c.crm.properties.groupsApi.create('tickets', { name: group.name, label: group.label }, sdk)),
      );
    }
    const input = { ...def, groupName: group.name } as unknown as PropertyCreate;
    await ignoringConflict(() => portal.call('crm', 'properties.tickets.create', (c, sdk) => c.crm.properties.coreApi.create('tickets', input, sdk)));
    return null;
  } catch (err) {
    if (err instanceof PermanentHubSpotError && err.status !== 401 && err.status !== 403) return err.message;
    throw err;
  }
}

async function absentOn404<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof PermanentHubSpotError && err.status === 404) return null;
    throw err;
  }
}

async function ignoringConflict(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!(err instanceof PermanentHubSpotError && err.status === 409)) throw err;
  }
}

export type AssociationFailure = { message: string; category: string };

/**
 * Associates tickets with records of one type (HubSpot-defined unlabeled type). Answers the tickets whose
 * association HubSpot refused (a missing record); the rest were made. Repeating an association is a no-op.
 */
export async function associateTickets(
  portal: HubSpotPortal,
  to: TicketAssociationTarget,
  pairs: { ticketId: string; toId: string }[],
): Promise<Map<string, AssociationFailure>> {
  const failed = new Map<string, AssociationFailure>();
  for (let i = 0; i < pairs.length; i += 100) {
    const chunk = pairs.slice(i, i + 100);
    const body = {
      inputs: chunk.map((p) => ({
        _from: { id: p.ticketId },
        to: { id: p.toId },
        types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: TICKET_ASSOCIATION_TYPE[to] }],
      })),
    } as unknown as BatchInputPublicAssociationMultiPost;
    const answer = (await portal.call('crm', `associations.tickets.${to}.batch.create`, (c, sdk) =>
      c.crm.associations.v4.batchApi.create('tickets', to, body, sdk),
    )) as { errors?: { category?: string; message?: string; context?: Record<string, string[]> }[] };
    for (const e of answer.errors ?? []) {
      const ids = new Set(Object.values(e.context ?? {}).flat());
      for (const p of chunk) {
        if (ids.has(p.ticketId) || ids.has(p.toId)) {
          failed.set(p.ticketId, { message: e.message ?? 'HubSpot refused the association', category: e.category ?? 'UNKNOWN' });
        }
      }
    }
  }
  return failed;
}

interface SdkResult {
  id: string;
  properties?: Record<string, string | null>;
  objectWriteTraceId?: string;
  _new?: boolean;
}

function normalize(answer: { results?: SdkResult[]; errors?: RawBatchAnswer['errors'] }, identity: (r: SdkResult) => (string | null | undefined)[]): RawBatchAnswer {
  const results: RawResult[] = (answer.results ?? []).map((r) => ({
    id: r.id,
    ...(typeof r._new === 'boolean' ? { isNew: r._new } : {}),
    keys: [r.objectWriteTraceId, ...identity(r)].filter((k): k is string => !!k),
  }));
  return { results, errors: answer.errors ?? [] };
}
