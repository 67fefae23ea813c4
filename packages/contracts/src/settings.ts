import { z } from 'zod';
import { FIELD_CATALOG, FIELD_KEYS, SYNC_EVENT_TYPES, type FieldKey, type SyncEventType } from './catalog';

/**
 * Sync settings of one Stripe account in one mode (test or live). One zod schema, used by the
 * backend to validate what the Stripe App saves and by the Stripe App to validate before saving.
 */

/** HubSpot internal property names: lower-case letter first, then lower-case letters, digits, `_`; no `hs_` prefix. */
export const PROPERTY_NAME_PATTERN = /^[a-z][a-z0-9_]{0,99}$/;

export const propertyNameSchema = z
  .string()
  .regex(PROPERTY_NAME_PATTERN, 'Use lower-case letters, digits and _; start with a letter; at most 100 characters')
  .refine((n) => !n.startsWith('hs_'), 'Names starting with hs_ are reserved by HubSpot');

export const fieldSettingSchema = z.object({ enabled: z.boolean(), property: propertyNameSchema }).strict();

export const syncOptionsSchema = z
  .object({
    /** Create a contact when no contact matches the customer. */
    createContacts: z.boolean(),
    /** Set lifecycle stage to `customer` on the first successful payment. */
    setLifecycleCustomer: z.boolean(),
    /** Create a HubSpot task on the contact when a payment fails. */
    createTaskOnFailure: z.boolean(),
  })
  .strict();

export type SyncOptions = z.infer<typeof syncOptionsSchema>;

/** HubSpot ticket priorities (the `hs_ticket_priority` property's options). */
export const TICKET_PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'URGENT'] as const;
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];

/**
 * What the sync writes beyond contact properties (each per account and mode): companies, a deal per subscription,
 * revenue movements on the contact's timeline, tickets on failed payments.
 */
export const crmObjectsSchema = z
  .object({
    companies: z
      .object({
        /** Associate customers with companies (business name or a company email domain). */
        enabled: z.boolean(),
        /** Create a company when none matches by Stripe customer id or domain. */
        create: z.boolean(),
      })
      .strict(),
    deals: z
      .object({
        /** One deal per subscription in the "Stripe subscriptions" pipeline. */
        enabled: z.boolean(),
        /** The deal amount: monthly (MRR) or yearly (ARR) recurring revenue, in the subscription's currency. */
        amount: z.enum(['mrr', 'arr']),
        /** Also a (closed won) deal for each one-off Checkout payment. */
        checkoutDeals: z.boolean(),
      })
      .strict(),
    timeline: z
      .object({
        /** Revenue movements (new, upgrade, churn, failed payment, …) on the contact's timeline. */
        enabled: z.boolean(),
      })
      .strict(),
    tickets: z
      .object({
        /** A ticket for each unpaid invoice, closed when it is paid or voided. */
        enabled: z.boolean(),
        /** The ticket pipeline (null: HubSpot's default support pipeline). */
        pipelineId: z
          .string()
          .trim()
          .min(1, 'Enter a ticket pipeline ID, or leave it empty for HubSpot’s default support pipeline')
          .max(64, 'A ticket pipeline ID is at most 64 characters')
          .nullable(),
        priority: z.enum(TICKET_PRIORITIES),
      })
      .strict(),
  })
  .strict();

export type CrmObjectSettings = z.infer<typeof crmObjectsSchema>;

export function defaultCrmObjectSettings(): CrmObjectSettings {
  return {
    companies: { enabled: true, create: true },
    deals: { enabled: true, amount: 'mrr', checkoutDeals: false },
    timeline: { enabled: true },
    tickets: { enabled: false, pipelineId: null, priority: 'HIGH' },
  };
}
export type FieldSetting = z.infer<typeof fieldSettingSchema>;

export interface SyncSettings {
  /** Enabled event types; the others are recorded as ignored. */
  events: SyncEventType[];
  fields: Record<FieldKey, FieldSetting>;
  options: SyncOptions;
  /** Companies, deals, timeline, tickets. */
  crm: CrmObjectSettings;
}

export function defaultSettings(): SyncSettings {
  return {
    events: SYNC_EVENT_TYPES.filter(() => true) as SyncEventType[],
    fields: Object.fromEntries(
      FIELD_CATALOG.map((f) => [f.key, { enabled: f.defaultEnabled, property: f.defaultProperty }]),
    ) as Record<FieldKey, FieldSetting>,
    options: { createContacts: true, setLifecycleCustomer: true, createTaskOnFailure: false },
    crm: defaultCrmObjectSettings(),
  };
}

/** A field missing from a document (saved before the field existed, or sent by an older app) takes its default. */
const fieldsShape = Object.fromEntries(
  FIELD_CATALOG.map((f) => [f.key, fieldSettingSchema.default({ enabled: f.defaultEnabled, property: f.defaultProperty })]),
) as unknown as Record<FieldKey, typeof fieldSettingSchema>;

/** The full settings document, as stored and as the app sends it. */
export const syncSettingsSchema = z
  .object({
    events: z.array(z.enum(SYNC_EVENT_TYPES)).refine((a) => new Set(a).size === a.length, 'Each event at most once'),
    fields: z.object(fieldsShape).strict(),
    options: syncOptionsSchema,
    /** A document saved before this section existed takes the defaults. */
    crm: crmObjectsSchema.default(defaultCrmObjectSettings),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Map<string, string>();
    for (const key of FIELD_KEYS) {
      const f = s.fields[key];
      if (!f.enabled) continue;
      const other = seen.get(f.property);
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: ['fields', key, 'property'],
          message: `Property ${f.property} is already used by ${other}`,
        });
      }
      seen.set(f.property, key);
    }
    if (!s.fields.customerId.enabled) {
      ctx.addIssue({
        code: 'custom',
        path: ['fields', 'customerId', 'enabled'],
        message: 'The Stripe customer ID links contacts to customers and cannot be turned off',
      });
    }
  });

export type SettingsValidation =
  | { ok: true; settings: SyncSettings }
  | { ok: false; errors: { path: string; message: string }[] };

/** Validates a settings document; errors carry a dotted path (e.g. `fields.mrr.property`) for the form. */
export function validateSettings(input: unknown): SettingsValidation {
  const r = syncSettingsSchema.safeParse(input);
  if (r.success) return { ok: true, settings: r.data as SyncSettings };
  return { ok: false, errors: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
}
