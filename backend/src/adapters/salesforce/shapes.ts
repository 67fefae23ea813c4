import type { DestinationEvent, RecordResult, SubscriptionWrite } from '../../domain/destinations/port';
import type { DealStageKey } from '../../domain/crm/deal-stages';

/**
 * What the Salesforce adapter (`adapter.ts`) sends and reads, as pure values and functions: the API version, the
 * External ID fields and objects, SOQL literals and the Contact lookup by email, the Opportunity stages and fields, the
 * describe's field check, and the shapes of Salesforce's answers (UpsertResult, query pages, error bodies,
 * `Sforce-Limit-Info`).
 */

export const SALESFORCE_API_VERSION = 'v62.0';

/** A payment record's Name: the event's name, and the kind of a revenue movement (`Revenue Movement: Upgrade`). */
export function recordName(e: Pick<DestinationEvent, 'name' | 'properties'>): string {
  const label = e.properties.movementLabel;
  return typeof label === 'string' && label !== '' && e.name === 'Revenue Movement' ? `${e.name}: ${label}` : e.name;
}
/** The External ID field a Contact is upserted by. */
export const CONTACT_KEY_FIELD = 'Stripe_Customer_Id__c';
export const EVENT_OBJECT = 'Stripe_Payment__c';
export const EVENT_KEY_FIELD = 'Stripe_Event_Key__c';
/** The fields of an event record besides its key and Name. */
export const EVENT_FIELDS = ['Stripe_Customer_Id__c', 'Amount__c', 'Currency__c', 'Occurred_At__c'] as const;
/** Records one sObject Collections request takes. */
export const COLLECTION_MAX = 200;
/** SOQL's limit on the length of a statement. */
export const SOQL_MAX_CHARS = 100_000;
/**
 * What a query's `q` may take once URL-encoded: Salesforce takes at most 16,384 bytes of request URI and headers
 * together (414 URI Too Long, 431 beyond), so a lookup is split well before SOQL's own limit.
 */
export const QUERY_URI_MAX = 12_000;
/** A Contact's Email holds at most 80 characters: a longer address cannot match one. */
export const CONTACT_EMAIL_MAX = 80;

const SOQL_ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
/** A SOQL string literal: quotes, backslashes and the control characters SOQL names are escaped with a backslash. */
export function soqlString(s: string): string {
  return `'${s.replace(/[\\'"\n\r\t\b\f]/g, (c) => SOQL_ESCAPES[c]!)}'`;
}

/**
 * The SOQL statements that look up, among Contacts without a customer id, those holding one of `emails`, most
 * recently modified first: one statement unless it would exceed SOQL's 100,000 characters or `maxEncoded` characters
 * once URL-encoded in the query string.
 */
export function contactLookupQueries(emails: readonly string[], maxEncoded = QUERY_URI_MAX): string[] {
  const head = `SELECT Id, Email, LastModifiedDate FROM Contact WHERE ${CONTACT_KEY_FIELD} = null AND Email IN (`;
  const tail = ') ORDER BY LastModifiedDate DESC';
  const out: string[] = [];
  let items: string[] = [];
  let chars = 0;
  let encoded = 0;
  const base = { chars: head.length + tail.length, encoded: encodeURIComponent(head + tail).length };
  for (const email of emails) {
    const literal = soqlString(email);
    const more = { chars: literal.length + 2, encoded: encodeURIComponent(`, ${literal}`).length };
    if (items.length > 0 && (base.chars + chars + more.chars > SOQL_MAX_CHARS || base.encoded + encoded + more.encoded > maxEncoded)) {
      out.push(head + items.join(', ') + tail);
      items = [];
      chars = 0;
      encoded = 0;
    }
    items.push(literal);
    chars += more.chars;
    encoded += more.encoded;
  }
  if (items.length > 0) out.push(head + items.join(', ') + tail);
  return out;
}
/** The External ID field an Account (a business customer) is upserted by: the Stripe customer id. */
export const ACCOUNT_KEY_FIELD = 'Stripe_Customer_Id__c';
/** The External ID field an Opportunity is upserted by: the Stripe subscription id. */
export const OPPORTUNITY_KEY_FIELD = 'Stripe_Subscription_Id__c';
/** Where the currency goes in an org without multiple currencies (optional: left out when the org lacks it). */
export const OPPORTUNITY_CURRENCY_FIELD = 'Stripe_Currency__c';

/**
 * Our deal stages as values of Salesforce's standard Opportunity Stage picklist (default probabilities in brackets):
 * an active subscription is a sale made, a canceled one a sale lost; a trial is the first step of a sale; a past-due
 * one is still expected to pay (open, late: Negotiation/Review, 90%); an unpaid or paused one is at risk (Needs
 * Analysis, 20%). An org whose Stage picklist lacks a value answers each such Opportunity
 * `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`: a dead letter saying which value to add (or pass `stages`).
 */
export const OPPORTUNITY_STAGES: Readonly<Record<DealStageKey, string>> = {
  trialing: 'Prospecting',
  active: 'Closed Won',
  past_due: 'Negotiation/Review',
  unpaid_paused: 'Needs Analysis',
  canceled: 'Closed Lost',
  one_off_paid: 'Closed Won',
};

