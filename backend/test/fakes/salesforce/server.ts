import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { salesforceOAuthRoute } from './oauth';

/**
 * A fake Salesforce org's REST API on 127.0.0.1 for tests. Salesforce publishes no static OpenAPI document for its
 * REST API, so the fake follows the example bodies of its REST API Developer Guide kept in `specs/salesforce/`
 * (see specs/README.md) and the facts the guide states:
 *
 * - Bearer auth with the org's access token; a wrong or expired one answers 401
 *   `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]` (`controls.expireToken()`);
 * - `GET /services/data/vXX.X/sobjects/{object}/describe`: the object's fields (standard ones plus the custom ones
 *   the org has; `controls.addField` adds one, so a test can leave one missing); an unknown object answers 404
 *   `NOT_FOUND`;
 * - `PATCH /services/data/vXX.X/composite/sobjects/{object}/{externalIdField}` (sObject Collections upsert by
 *   external id): at most 200 records, each with `attributes.type` equal to the object, no `Id`; `allOrNone`
 *   (default false); one UpsertResult per record in order, `{id, success, created, errors[]}`, errors
 *   `{statusCode, message, fields}`: `INVALID_FIELD` for a field the org lacks, `INVALID_EMAIL_ADDRESS`,
 *   `REQUIRED_FIELD_MISSING` (a Contact's LastName, an Opportunity's Name/StageName/CloseDate on create),
 *   `DUPLICATE_VALUE` for a unique field holding another record's value, `DUPLICATE_EXTERNAL_ID` when several
 *   records hold the key (the collection's counterpart of the single upsert's 300),
 *   `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST` for a value a restricted picklist lacks (an Opportunity's StageName),
 *   `INVALID_FIELD_FOR_INSERT_UPDATE` for a field that cannot be set on update (an Opportunity's `ContactId`: set only
 *   on create); with `allOrNone: true` one failure rolls every record back (`ALL_OR_NONE_OPERATION_ROLLED_BACK`);
 * - relationships by external id in a record (`"Account": {"Stripe_Customer_Id__c": "cus_1"}` for `AccountId`,
 *   `"Contact": {…}` for an Opportunity's `ContactId`): resolved to the Id of the one record holding the value;
 *   none answers `INVALID_FIELD` "Foreign key external ID: … not found for field … in entity …";
 * - `PATCH /services/data/vXX.X/sobjects/{object}/{externalIdField}/{value}` (one record): 201 created / 200
 *   updated, and 300 with the matching records' URLs when several hold the value (nothing written);
 * - `GET /services/data/vXX.X/query?q=…` (SOQL; `specs/salesforce/query.response.json`): `{totalSize, done,
 *   nextRecordsUrl?, records: [{attributes: {type, url}, …the selected fields}]}`, at most `queryBatchSize` records a
 *   page (default 2,000), the rest through `GET …/query/{locator}` (`nextRecordsUrl`); an unknown locator answers 400
 *   `INVALID_QUERY_LOCATOR`. Only the subset the sync sends is understood, parsed strictly: `SELECT f, … FROM Object
 *   [WHERE cond AND …] [ORDER BY f [ASC|DESC]] [LIMIT n]`, a cond being `f = null`, `f = 'text'` or `f IN ('a', …)`
 *   (string literals with SOQL's backslash escapes); keywords and field names in any case, text compared
 *   case-insensitively as Salesforce does. Anything else answers 400 `[{"message":…,"errorCode":"MALFORMED_QUERY"}]`;
 *   an unknown field `INVALID_FIELD`, an unknown object `INVALID_TYPE`. A request line and headers over 16,384 bytes
 *   are refused (431, Node's own limit), as Salesforce refuses them (414/431) long before SOQL's 100,000 characters;
 * - `PATCH /services/data/vXX.X/composite/sobjects` (sObject Collections update): at most 200 records, each with
 *   `attributes.type` and its `id`; one SaveResult per record in order, `{id, success, errors[]}`; a record not found
 *   answers `ENTITY_IS_DELETED`, an id of the wrong form `MALFORMED_ID`, a missing one `MISSING_ARGUMENT`; the field
 *   checks and `allOrNone` of the upsert;
 * - `LastModifiedDate` (read only, `2026-01-02T03:04:05.000+0000`) set on every record created or updated
 *   (`controls.insert` takes one given, as an import would);
 * - multiple currencies (`controls.enableMultiCurrency()`): `CurrencyIsoCode` appears on the objects' describes;
 * - `GET /services/data/vXX.X/limits` (`DailyApiRequests` Max/Remaining);
 * - the org's rolling 24-hour API request allowance: every authenticated request that is served counts one; once
 *   spent, requests answer 403 `REQUEST_LIMIT_EXCEEDED` ("TotalRequests Limit exceeded."); every authenticated
 *   answer carries `Sforce-Limit-Info: api-usage=N/M` (`controls.setAllowance(max, used)`);
 * - injected failures: `controls.failNext(n, status)` (5xx, not counted against the allowance).
 */

export interface FakeSalesforceField {
  name: string;
  label: string;
  type: 'id' | 'string' | 'email' | 'phone' | 'double' | 'currency' | 'boolean' | 'date' | 'datetime' | 'picklist' | 'reference' | 'textarea';
  custom: boolean;
  externalId: boolean;
  idLookup: boolean;
  unique: boolean;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  length: number;
  /** Reference fields: the relationship name a record names the parent by (`Account` for `AccountId`). */
  relationshipName?: string | null;
  referenceTo?: string[];
  /** Picklist fields: the values. */
  picklistValues?: { value: string; label: string; active: boolean; defaultValue: boolean }[];
  restrictedPicklist?: boolean;
}

