import type { ObjectRecord } from './records';

/**
 * A customer deleted in Stripe keeps no personal data with us: the records of its objects lose the fields that
 * name a person (email, name), while their versions stay, so the order rule still holds — a late
 * `customer.updated` older than the deletion still loses, and the customer stays deleted.
 */

/** The record fields that name a person (what the mappers keep of Stripe's email, name, phone and address). */
export const PERSONAL_FIELDS = ['email', 'name'] as const;

/** Whether `customerId`'s own customer record among `records` says it was deleted. */
export function isDeletedCustomer(records: readonly ObjectRecord[], customerId: string): boolean {
  return records.some((r) => r.kind === 'customer' && r.objectId === customerId && r.data.deleted);
}

/** The record with its personal fields set to null; the same object when it has none to clear. */
export function withoutPersonalData(record: ObjectRecord): ObjectRecord {
  const data = record.data as unknown as Record<string, unknown>;
  const present = PERSONAL_FIELDS.filter((f) => data[f] !== undefined && data[f] !== null);
  if (present.length === 0) return record;
  const cleared: Record<string, unknown> = { ...data };
  for (const f of present) cleared[f] = null;
  return { ...record, data: cleared } as unknown as ObjectRecord;
}