export interface SalesforceDescribeField {
  name: string;
  type: string;
  externalId?: boolean;
  custom?: boolean;
  createable?: boolean;
  updateable?: boolean;
}

export interface SalesforceDescribe {
  name: string;
  fields: SalesforceDescribeField[];
}

export interface WantedField {
  name: string;
  /** The field must be an External ID (a key of an upsert). */
  externalId?: boolean;
}

/**
 * The wanted fields the describe lacks, each as it should be told to an admin: `Stripe_Customer_Id__c` when
 * absent, `Stripe_Customer_Id__c (not an External ID)` when present but not marked External ID.
 */
export function missingFields(describe: SalesforceDescribe, wanted: readonly WantedField[]): string[] {
  const byName = new Map(describe.fields.map((f) => [f.name.toLowerCase(), f]));
  const out: string[] = [];
  for (const w of wanted) {
    const f = byName.get(w.name.toLowerCase());
    if (!f) out.push(w.name);
    else if (w.externalId && !f.externalId) out.push(`${w.name} (not an External ID)`);
  }
  return out;
}

export interface Answer {
  status: number;
  body: unknown;
}

export interface UpsertResult {
  id?: string | null;
  success?: boolean;
  created?: boolean;
  errors?: { statusCode?: string; message?: string; fields?: string[] }[];
}

/** A page of a SOQL query's answer. */
export interface QueryResult {
  totalSize?: number;
  done?: boolean;
  nextRecordsUrl?: string;
  records?: { Id?: unknown; Email?: unknown }[];
}

/** An Opportunity's fields for a subscription, as the org's describe of Opportunity allows. */
export function opportunityFields(
  sub: SubscriptionWrite,
  fields: ReadonlyMap<string, SalesforceDescribeField>,
  stages: Readonly<Record<DealStageKey, string>>,
  customerId: string,
  links: { account: boolean; contact: boolean },
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Name: sub.name.slice(0, 120),
    StageName: stages[sub.stage],
    Amount: sub.monthlyAmount,
    // CloseDate is required: a subscription Stripe gave no time to closes today.
    CloseDate: sub.closeDate ?? new Date().toISOString().slice(0, 10),
  };
  if (sub.currency) {
    if (fields.has('CurrencyIsoCode')) out.CurrencyIsoCode = sub.currency;
    else if (fields.has(OPPORTUNITY_CURRENCY_FIELD)) out[OPPORTUNITY_CURRENCY_FIELD] = sub.currency;
  }
  // The customer id on the Opportunity too, when the org has the field (reports, and a link that never fails).
  if (fields.has(CONTACT_KEY_FIELD)) out[CONTACT_KEY_FIELD] = customerId;
  if (links.account) out.Account = { [ACCOUNT_KEY_FIELD]: customerId };
  if (links.contact) out.Contact = { [CONTACT_KEY_FIELD]: customerId };
  return out;
}

export function upsertResult(r: UpsertResult, object: string, keyField: string, key: string): RecordResult {
  if (r.success === true) return { ok: true, externalId: typeof r.id === 'string' ? r.id : null };
  const errors = (r.errors ?? []).map((e) => {
    const said = errorText(e);
    if (e.statusCode === 'DUPLICATE_EXTERNAL_ID') {
      return `${said} (several ${object} records hold ${keyField} = ${key}: a Salesforce user merges them, or an admin makes the field Unique, then replays)`;
    }
    if (e.statusCode === 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' && (e.fields ?? []).includes('StageName')) {
      return `${said} (the org's Opportunity Stage picklist lacks this stage: an admin adds it in Setup → Object Manager → Opportunity → Fields & Relationships → Stage, then replays)`;
    }
    return said;
  });
  return { ok: false, errorClass: 'record', message: `Salesforce refused the ${object}: ${errors.join('; ') || 'no message'}` };
}

/** One error of a record as Salesforce answered it, with the fields it names: `JSON_PARSER_ERROR: … (fields: Stripe_Mrr__c)`. */
export function errorText(e: NonNullable<UpsertResult['errors']>[number]): string {
  const fields = (e.fields ?? []).filter((f) => typeof f === 'string' && f !== '');
  return `${e.statusCode ?? 'ERROR'}: ${e.message ?? 'no message'}${fields.length > 0 ? ` (fields: ${fields.join(', ')})` : ''}`;
}

/** `api-usage=N/M` of a `Sforce-Limit-Info` header (other parts, like `per-app-api-usage`, are ignored). */
export function parseLimitInfo(header: string | null): { used: number; max: number } | null {
  const m = header?.match(/(?:^|[;\s])api-usage=(\d+)\/(\d+)/);
  if (!m) return null;
  const used = Number(m[1]);
  const max = Number(m[2]);
  return max > 0 ? { used, max } : null;
}

/** Salesforce's error bodies are `[{message, errorCode, fields?}]`. */
export function firstError(body: unknown): { message?: unknown; errorCode?: unknown } | null {
  const e = Array.isArray(body) ? body[0] : body;
  return e && typeof e === 'object' ? (e as { message?: unknown; errorCode?: unknown }) : null;
}

export function errorCodeOf(body: unknown): string | null {
  const c = firstError(body)?.errorCode;
  return typeof c === 'string' ? c : null;
}

export function messageOf(body: unknown): string | null {
  const m = firstError(body)?.message;
  return typeof m === 'string' ? m : null;
}