export interface FakeSalesforceOptions {
  apiVersion?: string;
  accessToken?: string;
  /** The org's daily API request allowance (DailyApiRequests.Max). Default 15,000. */
  dailyMax?: number;
  /** The rolling window of the allowance (ms). Default 24 h. */
  windowMs?: number;
  /**
   * Custom fields the org has, per object (besides the standard ones). Default: everything the sync needs —
   * Contact and Account have `Stripe_Customer_Id__c` (External ID, unique), Opportunity `Stripe_Subscription_Id__c`
   * (External ID, unique), and the custom object `Stripe_Payment__c` its key and fields.
   */
  customFields?: Record<string, Partial<FakeSalesforceField>[]>;
  /** Most records a query answers in one page (Salesforce: 2,000, fewer for wide rows). Default 2,000. */
  queryBatchSize?: number;
}

export type FakeRecord = Record<string, unknown> & { Id: string };

export interface FakeSalesforceState {
  /** Records by object, then by Id. */
  records: Map<string, Map<string, FakeRecord>>;
  /** Fields by object, then by name. */
  fields: Map<string, Map<string, FakeSalesforceField>>;
  /** Calls per endpoint (`PATCH /composite/sobjects/Contact/Stripe_Customer_Id__c`, path after the version), every answer counted. */
  calls: Record<string, number>;
  /** Every request as received (no Authorization). */
  requests: { method: string; path: string; body: unknown; status: number; search: string }[];
  /** Times the allowance refused a request (403 REQUEST_LIMIT_EXCEEDED). */
  limitRefusals: number;
}

export interface FakeSalesforceControls {
  /** The current token stops working (401 INVALID_SESSION_ID); answers the new token, which works. */
  expireToken(): string;
  /** Sets the daily allowance: `max` requests, `used` of them spent now (inside the rolling window). */
  setAllowance(max: number, used: number): void;
  /** Requests counted inside the rolling window now. */
  apiUsage(): { used: number; max: number };
  /** The next `n` authenticated calls answer `status` (default 500). */
  failNext(n: number, status?: number): void;
  /** Adds a custom field to an object (creating the object when it is a custom one the org lacks). */
  addField(object: string, field: Partial<FakeSalesforceField> & { name: string }): void;
  /** Removes a field from an object (as if an admin deleted it). */
  removeField(object: string, name: string): void;
  /** Finds the records of an object where `field` equals `value`. */
  find(object: string, field: string, value: unknown): FakeRecord[];
  /** Adds a record as a Salesforce user would (no checks; `LastModifiedDate` now unless given): answers its Id. */
  insert(object: string, record: Record<string, unknown>): string;
  /** Sets a picklist's values (the org's own sales process). */
  setPicklist(object: string, field: string, values: string[]): void;
  /** Turns multiple currencies on: `CurrencyIsoCode` on Contact, Account and Opportunity. */
  enableMultiCurrency(): void;
  /** Removes an object (as if it had never been created). */
  removeObject(object: string): void;
  /** Most records a query answers in one page from now on (`nextRecordsUrl` for the rest). */
  setQueryBatchSize(n: number): void;
}

export interface FakeSalesforce {
  url: string;
  apiVersion: string;
  accessToken: string;
  state: FakeSalesforceState;
  controls: FakeSalesforceControls;
  close(): Promise<void>;
}

const MAX_COLLECTION = 200;
/** Salesforce's date-time form in JSON answers. */
const sfDateTime = (ms = Date.now()) => new Date(ms).toISOString().replace('Z', '+0000');
const LAST_MODIFIED = { name: 'LastModifiedDate', label: 'Last Modified Date', type: 'datetime' as const, nillable: false, createable: false, updateable: false };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const KEY_PREFIX: Record<string, string> = { Contact: '003', Opportunity: '006', Account: '001' };

/** The standard Opportunity Stage picklist values of a new org. */
export const STANDARD_STAGES = [
  'Prospecting',
  'Qualification',
  'Needs Analysis',
  'Value Proposition',
  'Id. Decision Makers',
  'Perception Analysis',
  'Proposal/Price Quote',
  'Negotiation/Review',
  'Closed Won',
  'Closed Lost',
];
const picklist = (values: string[]) => values.map((value, i) => ({ value, label: value, active: true, defaultValue: i === 0 }));

const field = (f: Partial<FakeSalesforceField> & { name: string }): FakeSalesforceField => ({
  label: f.name.replace(/__c$/, '').replace(/_/g, ' '),
  type: 'string',
  custom: f.name.endsWith('__c'),
  externalId: false,
  idLookup: f.externalId ?? false,
  unique: false,
  nillable: true,
  createable: true,
  updateable: true,
  length: f.type === 'string' || f.type === undefined ? 255 : 0,
  ...f,
});

