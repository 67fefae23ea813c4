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
export type FieldSetting = z.infer<typeof fieldSettingSchema>;

export interface SyncSettings {
  /** Enabled event types; the others are recorded as ignored. */
  events: SyncEventType[];
  fields: Record<FieldKey, FieldSetting>;
  options: SyncOptions;
}

export function defaultSettings(): SyncSettings {
  return {
    events: SYNC_EVENT_TYPES.filter(() => true) as SyncEventType[],
    fields: Object.fromEntries(
      FIELD_CATALOG.map((f) => [f.key, { enabled: f.defaultEnabled, property: f.defaultProperty }]),
    ) as Record<FieldKey, FieldSetting>,
    options: { createContacts: true, setLifecycleCustomer: true, createTaskOnFailure: false },
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
