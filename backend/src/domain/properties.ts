import type { CustomerStatus, ProductBought } from '@stripe-hubspot-sync/contracts';
import {
  FIELD_CATALOG,
  MRR_MOVEMENT_KINDS,
  PAYMENT_STATUSES,
  PROPERTY_GROUP,
  SUBSCRIPTION_STATUSES,
  type FieldDefinition,
  type FieldKey,
  type HubSpotFieldType,
  type HubSpotPropertyType,
} from '@stripe-hubspot-sync/contracts';
import type { SyncSettings } from '@stripe-hubspot-sync/contracts';
import { minorToDecimalString } from '@stripe-hubspot-sync/contracts';
import { toHubSpotBool, toHubSpotDate, toHubSpotDateTime } from './conversions';

/**
 * A customer's status → HubSpot contact property values, under the merchant's property names, for the fields
 * the merchant enabled. Every value is a string HubSpot accepts for the property's type:
 * money → exact decimal in the currency's units ("19.99", "500" for JPY, "1.005" for KWD); date → epoch ms of
 * midnight UTC; datetime → epoch ms; bool → "true"/"false"; enumeration → one of its options (subscription
 * status "none" without a subscription); multi-select (products bought) → option values joined with ";". A fact we do not have is written as "" — HubSpot clears the property —
 * so a stale value never stays (e.g. the renewal date of a canceled subscription). Never "NaN" or "undefined".
 */

/** HubSpot's limit for a single-line text property value is 65,536 characters; we keep reasons short. */
const MAX_TEXT = 1000;

const ENDED = new Set(['canceled', 'incomplete_expired']);

/** Minor units → decimal string; without a currency the amount is taken as two-decimal (ISO default). */
function money(minor: number | null | undefined, currency: string | null | undefined): string {
  if (typeof minor !== 'number' || !Number.isFinite(minor)) return '';
  const whole = Math.round(minor);
  const cur = currency && /^[a-z]{3}$/i.test(currency) ? currency : 'xxx';
  return minorToDecimalString(whole, cur);
}

function text(v: string | null | undefined): string {
  if (typeof v !== 'string') return '';
  return v.length > MAX_TEXT ? `${v.slice(0, MAX_TEXT - 1)}…` : v;
}

function integer(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? String(Math.round(v)) : '';
}

function oneOf(value: string | null | undefined, options: readonly string[], fallback: string): string {
  return value && options.includes(value) ? value : fallback;
}

/** What a contact carries: one customer's status, or the roll-up of the customers sharing it with all their ids. */
export type ContactFacts = CustomerStatus & { customerIds?: readonly string[] };

/** The ids as one text value ("cus_A;cus_B"), whole ids only, "…" when they do not all fit. */
function idList(ids: readonly string[]): string {
  let out = '';
  for (const id of ids) {
    const next = out ? `${out};${id}` : id;
    if (next.length > MAX_TEXT - 2) return `${out};…`;
    out = next;
  }
  return out;
}

/** Product ids as multi-select option values: distinct, sorted, none that HubSpot could not take. */
function productValues(products: readonly ProductBought[]): string[] {
  const ids = products.map((p) => p?.id).filter((id): id is string => typeof id === 'string' && id !== '' && !id.includes(';'));
  return [...new Set(ids)].sort();
}

/** The value of one field, as HubSpot takes it ("" when unknown). */
export function fieldValue(key: FieldKey, s: ContactFacts): string {
  const sub = s.subscription;
  const subCurrency = s.currency ?? sub?.currency ?? null;
  switch (key) {
    case 'customerId':
      return s.customerId;
    case 'customerIds':
      return idList(s.customerIds ?? [s.customerId]);
    case 'customerSince':
      return toHubSpotDate(s.customerSince) ?? '';
    case 'subscriptionStatus':
      return sub ? oneOf(sub.status, SUBSCRIPTION_STATUSES, 'none') : 'none';
    case 'plan':
      return text(sub?.plan);
    case 'mrr':
      return money(sub?.mrr ?? 0, subCurrency);
    case 'currency':
      return s.currency ? s.currency.toUpperCase() : '';
    case 'nextRenewalDate':
      return sub && !ENDED.has(sub.status) ? (toHubSpotDate(sub.currentPeriodEnd) ?? '') : '';
    case 'cancelAtPeriodEnd':
      return toHubSpotBool(sub?.cancelAtPeriodEnd ?? false) ?? 'false';
    case 'nextInvoiceAmount':
      return s.nextInvoiceAmount === null ? '' : money(s.nextInvoiceAmount, s.currency);
    case 'lastPaymentAmount':
      return s.lastPayment ? money(s.lastPayment.amount, s.lastPayment.currency || s.currency) : '';
    case 'lastPaymentDate':
      return s.lastPayment ? (toHubSpotDateTime(s.lastPayment.at) ?? '') : '';
    case 'lastPaymentStatus':
      return s.lastPayment ? oneOf(s.lastPayment.status, PAYMENT_STATUSES, '') : '';
    case 'lastFailureReason':
      return text(s.lastFailureReason);
    case 'failedPaymentCount':
      return integer(s.failedPaymentCount) || '0';
    case 'openAmountDue':
      return money(s.openAmountDue, s.currency);
    case 'lifetimeValue':
      return money(s.lifetimeValue, s.currency);
    case 'totalRefunded':
      return money(s.totalRefunded, s.currency);
    case 'disputedAmount':
      return money(s.disputedAmount, s.currency);
    case 'delinquent':
      return toHubSpotBool(s.delinquent) ?? 'false';
    case 'trialEndDate':
      return sub?.status === 'trialing' ? (toHubSpotDate(sub.trialEnd) ?? '') : '';
    case 'productsBought':
      return productValues(s.productsBought ?? []).join(';');
    case 'refundIssuedDate':
      return toHubSpotDate(s.refundIssuedAt) ?? '';
    case 'lastMrrChangeDate':
      return s.lastMrrChange ? (toHubSpotDateTime(s.lastMrrChange.at) ?? '') : '';
    case 'lastMrrChangeAmount':
      return s.lastMrrChange ? money(s.lastMrrChange.amount, s.lastMrrChange.currency ?? s.currency) : '';
    case 'lastMovement':
      return s.lastMrrChange ? oneOf(s.lastMrrChange.kind, MRR_MOVEMENT_KINDS, '') : '';
    case 'dashboardUrl':
      return s.dashboardUrl;
  }
}

