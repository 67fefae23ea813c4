import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/associations/v4';
import type { BatchInputSimplePublicObjectBatchInputForCreate } from '@hubspot/api-client/lib/codegen/crm/companies';
import { runBatch, toItems, MAX_BATCH_INPUTS, type BatchResult, type RawBatchAnswer, type RawResult, type SendChunk } from './batch';
import { conflictsAsWholeBatch } from './batch-conflict';
import { PermanentHubSpotError, RetryableHubSpotError, asConnectionFailure, retryCategory } from './errors';
import type { HubSpotPortal } from './portal';

/**
 * Companies (crm-companies-v3) and their associations with contacts (crm-associations-v4), batched: at most 100
 * inputs a call. Reads answer what exists (missing is normal); writes answer one `BatchResult` per input, in input
 * order. Search (eventually consistent, its own rate limit) is used for one thing only: companies by domain.
 */

/** HubSpot-defined, unlabeled association type contact → company (v4 type id 279). */
export const CONTACT_TO_COMPANY = {
  associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined,
  associationTypeId: 279,
};

/** The same association seen from the company (company → contact 280), as a company's create carries it. */
export const COMPANY_TO_CONTACT = { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 280 } as const;

/** HubSpot's largest `limit` of one search page; an IN filter takes at most 100 values. */
const SEARCH_PAGE = 200;

/** Companies whose unique `property` holds one of `values`: value → company id (values without one are absent). */
export async function readCompaniesByProperty(portal: HubSpotPortal, property: string, values: string[]): Promise<Map<string, string>> {
  const wanted = [...new Set(values.filter((v) => v.length > 0))];
  const found = new Map<string, string>();
  for (let i = 0; i < wanted.length; i += MAX_BATCH_INPUTS) {
    const chunk = wanted.slice(i, i + MAX_BATCH_INPUTS);
    const answer = await portal.call('crm', 'companies.batch.read', (c, sdk) =>
      c.crm.companies.batchApi.read({ idProperty: property, inputs: chunk.map((id) => ({ id })), properties: [property], propertiesWithHistory: [] }, false, sdk),
    );
    for (const r of answer.results) {
      const value = r.properties?.[property];
      if (value && !found.has(value)) found.set(value, r.id);
    }
  }
  return found;
}

/**
 * Companies whose `domain` is one of `domains` (lower-case): domain → company id, the oldest (smallest id) when
 * several share one. One search per 100 domains (more pages only when that many companies match).
 */
export async function searchCompaniesByDomain(portal: HubSpotPortal, domains: string[]): Promise<Map<string, string>> {
  const wanted = [...new Set(domains.map((d) => d.toLowerCase()))];
  const found = new Map<string, string>();
  for (let i = 0; i < wanted.length; i += MAX_BATCH_INPUTS) {
    const values = wanted.slice(i, i + MAX_BATCH_INPUTS);
    let after = '0';
    for (;;) {
      const page = await portal.call('search', 'companies.search', (c, sdk) =>
        c.crm.companies.searchApi.doSearch(
          {
            filterGroups: [{ filters: [{ propertyName: 'domain', operator: 'IN' as never, values }] }],
            properties: ['domain'],
            sorts: [],
            limit: SEARCH_PAGE,
            after,
          },
          sdk,
        ),
      );
      for (const r of page.results) {
        const domain = r.properties?.domain?.trim().toLowerCase();
        if (!domain || !values.includes(domain)) continue;
        const known = found.get(domain);
        if (!known || Number(r.id) < Number(known)) found.set(domain, r.id);
      }
      const next = page.paging?.next?.after;
      if (!next) break;
      after = next;
    }
  }
  return found;
}

export interface CompanyCreate {
  /** The unique customer-id property's value: how the answer is matched (and the company found after a lost one). */
  key: string;
  properties: Record<string, string>;
  /** Contacts associated with the new company in the same request (no v4 call for them). */
  contactIds?: string[];
}

/**
 * Creates companies, with their contacts when given; `uniqueProperty` names the property each input's `key` is the
 * value of. `wholeBatchConflicts`: a 409 (a company holds one of the keys) answers every input of its chunk
 * BATCH_CONFLICT instead of splitting the chunk to find it (batch-conflict.ts).
 */
export function createCompanies(
  portal: HubSpotPortal,
  uniqueProperty: string,
  inputs: CompanyCreate[],
  opts: { wholeBatchConflicts?: boolean } = {},
): Promise<BatchResult[]> {
  const items = toItems(inputs, (i) => [i.key]);
  const send: SendChunk<CompanyCreate> = async (chunk) => {
    const body = {
      inputs: chunk.map((i) => ({
        properties: i.input.properties,
        associations: [...new Set(i.input.contactIds ?? [])].map((id) => ({ to: { id }, types: [COMPANY_TO_CONTACT] })),
        objectWriteTraceId: i.traceId,
      })),
    } as unknown as BatchInputSimplePublicObjectBatchInputForCreate;
    const answer = await portal.call('crm', 'companies.batch.create', (c, sdk) => c.crm.companies.batchApi.create(body, sdk));
    return normalize(answer, (r) => [r.properties?.[uniqueProperty] ?? undefined]);
  };
  return runBatch(items, opts.wholeBatchConflicts ? conflictsAsWholeBatch(send) : send);
}

