import {
  FIELD_CATALOG,
  FIELD_KEYS,
  type CustomerStatus,
  type DestinationSettings,
  type DestinationKind,
} from '@stripe-hubspot-sync/contracts';
import { fieldValue } from '../properties';
import type { DestinationValue, ProfileWrite, PropertyDefinition, PropertyType } from './port';

/**
 * A customer's computed facts as a destination profile (pure). The same values HubSpot receives (one source of
 * truth: `fieldValue`), typed for destinations that store types: money and counts as numbers (money in major
 * units), flags as booleans, dates as ISO 8601, text as text; an unknown value is null (cleared).
 */

const TYPE_OF = new Map(FIELD_CATALOG.map((f) => [f.key as string, f.type]));

function typedValue(type: string | undefined, raw: string): DestinationValue {
  if (raw === '') return null;
  switch (type) {
    case 'number': {
      const n = Number(raw);
      return Number.isFinite(n) ? n : null;
    }
    case 'bool':
      return raw === 'true';
    case 'date':
    case 'datetime': {
      const ms = Number(raw);
      if (!Number.isFinite(ms)) return null;
      const iso = new Date(ms).toISOString();
      return type === 'date' ? iso.slice(0, 10) : iso;
    }
    default:
      return raw;
  }
}

/** The property type a destination declares for a field. */
export function destinationPropertyType(key: string): PropertyType {
  switch (TYPE_OF.get(key)) {
    case 'number':
      return 'number';
    case 'bool':
      return 'boolean';
    case 'date':
    case 'datetime':
      return 'date';
    default:
      return 'string';
  }
}

/** The enabled fields' typed values under the merchant's names for this destination. */
export function destinationProperties(status: CustomerStatus, settings: DestinationSettings): Record<string, DestinationValue> {
  const out: Record<string, DestinationValue> = {};
  for (const key of FIELD_KEYS) {
    const f = settings.fields[key];
    if (!f?.enabled) continue;
    if (key === 'productsBought') {
      // Names, not ids, where a destination shows the value as text (ids when Stripe never named the product).
      const names = [...new Set((status.productsBought ?? []).map((p) => p.name ?? p.id).filter(Boolean))].sort();
      out[f.property] = names.length > 0 ? names.join(', ') : null;
      continue;
    }
    out[f.property] = typedValue(TYPE_OF.get(key), fieldValue(key, status));
  }
  return out;
}

/** The custom properties a destination must hold for these settings. */
export function destinationPropertyDefinitions(settings: DestinationSettings): PropertyDefinition[] {
  return FIELD_KEYS.filter((k) => settings.fields[k]?.enabled).map((k) => ({
    name: settings.fields[k].property,
    type: k === 'productsBought' ? 'string' : destinationPropertyType(k),
  }));
}

/** Splits a Stripe customer name into first and last name the way a person would read it ("Ada Lovelace"). */
export function splitName(name: string | null): { firstName: string | null; lastName: string | null } {
  const parts = (name ?? '').trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return { firstName: null, lastName: null };
  if (parts.length === 1) return { firstName: parts[0]!, lastName: null };
  return { firstName: parts.slice(0, -1).join(' '), lastName: parts[parts.length - 1]! };
}

export function profileWrite(
  status: CustomerStatus,
  settings: DestinationSettings,
  held: { externalId: string | null; syncedEmail: string | null },
): ProfileWrite {
  return {
    customerId: status.customerId,
    email: status.email,
    previousEmail: held.syncedEmail,
    ...splitName(status.name),
    externalId: held.externalId,
    properties: destinationProperties(status, settings),
  };
}

/**
 * Kinds that want their custom properties declared (or, Salesforce, checked: an admin creates its fields) before the
 * first write (Loops properties, Intercom data attributes, Salesforce Contact fields: a missing one is named).
 */
export function declaresProperties(kind: DestinationKind): boolean {
  return kind === 'loops' || kind === 'intercom' || kind === 'salesforce';
}

/** Kinds whose contacts cannot exist without an email (Loops): a customer with none is not written there yet. */
export function requiresEmail(kind: DestinationKind): boolean {
  return kind === 'loops';
}
