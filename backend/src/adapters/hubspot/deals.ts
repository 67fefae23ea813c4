import type { BatchInputSimplePublicObjectBatchInputForCreate } from '@hubspot/api-client/lib/codegen/crm/deals';
import type { BatchInputPublicAssociationMultiPost } from '@hubspot/api-client/lib/codegen/crm/associations/v4';
import { runBatch, toItems, chunk100, type BatchResult, type RawBatchAnswer, type RawResult, type SendChunk } from './batch';
import { conflictsAsWholeBatch } from './batch-conflict';
import type { HubSpotPortal } from './portal';

/**
 * Deals through the batch endpoints (crm-deals-v3) and their associations (crm-associations-v4), at most 100
 * inputs a call. Writes answer one `BatchResult` per input, in input order (see batch.ts: a 207 per record, a
 * whole-batch 4xx split so one bad deal does not fail the others); reads answer what exists.
 *
 * Association types are HubSpot's unlabeled defaults (HUBSPOT_DEFINED): deal → contact 3, deal → company 341.
 */

export const DEAL_TO_CONTACT = 3;
export const DEAL_TO_COMPANY = 341;

export type DealAssociationTarget = 'contacts' | 'companies';
const TYPE_OF: Record<DealAssociationTarget, number> = { contacts: DEAL_TO_CONTACT, companies: DEAL_TO_COMPANY };

export interface DealCreate {
  /** The unique value the deal is keyed by (`stripe_subscription_id` or `stripe_checkout_session_id`). */
  key: string;
  keyProperty: string;
  properties: Record<string, string>;
  /** Associated on create, in the same request. */
  associations: { to: DealAssociationTarget; id: string }[];
}

export interface DealUpdate {
  dealId: string;
  properties: Record<string, string>;
}

/** Deals whose unique `property` holds one of `values`: value → deal id. Missing values are absent. */
export async function readDealsByProperty(portal: HubSpotPortal, property: string, values: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const wanted = [...new Set(values.filter((v) => v.length > 0))];
  for (const chunk of chunk100(toItems(wanted, () => []))) {
    const answer = await portal.call('crm', 'deals.batch.read', (c, sdk) =>
      c.crm.deals.batchApi.read(
        { idProperty: property, inputs: chunk.map((i) => ({ id: i.input })), properties: [property], propertiesWithHistory: [] },
        false,
        sdk,
      ),
    );
    for (const r of answer.results) {
      const value = r.properties?.[property];
      if (value != null && !found.has(value)) found.set(value, r.id);
    }
  }
  return found;
}

/**
 * Creates deals with their associations. `wholeBatchConflicts`: a 409 (a deal with one of the keys exists) answers
 * every input of its chunk BATCH_CONFLICT instead of splitting the chunk to find it (batch-conflict.ts); otherwise
 * the conflicting input is isolated and answered 409 with the existing deal's id.
 */
export function createDeals(portal: HubSpotPortal, inputs: DealCreate[], opts: { wholeBatchConflicts?: boolean } = {}): Promise<BatchResult[]> {
  const items = toItems(inputs, (i) => [i.key]);
  const keyProperties = [...new Set(inputs.map((i) => i.keyProperty))];
  const send: SendChunk<DealCreate> = async (chunk) => {
    const body = {
      inputs: chunk.map((i) => ({
        properties: i.input.properties,
        associations: i.input.associations.map((a) => ({
          to: { id: a.id },
          types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: TYPE_OF[a.to] }],
        })),
        objectWriteTraceId: i.traceId,
      })),
    } as unknown as BatchInputSimplePublicObjectBatchInputForCreate;
    const answer = await portal.call('crm', 'deals.batch.create', (c, sdk) => c.crm.deals.batchApi.create(body, sdk));
    return normalize(answer, (r) => keyProperties.map((p) => r.properties?.[p]));
  };
  return runBatch(items, opts.wholeBatchConflicts ? conflictsAsWholeBatch(send) : send);
}

export function updateDeals(portal: HubSpotPortal, inputs: DealUpdate[]): Promise<BatchResult[]> {
  const items = toItems(inputs, (i) => [i.dealId]);
  return runBatch(items, async (chunk) => {
    const answer = await portal.call('crm', 'deals.batch.update', (c, sdk) =>
      c.crm.deals.batchApi.update(
        { inputs: chunk.map((i) => ({ id: i.input.dealId, properties: i.input.properties, objectWriteTraceId: i.traceId })) },
        sdk,
      ),
    );
    return normalize(answer, (r) => [r.id]);
  });
}

export type AssociationResult = { ok: true } | { ok: false; message: string; category: string };

/**
 * Associates deals with contacts or companies (v4 batch create, HubSpot's default type): answers each deal id
 * whose association HubSpot refused (a missing record), absent when done. Creating an association that exists
 * is a no-op in HubSpot, so this is safe to repeat.
 */
export async function associateDeals(
  portal: HubSpotPortal,
  to: DealAssociationTarget,
  pairs: { dealId: string; toId: string }[],
): Promise<Map<string, AssociationResult>> {
  const out = new Map<string, AssociationResult>();
  for (let i = 0; i < pairs.length; i += 100) {
    const chunk = pairs.slice(i, i + 100);
    const body = {
      inputs: chunk.map((p) => ({
        _from: { id: p.dealId },
        to: { id: p.toId },
        types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: TYPE_OF[to] }],
      })),
    } as unknown as BatchInputPublicAssociationMultiPost;
    const answer = (await portal.call('crm', `associations.deals.${to}.batch.create`, (c, sdk) =>
      c.crm.associations.v4.batchApi.create('deals', to, body, sdk),
    )) as { errors?: { category?: string; message?: string; context?: Record<string, string[]> }[] };
    for (const e of answer.errors ?? []) {
      const ids = new Set(Object.values(e.context ?? {}).flat());
      for (const p of chunk) {
        if (ids.has(p.dealId) || ids.has(p.toId)) {
          out.set(p.dealId, { ok: false, message: e.message ?? 'HubSpot refused the association', category: e.category ?? 'UNKNOWN' });
        }
      }
    }
  }
  return out;
}

/** Removes associations we made that no longer hold (the customer moved to another contact or company). */
export async function dissociateDeals(portal: HubSpotPortal, to: DealAssociationTarget, pairs: { dealId: string; toId: string }[]): Promise<void> {
  for (let i = 0; i < pairs.length; i += 100) {
    const chunk = pairs.slice(i, i + 100);
    await portal.call('crm', `associations.deals.${to}.batch.archive`, (c, sdk) =>
      c.crm.associations.v4.batchApi.archive('deals', to, { inputs: chunk.map((p) => ({ _from: { id: p.dealId }, to: [{ id: p.toId }] })) }, sdk),
    );
  }
}

interface SdkResult {
  id: string;
  properties?: Record<string, string | null>;
  objectWriteTraceId?: string;
}

function normalize(answer: { results?: SdkResult[]; errors?: RawBatchAnswer['errors'] }, identity: (r: SdkResult) => (string | null | undefined)[]): RawBatchAnswer {
  const results: RawResult[] = (answer.results ?? []).map((r) => ({
    id: r.id,
    keys: [r.objectWriteTraceId, ...identity(r)].filter((k): k is string => !!k),
  }));
  return { results, errors: answer.errors ?? [] };
}
