import {
  EVENT_CATALOG,
  FIELD_CATALOG,
  STRIPE_OBJECT_GROUPS,
  validateSettings,
  type CrmObjectSettings,
  type FieldKey,
  type StripeObjectGroup,
  type SyncEventType,
  type SyncOptions,
  type SyncSettings,
} from '../../data/contracts';
import type { FieldError } from '../../data/errors';

/** Error messages keyed by the settings path they belong to, e.g. `fields.mrr.property`. */
export type FieldErrors = Record<string, string>;

export const GROUP_TITLE: Record<StripeObjectGroup, string> = {
  customer: 'Customers',
  checkout: 'Checkout',
  subscription: 'Subscriptions',
  invoice: 'Invoices',
  charge: 'Payments and disputes',
};

export interface EventGroup {
  group: StripeObjectGroup;
  title: string;
  events: { type: SyncEventType; description: string }[];
}

export function eventGroups(): EventGroup[] {
  return STRIPE_OBJECT_GROUPS.map((group) => ({
    group,
    title: GROUP_TITLE[group],
    events: EVENT_CATALOG.filter((e) => e.group === group).map((e) => ({ type: e.type, description: e.description })),
  }));
}

export const OPTION_TEXT: Record<keyof SyncOptions, { label: string; description: string }> = {
  createContacts: {
    label: 'Create contacts',
    description: 'Create a HubSpot contact when no contact matches the customer’s email or Stripe ID.',
  },
  setLifecycleCustomer: {
    label: 'Set lifecycle stage to Customer',
    description: 'After the first successful payment, move the contact’s lifecycle stage to Customer.',
  },
  createTaskOnFailure: {
    label: 'Create a task when a payment fails',
    description: 'Add a follow-up task on the contact in HubSpot for each failed payment.',
  },
};

export const OPTION_KEYS = Object.keys(OPTION_TEXT) as (keyof SyncOptions)[];

/** Live validation with the backend's own schema: the same rules the server applies on save. */
export function validationErrors(settings: SyncSettings): FieldErrors {
  const result = validateSettings(settings);
  return result.ok ? {} : errorsFromDetails(result.errors);
}

/** First message per path wins (the most specific rule comes first in the schema). */
export function errorsFromDetails(details: FieldError[]): FieldErrors {
  const out: FieldErrors = {};
  for (const d of details) if (!(d.path in out)) out[d.path] = d.message;
  return out;
}

export function setEvent(settings: SyncSettings, type: SyncEventType, on: boolean): SyncSettings {
  const chosen = new Set<string>(settings.events);
  if (on) chosen.add(type);
  else chosen.delete(type);
  // Keep the catalog's order so the saved document is stable.
  const events = EVENT_CATALOG.map((e) => e.type).filter((t) => chosen.has(t));
  return { ...settings, events };
}

export function setFieldEnabled(settings: SyncSettings, key: FieldKey, enabled: boolean): SyncSettings {
  return { ...settings, fields: { ...settings.fields, [key]: { ...settings.fields[key], enabled } } };
}

export function setFieldProperty(settings: SyncSettings, key: FieldKey, property: string): SyncSettings {
  return { ...settings, fields: { ...settings.fields, [key]: { ...settings.fields[key], property } } };
}

export function setOption(settings: SyncSettings, key: keyof SyncOptions, on: boolean): SyncSettings {
  return { ...settings, options: { ...settings.options, [key]: on } };
}

/** Errors about the event list, wherever in it they point (`events`, `events.3`). */
export function eventsError(errors: FieldErrors): string | undefined {
  const key = Object.keys(errors).find((p) => p === 'events' || p.startsWith('events.'));
  return key ? errors[key] : undefined;
}

/** The parts of the `crm` section (records beyond contact properties), in the order the page shows them. */
export type CrmPart = keyof CrmObjectSettings;
export const CRM_PARTS: readonly CrmPart[] = ['companies', 'deals', 'timeline', 'tickets'];

/** Each part's settings with a control of their own, e.g. `crm.tickets.pipelineId`. */
export const CRM_CONTROLS: { readonly [P in CrmPart]: readonly (keyof CrmObjectSettings[P])[] } = {
  companies: ['enabled', 'create'],
  deals: ['enabled', 'amount', 'checkoutDeals'],
  timeline: ['enabled'],
  tickets: ['enabled', 'pipelineId', 'priority'],
};

export function crmPath<P extends CrmPart>(part: P, key: keyof CrmObjectSettings[P]): string {
  return `crm.${part}.${String(key)}`;
}

/** Changes some settings of one part of the `crm` section, keeping everything else as it is. */
export function setCrm<P extends CrmPart>(
  settings: SyncSettings,
  part: P,
  change: Partial<CrmObjectSettings[P]>,
): SyncSettings {
  return { ...settings, crm: { ...settings.crm, [part]: { ...settings.crm[part], ...change } } };
}

/**
 * The ticket pipeline as typed: empty means HubSpot's default support pipeline (null). Anything else is kept as
 * typed, spaces included, so the schema judges it (a pipeline id of only spaces is refused, not silently dropped).
 */
export function pipelineIdFromInput(text: string): string | null {
  return text === '' ? null : text;
}

export function pipelineIdToInput(pipelineId: string | null): string {
  return pipelineId ?? '';
}

/** Errors about one part of the `crm` section that no control of it shows (e.g. the part itself). */
export function crmPartErrors(errors: FieldErrors, part: CrmPart): string[] {
  const prefix = `crm.${part}`;
  return Object.entries(errors)
    .filter(([path]) => (path === prefix || path.startsWith(`${prefix}.`)) && !PLACED.has(path))
    .map(([, message]) => message);
}

const PLACED = new Set<string>([
  ...FIELD_CATALOG.flatMap((f) => [`fields.${f.key}.property`, `fields.${f.key}.enabled`]),
  ...OPTION_KEYS.map((k) => `options.${k}`),
  ...CRM_PARTS.flatMap((part) => (CRM_CONTROLS[part] as readonly string[]).map((key) => `crm.${part}.${key}`)),
]);

/** Whether the page shows this path's error somewhere other than the general banner. */
function shownInPlace(path: string): boolean {
  if (PLACED.has(path) || path === 'events' || path.startsWith('events.')) return true;
  return CRM_PARTS.some((part) => path === `crm.${part}` || path.startsWith(`crm.${part}.`));
}

/** Messages with no control to sit next to; shown in a banner so none is lost. */
export function unplacedErrors(errors: FieldErrors): string[] {
  return Object.entries(errors)
    .filter(([path]) => !shownInPlace(path))
    .map(([path, message]) => (path ? `${path}: ${message}` : message));
}

/** Drops the server's errors for paths (and paths below them) whose value the user just changed. */
export function withoutPaths(errors: FieldErrors, paths: string[]): FieldErrors {
  return Object.fromEntries(
    Object.entries(errors).filter(([key]) => !paths.some((p) => key === p || key.startsWith(`${p}.`))),
  );
}