/** The enabled fields' values under the merchant's property names. */
export function toHubSpotProperties(status: ContactFacts, settings: SyncSettings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of FIELD_CATALOG) {
    const setting = settings.fields[f.key];
    if (!setting?.enabled) continue;
    out[setting.property] = fieldValue(f.key, status);
  }
  return out;
}

/** `{lifecyclestage: 'customer'}` once the customer has paid successfully, else null. */
export function lifecycleStageUpdate(status: CustomerStatus): { lifecyclestage: 'customer' } | null {
  const paid = status.lastPayment !== null && status.lastPayment.status !== 'failed';
  return paid || status.lifetimeValue > 0 ? { lifecyclestage: 'customer' } : null;
}

// ---------- Provisioning ----------

export interface PropertyOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: false;
}

/** A HubSpot `PropertyCreate` input (crm-properties-v3). */
export interface PropertyDefinition {
  name: string;
  label: string;
  description: string;
  groupName: string;
  type: HubSpotPropertyType;
  fieldType: HubSpotFieldType;
  options?: PropertyOption[];
  hasUniqueValue?: boolean;
  formField: false;
  displayOrder: number;
}

const OPTION_LABELS: Record<string, string> = { true: 'Yes', false: 'No', none: 'None', past_due: 'Past due' };

function optionLabel(value: string): string {
  if (Object.hasOwn(OPTION_LABELS, value)) return OPTION_LABELS[value];
  const words = value.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The options of the products-bought multi-select: one per product, value = the Stripe product id (stable, so
 * lists built on it survive a rename), label = its name in Stripe when a payload named it, else the id.
 */
export function productOptions(products: readonly ProductBought[]): PropertyOption[] {
  const names = new Map(products.map((p) => [p?.id, p?.name] as const));
  return productValues(products).map((id, i) => ({
    label: (names.get(id) ?? '').trim() || id,
    value: id,
    displayOrder: i,
    hidden: false,
  }));
}

function definitionOf(f: FieldDefinition, property: string, order: number, products: readonly ProductBought[]): PropertyDefinition {
  const def: PropertyDefinition = {
    name: property,
    label: f.label,
    description: f.description,
    groupName: PROPERTY_GROUP.name,
    type: f.type,
    fieldType: f.fieldType,
    formField: false,
    displayOrder: order,
  };
  if (f.options) {
    def.options = f.options.map((value, i) => ({ label: optionLabel(value), value, displayOrder: i, hidden: false }));
  }
  if (f.key === 'productsBought') def.options = productOptions(products);
  if (f.key === 'customerId') def.hasUniqueValue = true;
  return def;
}

/** The property group our properties live in (a `PropertyGroupCreate` input). */
export function propertyGroupDefinition(): { name: string; label: string; displayOrder: number } {
  return { name: PROPERTY_GROUP.name, label: PROPERTY_GROUP.label, displayOrder: -1 };
}

/**
 * HubSpot property definitions of the enabled fields, under the merchant's names, in catalog order. `products`:
 * the products the account's customers bought, the options of the products-bought multi-select (HubSpot refuses
 * a value that is not an option; existing options are kept when the property is updated, see
 * adapters/hubspot/properties.ts).
 */
export function propertyDefinitions(settings: SyncSettings, products: readonly ProductBought[] = []): PropertyDefinition[] {
  const out: PropertyDefinition[] = [];
  FIELD_CATALOG.forEach((f, i) => {
    const setting = settings.fields[f.key];
    if (setting?.enabled) out.push(definitionOf(f, setting.property, i + 1, products));
  });
  return out;
}