export interface CompanyUpdate {
  id: string;
  properties: Record<string, string>;
}

export function updateCompanies(portal: HubSpotPortal, inputs: CompanyUpdate[]): Promise<BatchResult[]> {
  const items = toItems(inputs, (i) => [i.id]);
  return runBatch(items, async (chunk) => {
    const answer = await portal.call('crm', 'companies.batch.update', (c, sdk) =>
      c.crm.companies.batchApi.update(
        { inputs: chunk.map((i) => ({ id: i.input.id, properties: i.input.properties, objectWriteTraceId: i.traceId })) },
        sdk,
      ),
    );
    return normalize(answer, (r) => [r.id]);
  });
}

export interface ContactCompanyPair {
  contactId: string;
  companyId: string;
}

/** What became of one association: made, or why not (`missing`: the contact or the company no longer exists). */
export type AssociationResult = { ok: true } | { ok: false; permanent: boolean; message: string; category: string; missing?: 'contact' | 'company' };

/**
 * Associates contacts with companies (unlabeled, both directions, as HubSpot stores it): one v4 batch create per 100
 * pairs. HubSpot answers 207 for pairs whose records are missing (created for the others). A refused connection is
 * thrown; an outage past retries fails its pairs with a result that may pass.
 */
export async function associateContactsWithCompanies(portal: HubSpotPortal, pairs: ContactCompanyPair[]): Promise<AssociationResult[]> {
  const out: AssociationResult[] = [];
  for (let i = 0; i < pairs.length; i += MAX_BATCH_INPUTS) {
    const chunk = pairs.slice(i, i + MAX_BATCH_INPUTS);
    out.push(...(await associateChunk(portal, chunk)));
  }
  return out;
}

async function associateChunk(portal: HubSpotPortal, chunk: ContactCompanyPair[]): Promise<AssociationResult[]> {
  let answer: AssociationAnswer;
  try {
    answer = (await portal.call('crm', 'associations.contacts.companies.batch.create', (c, sdk) =>
      c.crm.associations.v4.batchApi.create(
        'contacts',
        'companies',
        { inputs: chunk.map((p) => ({ _from: { id: p.contactId }, to: { id: p.companyId }, types: [CONTACT_TO_COMPANY] })) },
        sdk,
      ),
    )) as AssociationAnswer;
  } catch (err) {
    if (err instanceof RetryableHubSpotError) {
      return chunk.map(() => ({ ok: false, permanent: false, message: err.message, category: retryCategory(err.reason) }));
    }
    if (!(err instanceof PermanentHubSpotError)) throw err;
    const refused = asConnectionFailure(err);
    if (refused) throw refused;
    return chunk.map(() => ({ ok: false, permanent: true, message: err.message, category: err.category }));
  }
  const made = new Set((answer.results ?? []).map((r) => `${r.fromObjectId}>${r.toObjectId}`));
  return chunk.map((p): AssociationResult => {
    if (made.has(`${p.contactId}>${p.companyId}`)) return { ok: true };
    for (const e of answer.errors ?? []) {
      const ids = Object.values(e.context ?? {}).flat();
      const missing = ids.includes(p.companyId) ? 'company' : ids.includes(p.contactId) ? 'contact' : null;
      if (missing) {
        return { ok: false, permanent: false, message: e.message ?? `HubSpot could not find the ${missing}`, category: e.category ?? 'OBJECT_NOT_FOUND', missing };
      }
    }
    return { ok: false, permanent: false, message: 'HubSpot answered nothing for this association', category: 'NO_RESULT' };
  });
}

interface AssociationAnswer {
  results?: { fromObjectId?: string | number; toObjectId?: string | number }[];
  errors?: { message?: string; category?: string; context?: Record<string, string[]> }[];
}

interface SdkResult {
  id: string;
  properties?: Record<string, string | null>;
  objectWriteTraceId?: string;
}

function normalize(answer: { results?: SdkResult[]; errors?: RawBatchAnswer['errors'] }, identity: (r: SdkResult) => (string | undefined)[]): RawBatchAnswer {
  const results: RawResult[] = (answer.results ?? []).map((r) => ({
    id: r.id,
    keys: [r.objectWriteTraceId, ...identity(r)].filter((k): k is string => !!k),
  }));
  return { results, errors: answer.errors ?? [] };
}