const STANDARD: Record<string, (Partial<FakeSalesforceField> & { name: string })[]> = {
  Contact: [
    { name: 'Id', label: 'Contact ID', type: 'id', idLookup: true, nillable: false, createable: false, updateable: false, length: 18 },
    { name: 'FirstName', label: 'First Name', length: 40 },
    { name: 'LastName', label: 'Last Name', nillable: false, length: 80 },
    { name: 'Email', label: 'Email', type: 'email', idLookup: true, length: 80 },
    { name: 'Phone', label: 'Business Phone', type: 'phone', length: 40 },
    { name: 'AccountId', label: 'Account ID', type: 'reference', length: 18, relationshipName: 'Account', referenceTo: ['Account'] },
    LAST_MODIFIED,
  ],
  Account: [
    { name: 'Id', label: 'Account ID', type: 'id', idLookup: true, nillable: false, createable: false, updateable: false, length: 18 },
    { name: 'Name', label: 'Account Name', nillable: false, length: 255 },
    { name: 'Website', label: 'Website', length: 255 },
    LAST_MODIFIED,
  ],
  Opportunity: [
    { name: 'Id', label: 'Opportunity ID', type: 'id', idLookup: true, nillable: false, createable: false, updateable: false, length: 18 },
    { name: 'Name', label: 'Name', nillable: false, length: 120 },
    { name: 'StageName', label: 'Stage', type: 'picklist', nillable: false, length: 255, picklistValues: picklist(STANDARD_STAGES), restrictedPicklist: true },
    { name: 'CloseDate', label: 'Close Date', type: 'date', nillable: false },
    { name: 'Amount', label: 'Amount', type: 'currency', nillable: true },
    { name: 'AccountId', label: 'Account ID', type: 'reference', length: 18, relationshipName: 'Account', referenceTo: ['Account'] },
    // The primary contact: settable only when the Opportunity is created (Object Reference, Opportunity.ContactId).
    { name: 'ContactId', label: 'Contact ID', type: 'reference', length: 18, updateable: false, relationshipName: 'Contact', referenceTo: ['Contact'] },
    LAST_MODIFIED,
  ],
};
/** Standard fields a create needs a value for. */
const REQUIRED_ON_CREATE: Record<string, string[]> = { Contact: ['LastName'], Account: ['Name'], Opportunity: ['Name', 'StageName', 'CloseDate'] };

class SalesforceFailure extends Error {
  constructor(readonly status: number, readonly errorCode: string, message: string) {
    super(message);
  }
}

interface RecordError {
  statusCode: string;
  message: string;
  fields: string[];
}

