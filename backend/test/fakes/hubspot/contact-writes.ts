import { applyObjectWrites, checkObjectUnique, validateObjectWrites } from './object-writes';
import type { Portal } from './portal';
import type { FakeContact } from './types';

/**
 * Atomic contact writes (the contact form of `object-writes.ts`): every input is validated and every unique
 * value (email, hasUniqueValue properties) checked against the portal and the rest of the batch before anything
 * changes. Any problem fails the whole request, as HubSpot's batch create/update/upsert do.
 */

export interface PlannedWrite {
  /** Existing contact to update; undefined creates one. */
  contact?: FakeContact;
  values: Record<string, string>;
}

/** Throws HubSpot's 400 listing every invalid property value across the inputs. */
export function validateValues(portal: Portal, inputs: Record<string, string>[]): void {
  validateObjectWrites(portal, 'contacts', inputs.map((values) => ({ values })));
}

/** Throws 409 CONFLICT when the writes would leave two live contacts sharing a unique value. */
export function checkUnique(portal: Portal, writes: PlannedWrite[]): void {
  checkObjectUnique(portal.store('contacts'), writes.map((w) => ({ record: w.contact, values: w.values })));
}

/** Validates, checks uniqueness, then applies every write; returns the contacts in input order. */
export function applyWrites(portal: Portal, writes: PlannedWrite[], now: Date, searchLagMs: number): FakeContact[] {
  return applyObjectWrites(portal, 'contacts', writes.map((w) => ({ record: w.contact, values: w.values })), now, searchLagMs);
}
