import { conflict, fail, propertyValuesError, type PropertyProblem } from './errors';
import type { Portal } from './portal';
import { checkProperties, normalizeValues } from './property-values';
import type { FakeContact } from './types';

/**
 * Atomic contact writes: every input is validated and every unique value (email, hasUniqueValue
 * properties) checked against the portal and the rest of the batch before anything changes. Any problem
 * fails the whole request, as HubSpot's batch create/update/upsert do.
 */

export interface PlannedWrite {
  /** Existing contact to update; undefined creates one. */
  contact?: FakeContact;
  values: Record<string, string>;
}

/** Throws HubSpot's 400 listing every invalid property value across the inputs. */
export function validateValues(portal: Portal, inputs: Record<string, string>[]): void {
  const problems: PropertyProblem[] = [];
  const seen = new Set<string>();
  for (const properties of inputs) {
    for (const p of checkProperties(properties, (n) => portal.shape(n))) {
      const key = `${p.name}\u0000${p.error}\u0000${p.propertyValue ?? ''}`;
      if (!seen.has(key)) problems.push(p);
      seen.add(key);
    }
  }
  if (problems.length > 0) throw propertyValuesError(problems, portal.id);
}

function keyOf(name: string, value: string): string {
  return name === 'email' ? value.toLowerCase() : value;
}

/** Throws 409 CONFLICT when the writes would leave two live contacts sharing a unique value. */
export function checkUnique(portal: Portal, writes: PlannedWrite[]): void {
  const touched = new Set(writes.map((w) => w.contact?.id).filter((id): id is string => id !== undefined));
  for (const name of portal.uniqueProperties()) {
    const owner = new Map<string, string>();
    for (const c of portal.liveContacts()) {
      const v = c.properties[name];
      if (v !== undefined && !touched.has(c.id)) owner.set(keyOf(name, v), c.id);
    }
    writes.forEach((w, i) => {
      const value = w.values[name] !== undefined ? w.values[name] : w.contact?.properties[name];
      if (!value) return;
      const me = w.contact?.id ?? `new:${i}`;
      const holder = owner.get(keyOf(name, value));
      if (holder !== undefined && holder !== me) {
        if (holder.startsWith('new:')) {
          throw fail(409, 'CONFLICT', `Duplicate value "${value}" for unique property "${name}" in the batch input.`);
        }
        throw name === 'email'
          ? conflict(holder)
          : conflict(holder, `A contact with the value "${value}" for unique property "${name}" already exists. Existing ID: ${holder}`);
      }
      owner.set(keyOf(name, value), me);
    });
  }
}

/** Validates, checks uniqueness, then applies every write; returns the contacts in input order. */
export function applyWrites(portal: Portal, writes: PlannedWrite[], now: Date, searchLagMs: number): FakeContact[] {
  for (const w of writes) w.values = normalizeValues(w.values);
  validateValues(portal, writes.map((w) => w.values));
  checkUnique(portal, writes);
  return writes.map((w) => {
    const contact = w.contact ?? portal.create(w.values, now);
    if (w.contact) portal.update(w.contact, w.values, now);
    portal.indexWrite(contact, now.getTime(), searchLagMs);
    return contact;
  });
}