export async function startFakeSalesforce(options: FakeSalesforceOptions = {}): Promise<FakeSalesforce> {
  const apiVersion = options.apiVersion ?? 'v62.0';
  let accessToken = options.accessToken ?? `00D${randomBytes(6).toString('hex')}!${randomBytes(24).toString('base64url')}`;
  let max = options.dailyMax ?? 15_000;
  const windowMs = options.windowMs ?? 24 * 3600 * 1000;
  /** Times of the requests counted against the allowance, oldest first. */
  let counted: number[] = [];
  const failures: number[] = [];

  const state: FakeSalesforceState = { records: new Map(), fields: new Map(), calls: {}, requests: [], limitRefusals: 0 };
  const customFields = options.customFields ?? {
    Contact: [{ name: 'Stripe_Customer_Id__c', externalId: true, unique: true }],
    Account: [{ name: 'Stripe_Customer_Id__c', externalId: true, unique: true }],
    Opportunity: [{ name: 'Stripe_Subscription_Id__c', externalId: true, unique: true }],
    Stripe_Payment__c: [
      { name: 'Stripe_Event_Key__c', externalId: true, unique: true },
      { name: 'Stripe_Customer_Id__c' },
      { name: 'Amount__c', type: 'currency' },
      { name: 'Currency__c', length: 3 },
      { name: 'Occurred_At__c', type: 'datetime' },
    ],
  };
  const ensureObject = (object: string) => {
    if (!state.fields.has(object)) {
      const fields = new Map<string, FakeSalesforceField>();
      const standard = STANDARD[object] ?? [
        { name: 'Id', label: 'Record ID', type: 'id' as const, idLookup: true, nillable: false, createable: false, updateable: false, length: 18 },
        { name: 'Name', label: `${object.replace(/__c$/, '').replace(/_/g, ' ')} Name`, length: 80 },
        LAST_MODIFIED,
      ];
      for (const f of standard) fields.set(f.name, field({ custom: false, ...f }));
      state.fields.set(object, fields);
      state.records.set(object, new Map());
    }
    return state.fields.get(object)!;
  };
  for (const object of ['Contact', 'Account', 'Opportunity']) ensureObject(object);
  for (const [object, fields] of Object.entries(customFields)) for (const f of fields) ensureObject(object).set(f.name!, field(f as FakeSalesforceField));

  const used = (now = Date.now()) => {
    counted = counted.filter((t) => t > now - windowMs);
    return counted.length;
  };
  const newId = (object: string) => {
    const prefix = KEY_PREFIX[object] ?? 'a0B';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let s = prefix;
    for (const b of randomBytes(15)) s += alphabet[b % alphabet.length];
    return s;
  };

  function describe(object: string) {
    const fields = state.fields.get(object);
    if (!fields) throw new SalesforceFailure(404, 'NOT_FOUND', 'The requested resource does not exist');
    return {
      name: object,
      label: object.replace(/__c$/, '').replace(/_/g, ' '),
      custom: object.endsWith('__c'),
      createable: true,
      updateable: true,
      fields: [...fields.values()].map((f) => ({ ...f })),
    };
  }

  /**
   * Replaces each relationship by external id (`"Account": {"Stripe_Customer_Id__c": "cus_1"}`) with its field's Id
   * (`AccountId`): the first problem, or the resolved values.
   */
  function resolveRelationships(object: string, rec: Record<string, unknown>, existing: FakeRecord | undefined): { error: RecordError } | { values: Record<string, unknown> } {
    const fields = state.fields.get(object)!;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        out[k] = v;
        continue;
      }
      const f = [...fields.values()].find((x) => x.type === 'reference' && x.relationshipName === k);
      if (!f) return { error: { statusCode: 'INVALID_FIELD', message: `No such column '${k}' on sobject of type ${object}`, fields: [k] } };
      if (!(existing ? f.updateable : f.createable)) {
        return { error: { statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', message: `Unable to create/update fields: ${f.name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, fields: [f.name] } };
      }
      const parent = f.referenceTo![0]!;
      const keys = Object.entries(v as Record<string, unknown>).filter(([x]) => x !== 'attributes');
      if (keys.length !== 1) return { error: { statusCode: 'INVALID_FIELD', message: `More than 1 field provided in an external foreign key reference in entity: ${parent}`, fields: [] } };
      const [extName, extValue] = keys[0]!;
      const ext = state.fields.get(parent)?.get(extName);
      if (!ext || !(ext.externalId || ext.idLookup)) {
        return { error: { statusCode: 'INVALID_FIELD', message: `Field name provided, ${extName} is not an External ID or indexed field for ${parent}`, fields: [] } };
      }
      const found = [...(state.records.get(parent)?.values() ?? [])].filter((r) => r[extName] === extValue);
      if (found.length === 0) {
        return { error: { statusCode: 'INVALID_FIELD', message: `Foreign key external ID: ${String(extValue)} not found for field ${extName} in entity ${parent}`, fields: [] } };
      }
      if (found.length > 1) {
        return { error: { statusCode: 'INVALID_FIELD', message: `Foreign key external ID: ${String(extValue)} matches more than one record for field ${extName} in entity ${parent}`, fields: [] } };
      }
      out[f.name] = found[0]!.Id;
    }
    return { values: out };
  }

  /** Checks one record's values against the object's fields: the first problem, or null. */
  function recordProblem(object: string, rec: Record<string, unknown>, existing: FakeRecord | undefined): RecordError | null {
    const fields = state.fields.get(object)!;
    for (const [k, v] of Object.entries(rec)) {
      if (k === 'attributes') continue;
      const f = fields.get(k);
      if (!f) return { statusCode: 'INVALID_FIELD', message: `No such column '${k}' on sobject of type ${object}`, fields: [k] };
      if (!(existing ? f.updateable : f.createable)) {
        return { statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', message: `Unable to create/update fields: ${k}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, fields: [k] };
      }
      if (v === null) {
        if (!f.nillable) return { statusCode: 'REQUIRED_FIELD_MISSING', message: `Required fields are missing: [${k}]`, fields: [k] };
        continue;
      }
      if (f.type === 'picklist' && f.restrictedPicklist && !(f.picklistValues ?? []).some((p) => p.active && p.value === v)) {
        return { statusCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', message: `${f.label}: bad value for restricted picklist field: ${String(v)}`, fields: [k] };
      }
      if (f.type === 'email' && (typeof v !== 'string' || !EMAIL.test(v))) {
        return { statusCode: 'INVALID_EMAIL_ADDRESS', message: `${f.label}: invalid email address: ${String(v)}`, fields: [k] };
      }
      if ((f.type === 'double' || f.type === 'currency') && typeof v !== 'number') {
        return { statusCode: 'JSON_PARSER_ERROR', message: `Cannot deserialize instance of ${f.type} from VALUE_STRING value ${JSON.stringify(v)}`, fields: [k] };
      }
      if (f.type === 'boolean' && typeof v !== 'boolean') {
        return { statusCode: 'JSON_PARSER_ERROR', message: `Cannot deserialize instance of boolean from VALUE_STRING value ${JSON.stringify(v)}`, fields: [k] };
      }
      if (f.type === 'date' && (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v))) {
        return { statusCode: 'JSON_PARSER_ERROR', message: `Cannot deserialize instance of date from VALUE_STRING value ${String(v)}`, fields: [k] };
      }
      if (f.type === 'datetime' && (typeof v !== 'string' || Number.isNaN(Date.parse(v)))) {
        return { statusCode: 'JSON_PARSER_ERROR', message: `Cannot deserialize instance of datetime from VALUE_STRING value ${String(v)}`, fields: [k] };
      }
      if (typeof v === 'string' && f.length > 0 && v.length > f.length) {
        return { statusCode: 'STRING_TOO_LONG', message: `${f.label}: data value too large: ${v.slice(0, 40)} (max length=${f.length})`, fields: [k] };
      }
      if (f.unique) {
        const other = [...state.records.get(object)!.values()].find((r) => r.Id !== existing?.Id && r[k] === v);
        if (other) return { statusCode: 'DUPLICATE_VALUE', message: `duplicate value found: ${k} duplicates value on record with id: ${other.Id}`, fields: [] };
      }
    }
    if (!existing) {
      const missing = (REQUIRED_ON_CREATE[object] ?? []).filter((k) => rec[k] === undefined || rec[k] === null);
      if (missing.length > 0) return { statusCode: 'REQUIRED_FIELD_MISSING', message: `Required fields are missing: [${missing.join(', ')}]`, fields: missing };
    }
    return null;
  }

  function upsert(object: string, externalField: string, body: unknown) {
    const fields = state.fields.get(object);
    if (!fields) throw new SalesforceFailure(404, 'NOT_FOUND', 'The requested resource does not exist');
    const ext = fields.get(externalField);
    if (!ext || !(ext.externalId || ext.idLookup) || ext.name === 'Id') {
      throw new SalesforceFailure(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${externalField}`);
    }
    const b = body as { allOrNone?: unknown; records?: unknown } | null;
    if (!b || typeof b !== 'object' || !Array.isArray(b.records)) throw new SalesforceFailure(400, 'JSON_PARSER_ERROR', 'The request body must contain a records list');
    if (b.allOrNone !== undefined && typeof b.allOrNone !== 'boolean') throw new SalesforceFailure(400, 'JSON_PARSER_ERROR', 'allOrNone must be a boolean');
    if (b.records.length > MAX_COLLECTION) throw new SalesforceFailure(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
    const records = b.records as Record<string, unknown>[];
    for (const r of records) {
      const type = (r?.attributes as { type?: unknown } | undefined)?.type;
      if (typeof type !== 'string') throw new SalesforceFailure(400, 'INVALID_TYPE', 'Each record in the collection must have an attributes map with a type');
      if (type !== object) throw new SalesforceFailure(400, 'INVALID_TYPE', `Record type ${type} does not match the object of the request, ${object}`);
      if ('Id' in r) throw new SalesforceFailure(400, 'INVALID_FIELD', 'Record ids are not supported in an upsert by external id: use the external ID field');
    }
    const table = state.records.get(object)!;
    const snapshot = new Map([...table].map(([id, r]) => [id, { ...r }]));
    const results: { id?: string; success: boolean; created?: boolean; errors: RecordError[] }[] = [];
    let failed = false;
    for (const r of records) {
      const { attributes: _attributes, ...values } = r;
      const key = values[externalField];
      if (typeof key !== 'string' || key === '') {
        results.push({ success: false, errors: [{ statusCode: 'MISSING_ARGUMENT', message: `${externalField} not specified`, fields: [] }] });
        failed = true;
        continue;
      }
      const matches = [...table.values()].filter((x) => x[externalField] === key);
      if (matches.length > 1) {
        results.push({ success: false, errors: [{ statusCode: 'DUPLICATE_EXTERNAL_ID', message: `${externalField}: more than one record found for external id field: [${matches.map((m) => m.Id).join(', ')}]`, fields: [externalField] }] });
        failed = true;
        continue;
      }
      const existing = matches[0];
      const resolved = resolveRelationships(object, values, existing);
      const problem = 'error' in resolved ? resolved.error : recordProblem(object, resolved.values, existing);
      if (problem) {
        results.push({ success: false, errors: [problem] });
        failed = true;
        continue;
      }
      if (existing) {
        Object.assign(existing, (resolved as { values: Record<string, unknown> }).values, { LastModifiedDate: sfDateTime() });
        results.push({ id: existing.Id, success: true, errors: [], created: false });
      } else {
        const rec: FakeRecord = { ...(resolved as { values: Record<string, unknown> }).values, LastModifiedDate: sfDateTime(), Id: newId(object) };
        table.set(rec.Id, rec);
        results.push({ id: rec.Id, success: true, errors: [], created: true });
      }
    }
    if (failed && b.allOrNone === true) {
      state.records.set(object, snapshot);
      return results.map((r) =>
        r.success ? { success: false, errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'Record rolled back because not all records were valid and the request was using AllOrNone header', fields: [] }] } : r,
      );
    }
    return results;
  }

  /** sObject Collections update: one SaveResult per record, in order. */
  function update(body: unknown) {
    const b = body as { allOrNone?: unknown; records?: unknown } | null;
    if (!b || typeof b !== 'object' || !Array.isArray(b.records)) throw new SalesforceFailure(400, 'JSON_PARSER_ERROR', 'The request body must contain a records list');
    if (b.allOrNone !== undefined && typeof b.allOrNone !== 'boolean') throw new SalesforceFailure(400, 'JSON_PARSER_ERROR', 'allOrNone must be a boolean');
    if (b.records.length > MAX_COLLECTION) throw new SalesforceFailure(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
    const records = b.records as Record<string, unknown>[];
    for (const r of records) {
      const type = (r?.attributes as { type?: unknown } | undefined)?.type;
      if (typeof type !== 'string') throw new SalesforceFailure(400, 'INVALID_TYPE', 'Each record in the collection must have an attributes map with a type');
      if (!state.fields.has(type)) throw new SalesforceFailure(400, 'INVALID_TYPE', `sObject type '${type}' is not supported.`);
    }
    const snapshot = new Map([...state.records].map(([o, t]) => [o, new Map([...t].map(([id, r]) => [id, { ...r }]))]));
    const results: { id?: string; success: boolean; errors: RecordError[] }[] = [];
    let failed = false;
    for (const r of records) {
      const object = (r.attributes as { type: string }).type;
      // Field names are case-insensitive: the record's Id may come as `id` (the guide's examples) or `Id`.
      const idKey = Object.keys(r).find((k) => k.toLowerCase() === 'id');
      const { attributes: _attributes, ...rest } = r;
      const values = Object.fromEntries(Object.entries(rest).filter(([k]) => k !== idKey));
      const id = idKey ? r[idKey] : undefined;
      const fail = (error: RecordError) => {
        results.push({ success: false, errors: [error] });
        failed = true;
      };
      if (id === undefined || id === null || id === '') {
        fail({ statusCode: 'MISSING_ARGUMENT', message: 'Id not specified in an update call', fields: [] });
        continue;
      }
      if (typeof id !== 'string' || !/^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/.test(id)) {
        fail({ statusCode: 'MALFORMED_ID', message: `${object} ID: id value of incorrect type: ${String(id)}`, fields: ['Id'] });
        continue;
      }
      const existing = state.records.get(object)!.get(id);
      if (!existing) {
        fail({ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] });
        continue;
      }
      const resolved = resolveRelationships(object, values, existing);
      const problem = 'error' in resolved ? resolved.error : recordProblem(object, resolved.values, existing);
      if (problem) {
        fail(problem);
        continue;
      }
      Object.assign(existing, (resolved as { values: Record<string, unknown> }).values, { LastModifiedDate: sfDateTime() });
      results.push({ id: existing.Id, success: true, errors: [] });
    }
    if (failed && b.allOrNone === true) {
      for (const [o, t] of snapshot) state.records.set(o, t);
      return results.map((r) =>
        r.success ? { success: false, errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'Record rolled back because not all records were valid and the request was using AllOrNone header', fields: [] }] } : r,
      );
    }
    return results;
  }

  /** Query locators: the rows still to be answered, by locator id. */
  const cursors = new Map<string, { object: string; rows: Record<string, unknown>[]; totalSize: number }>();
  let cursorCount = 0;
  let batchSize = options.queryBatchSize ?? 2000;

  function page(locator: string, offset: number) {
    const c = cursors.get(locator)!;
    const rows = c.rows.slice(offset, offset + batchSize);
    const done = offset + batchSize >= c.rows.length;
    if (done) cursors.delete(locator);
    return { totalSize: c.totalSize, done, ...(done ? {} : { nextRecordsUrl: `/services/data/${apiVersion}/query/${locator}-${offset + batchSize}` }), records: rows };
  }

  function query(soql: string) {
    const q = parseSoql(soql);
    const fields = state.fields.get(q.object) ?? [...state.fields].find(([o]) => o.toLowerCase() === q.object.toLowerCase())?.[1];
    if (!fields) throw new SalesforceFailure(400, 'INVALID_TYPE', `sObject type '${q.object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name.`);
    const object = [...state.fields].find(([, f]) => f === fields)![0];
    const named = (name: string) => {
      const f = [...fields.values()].find((x) => x.name.toLowerCase() === name.toLowerCase());
      if (!f) throw new SalesforceFailure(400, 'INVALID_FIELD', `No such column '${name}' on entity '${object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`);
      return f;
    };
    const select = q.fields.map(named);
    const where = q.where.map((c) => ({ ...c, field: named(c.field) }));
    const order = q.orderBy ? { ...q.orderBy, field: named(q.orderBy.field) } : null;
    /** Text compares case-insensitively; an empty value is null. */
    const norm = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);
    let rows = [...state.records.get(object)!.values()].filter((r) =>
      where.every((c) => {
        const v = r[c.field.name];
        if (c.op === 'null') return v === undefined || v === null || v === '';
        if (v === undefined || v === null) return false;
        return c.values.some((x) => norm(x) === norm(v));
      }),
    );
    if (order) {
      const k = order.field.name;
      const cmp = (a: FakeRecord, b: FakeRecord) => {
        const [x, y] = [a[k], b[k]];
        if (x === y) return 0;
        // Salesforce's default: nulls first ascending, last descending.
        if (x === undefined || x === null) return -1;
        if (y === undefined || y === null) return 1;
        return (x as string | number) < (y as string | number) ? -1 : 1;
      };
      rows = rows.sort((a, b) => (order.desc ? -cmp(a, b) : cmp(a, b)));
    }
    if (q.limit !== null) rows = rows.slice(0, q.limit);
    const answered = rows.map((r) => ({
      attributes: { type: object, url: `/services/data/${apiVersion}/sobjects/${object}/${r.Id}` },
      ...Object.fromEntries(select.map((f) => [f.name, r[f.name] ?? null])),
    }));
    const locator = `01gxx${String(++cursorCount).padStart(10, '0')}AAA`;
    cursors.set(locator, { object, rows: answered, totalSize: answered.length });
    return page(locator, 0);
  }

  function queryMore(ref: string) {
    const [locator, offset] = ref.split('-') as [string, string];
    if (!cursors.has(locator)) throw new SalesforceFailure(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    return page(locator, Number(offset));
  }

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, [{ message: `fake Salesforce: ${String(err)}`, errorCode: 'UNKNOWN_EXCEPTION' }], {});
    });
  });

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>) {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    if (await salesforceOAuthRoute(req, res, url, (token) => void (accessToken = token))) return; // the login host's OAuth endpoints (oauth.ts)
    const prefix = `/services/data/${apiVersion}`;
    const sub = url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length).replace(/\/+$/, '') : null;
    const endpoint = `${method} ${sub ?? url.pathname}`;
    state.calls[endpoint] = (state.calls[endpoint] ?? 0) + 1;
    const raw = await readBody(req);
    const record = { method, path: url.pathname, body: undefined as unknown, status: 0, search: url.search };
    state.requests.push(record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      send(res, status, body, headers);
    };

    if (sub === null) return answer(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    if (req.headers.authorization !== `Bearer ${accessToken}`) {
      return answer(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }], { 'www-authenticate': 'Token' });
    }
    const now = Date.now();
    const limitInfo = () => ({ 'sforce-limit-info': `api-usage=${used(now)}/${max}` });
    if (used(now) >= max) {
      state.limitRefusals++;
      return answer(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }], limitInfo());
    }
    const failure = failures.shift();
    if (failure !== undefined) {
      const code = failure === 503 ? 'SERVER_UNAVAILABLE' : 'UNKNOWN_EXCEPTION';
      return answer(failure, [{ message: 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-123456789)', errorCode: code }], limitInfo());
    }
    counted.push(now);

    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        return answer(400, [{ message: 'Unexpected character: was expecting a JSON value', errorCode: 'JSON_PARSER_ERROR' }], limitInfo());
      }
    }
    record.body = body;
    try {
      let m: RegExpMatchArray | null;
      if (method === 'GET' && sub === '/limits') {
        return answer(200, { DailyApiRequests: { Max: max, Remaining: Math.max(0, max - used(now)) } }, limitInfo());
      }
      if (method === 'GET' && (m = sub.match(/^\/sobjects\/([A-Za-z0-9_]+)\/describe$/))) {
        return answer(200, describe(m[1]!), limitInfo());
      }
      if (method === 'GET' && sub === '/query') {
        const q = url.searchParams.get('q');
        if (q === null || q.trim() === '') throw new SalesforceFailure(400, 'MALFORMED_QUERY', 'A query string has to be specified');
        return answer(200, query(q), limitInfo());
      }
      if (method === 'GET' && (m = sub.match(/^\/query\/([A-Za-z0-9]+-\d+)$/))) {
        return answer(200, queryMore(m[1]!), limitInfo());
      }
      if (sub === '/composite/sobjects') {
        if (method !== 'PATCH') return answer(405, [{ message: `HTTP Method '${method}' not allowed. Allowed are PATCH`, errorCode: 'METHOD_NOT_ALLOWED' }], limitInfo());
        return answer(200, update(body), limitInfo());
      }
      if (method === 'PATCH' && (m = sub.match(/^\/sobjects\/([A-Za-z0-9_]+)\/([A-Za-z0-9_]+)\/([^/]+)$/))) {
        // One record by external id: 300 with the matching records' URLs when several hold the value.
        const [object, extField, value] = [m[1]!, m[2]!, decodeURIComponent(m[3]!)];
        const matches = [...(state.records.get(object)?.values() ?? [])].filter((r) => r[extField] === value);
        if (matches.length > 1) return answer(300, matches.map((r) => `${prefix}/sobjects/${object}/${r.Id}`), limitInfo());
        const rec = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
        if (extField in rec || 'Id' in rec) throw new SalesforceFailure(400, 'INVALID_FIELD', `The field ${extField in rec ? extField : 'Id'} must not be in the body of an upsert by external id`);
        const [r] = upsert(object, extField, { allOrNone: true, records: [{ attributes: { type: object }, ...rec, [extField]: value }] });
        if (!r!.success) return answer(400, r!.errors.map((e) => ({ message: e.message, errorCode: e.statusCode, fields: e.fields })), limitInfo());
        return answer(r!.created ? 201 : 200, { id: r!.id, success: true, errors: [], created: r!.created }, limitInfo());
      }
      if ((m = sub.match(/^\/composite\/sobjects\/([A-Za-z0-9_]+)\/([A-Za-z0-9_]+)$/))) {
        if (method !== 'PATCH') return answer(405, [{ message: `HTTP Method '${method}' not allowed. Allowed are PATCH`, errorCode: 'METHOD_NOT_ALLOWED' }], limitInfo());
        return answer(200, upsert(m[1]!, m[2]!, body), limitInfo());
      }
      return answer(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }], limitInfo());
    } catch (err) {
      if (err instanceof SalesforceFailure) return answer(err.status, [{ message: err.message, errorCode: err.errorCode }], limitInfo());
      throw err;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiVersion,
    get accessToken() {
      return accessToken;
    },
    state,
    controls: {
      expireToken: () => {
        accessToken = `00D${randomBytes(6).toString('hex')}!${randomBytes(24).toString('base64url')}`;
        return accessToken;
      },
      setAllowance: (newMax, newUsed) => {
        max = newMax;
        const now = Date.now();
        counted = Array.from({ length: newUsed }, () => now);
      },
      apiUsage: () => ({ used: used(), max }),
      failNext: (n, status = 500) => {
        for (let i = 0; i < n; i++) failures.push(status);
      },
      addField: (object, f) => {
        ensureObject(object).set(f.name, field(f));
      },
      removeField: (object, name) => {
        state.fields.get(object)?.delete(name);
      },
      find: (object, f, value) => [...(state.records.get(object)?.values() ?? [])].filter((r) => r[f] === value),
      insert: (object, record) => {
        ensureObject(object);
        const rec: FakeRecord = { LastModifiedDate: sfDateTime(), ...record, Id: newId(object) };
        state.records.get(object)!.set(rec.Id, rec);
        return rec.Id;
      },
      setPicklist: (object, name, values) => {
        const f = state.fields.get(object)?.get(name);
        if (f) f.picklistValues = picklist(values);
      },
      enableMultiCurrency: () => {
        for (const object of ['Contact', 'Account', 'Opportunity']) {
          ensureObject(object).set('CurrencyIsoCode', field({ name: 'CurrencyIsoCode', label: 'Currency ISO Code', type: 'picklist', custom: false, length: 3, nillable: false, picklistValues: picklist(['USD', 'EUR', 'GBP']), restrictedPicklist: true }));
        }
      },
      removeObject: (object) => {
        state.fields.delete(object);
        state.records.delete(object);
      },
      setQueryBatchSize: (n) => {
        batchSize = n;
      },
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** The SOQL the fake understands (see the header): anything else throws MALFORMED_QUERY. */
interface Soql {
  fields: string[];
  object: string;
  where: { field: string; op: 'null' | 'in'; values: string[] }[];
  orderBy: { field: string; desc: boolean } | null;
  limit: number | null;
}

const SOQL_UNESCAPE: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };

export function parseSoql(soql: string): Soql {
  type Token = { kind: 'word' | 'string' | 'number' | 'punct'; text: string; at: number };
  const malformed = (at: number, why: string): never => {
    const shown = soql.slice(0, 200);
    const caret = at <= shown.length ? `\n${' '.repeat(at)}^` : '';
    throw new SalesforceFailure(400, 'MALFORMED_QUERY', `\n${shown}${caret}\nERROR at Row:1:Column:${at + 1}\n${why}`);
  };
  const tokens: Token[] = [];
  for (let i = 0; i < soql.length; ) {
    const c = soql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= soql.length) malformed(i, 'unterminated string literal');
        const d = soql[j]!;
        if (d === "'") break;
        if (d === '\\') {
          const e = SOQL_UNESCAPE[soql[j + 1] ?? ''];
          if (e === undefined) malformed(j, `invalid escape sequence: \\${soql[j + 1] ?? ''}`);
          text += e;
          j += 2;
          continue;
        }
        text += d;
        j++;
      }
      tokens.push({ kind: 'string', text, at: i });
      i = j + 1;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(soql.slice(i, i + 300));
    if (word) {
      tokens.push({ kind: 'word', text: word[0], at: i });
      i += word[0].length;
      continue;
    }
    const num = /^\d+/.exec(soql.slice(i, i + 20));
    if (num) {
      tokens.push({ kind: 'number', text: num[0], at: i });
      i += num[0].length;
      continue;
    }
    if ('(),='.includes(c)) {
      tokens.push({ kind: 'punct', text: c, at: i });
      i++;
      continue;
    }
    malformed(i, `unexpected token: '${c}'`);
  }
  let k = 0;
  const peek = () => tokens[k];
  const at = () => peek()?.at ?? soql.length;
  const isWord = (w: string) => peek()?.kind === 'word' && peek()!.text.toUpperCase() === w;
  const keyword = (w: string) => {
    if (!isWord(w)) malformed(at(), `expecting '${w}', found '${peek()?.text ?? '<EOF>'}'`);
    k++;
  };
  const punct = (p: string) => {
    if (peek()?.kind !== 'punct' || peek()!.text !== p) malformed(at(), `expecting '${p}', found '${peek()?.text ?? '<EOF>'}'`);
    k++;
  };
  const RESERVED = ['SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'IN', 'NULL', 'ORDER', 'BY', 'ASC', 'DESC', 'LIMIT', 'LIKE', 'NULLS', 'GROUP', 'HAVING', 'OFFSET'];
  const name = () => {
    const t = peek();
    if (t?.kind !== 'word' || RESERVED.includes(t.text.toUpperCase())) malformed(at(), `unexpected token: '${t?.text ?? '<EOF>'}'`);
    k++;
    return t!.text;
  };
  const literal = () => {
    const t = peek();
    if (t?.kind !== 'string') malformed(at(), `expecting a string literal, found '${t?.text ?? '<EOF>'}'`);
    k++;
    return t!.text;
  };

  keyword('SELECT');
  const fields = [name()];
  while (peek()?.text === ',') {
    k++;
    fields.push(name());
  }
  keyword('FROM');
  const object = name();
  const where: Soql['where'] = [];
  if (isWord('WHERE')) {
    k++;
    for (;;) {
      const field = name();
      if (isWord('IN')) {
        k++;
        punct('(');
        const values = [literal()];
        while (peek()?.text === ',') {
          k++;
          values.push(literal());
        }
        punct(')');
        where.push({ field, op: 'in', values });
      } else {
        punct('=');
        if (isWord('NULL')) {
          k++;
          where.push({ field, op: 'null', values: [] });
        } else where.push({ field, op: 'in', values: [literal()] });
      }
      if (!isWord('AND')) break;
      k++;
    }
  }
  let orderBy: Soql['orderBy'] = null;
  if (isWord('ORDER')) {
    k++;
    keyword('BY');
    const field = name();
    let desc = false;
    if (isWord('ASC')) k++;
    else if (isWord('DESC')) {
      k++;
      desc = true;
    }
    orderBy = { field, desc };
  }
  let limit: number | null = null;
  if (isWord('LIMIT')) {
    k++;
    const t = peek();
    if (t?.kind !== 'number') malformed(at(), `expecting a number, found '${t?.text ?? '<EOF>'}'`);
    k++;
    limit = Number(t!.text);
  }
  if (k < tokens.length) malformed(at(), `unexpected token: '${peek()!.text}'`);
  return { fields, object, where, orderBy, limit };
}
