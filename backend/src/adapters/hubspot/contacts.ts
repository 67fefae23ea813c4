import { runBatch, toItems, chunk100, type BatchItem, type BatchResult, type RawBatchAnswer, type RawResult } from './batch';
import type { HubSpotPortal } from './portal';

/**
 * Contacts through the batch endpoints (crm-contacts-v3), at most 100 inputs a call, larger inputs chunked.
 * Writes answer one `BatchResult` per input, in input order; reads answer what exists (missing is normal).
 */

export type { BatchResult } from './batch';

export interface HubSpotContact {
  id: string;
  properties: Record<string, string | null>;
}

export interface ContactCreate {
  properties: Record<string, string>;
}
export interface ContactUpdate {
  /** The contact id, or the value of `idProperty`. */
  id: string;
  idProperty?: string;
  properties: Record<string, string>;
}
export interface ContactUpsert {
  /** The value of the upsert's `idProperty` (email, or a property with unique values). */
  id: string;
  properties: Record<string, string>;
}

/**
 * Contacts whose `property` (a property with unique values, or `email`) holds one of `values`: value → contact.
 * Values without a contact are simply absent. Email keys are lower-cased.
 */
export async function readByProperty(
  portal: HubSpotPortal,
  property: string,
  values: string[],
  properties: string[] = [],
): Promise<Map<string, HubSpotContact>> {
  const fold = property === 'email' ? (v: string) => v.trim().toLowerCase() : (v: string) => v;
  const wanted = [...new Set(values.map(fold).filter((v) => v.length > 0))];
  const props = [...new Set([...properties, property])];
  const found = new Map<string, HubSpotContact>();
  for (const chunk of chunk100(toItems(wanted, () => []))) {
    const answer = await portal.call('crm', 'contacts.batch.read', (c, sdk) =>
      c.crm.contacts.batchApi.read(
        { idProperty: property, inputs: chunk.map((i) => ({ id: i.input })), properties: props, propertiesWithHistory: [] },
        false,
        sdk,
      ),
    );
    for (const r of answer.results) {
      const value = r.properties?.[property];
      if (value == null) continue;
      const key = fold(value);
      if (!found.has(key)) found.set(key, { id: r.id, properties: { ...r.properties } });
    }
  }
  return found;
}

/** Contacts with one of these emails, case-insensitive: lower-cased email → contact. */
export function readByEmail(
  portal: HubSpotPortal,
  emails: string[],
  properties: string[] = [],
): Promise<Map<string, HubSpotContact>> {
  return readByProperty(portal, 'email', emails, properties);
}

export function batchCreate(portal: HubSpotPortal, inputs: ContactCreate[]): Promise<BatchResult[]> {
  const items = toItems(inputs, (i) => [emailOf(i.properties)]);
  return runBatch(items, async (chunk) =>
    normalize(
      await portal.call('crm', 'contacts.batch.create', (c, sdk) =>
        c.crm.contacts.batchApi.create(
          { inputs: chunk.map((i) => ({ properties: i.input.properties, associations: [], objectWriteTraceId: i.traceId })) },
          sdk,
        ),
      ),
      (r) => [r.properties?.email ?? undefined],
    ),
  );
}

export function batchUpdate(portal: HubSpotPortal, inputs: ContactUpdate[]): Promise<BatchResult[]> {
  const items = toItems(inputs, (i) => [i.id]);
  return runBatch(items, async (chunk) =>
    normalize(
      await portal.call('crm', 'contacts.batch.update', (c, sdk) =>
        c.crm.contacts.batchApi.update(
          {
            inputs: chunk.map((i) => ({
              id: i.input.id,
              ...(i.input.idProperty ? { idProperty: i.input.idProperty } : {}),
              properties: i.input.properties,
              objectWriteTraceId: i.traceId,
            })),
          },
          sdk,
        ),
      ),
      (r) => [r.id, ...byIdProperty(chunk, r)],
    ),
  );
}

export function batchUpsert(portal: HubSpotPortal, idProperty: string, inputs: ContactUpsert[]): Promise<BatchResult[]> {
  const items = toItems(inputs, (i) => [i.id]);
  return runBatch(items, async (chunk) =>
    normalize(
      await portal.call('crm', 'contacts.batch.upsert', (c, sdk) =>
        c.crm.contacts.batchApi.upsert(
          {
            inputs: chunk.map((i) => ({
              id: i.input.id,
              idProperty,
              properties: i.input.properties,
              objectWriteTraceId: i.traceId,
            })),
          },
          sdk,
        ),
      ),
      (r) => [r.properties?.[idProperty] ?? undefined],
    ),
  );
}

interface SdkResult {
  id: string;
  properties?: Record<string, string | null>;
  objectWriteTraceId?: string;
  _new?: boolean;
}
interface SdkAnswer {
  results?: SdkResult[];
  errors?: RawBatchAnswer['errors'];
}

function normalize(answer: SdkAnswer, identity: (r: SdkResult) => (string | null | undefined)[]): RawBatchAnswer {
  const results: RawResult[] = (answer.results ?? []).map((r) => ({
    id: r.id,
    ...(typeof r._new === 'boolean' ? { isNew: r._new } : {}),
    keys: [r.objectWriteTraceId, ...identity(r)].filter((k): k is string => !!k),
  }));
  return { results, errors: answer.errors ?? [] };
}

/** For updates by idProperty: the result's values of those properties. */
function byIdProperty(chunk: BatchItem<ContactUpdate>[], r: SdkResult): string[] {
  const names = new Set(chunk.map((i) => i.input.idProperty).filter((p): p is string => !!p));
  return [...names].map((p) => r.properties?.[p]).filter((v): v is string => !!v);
}

function emailOf(properties: Record<string, string>): string | undefined {
  return properties.email?.trim() || undefined;
}
