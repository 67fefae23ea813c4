import type { CustomerData, EventMeta, MapOutcome } from '../records';
import { versionOf } from '../ordering';
import { bool, currency, email, isObject, malformed, str, timestamp, type Json } from './read';

/**
 * customer.created | updated | deleted → a `customer` record. A deleted customer arrives either as the full
 * object or as the short `{id, object, deleted: true}` shape: both give `deleted: true` (the short shape carries
 * no email or name, so those are null in that record).
 */
export function mapCustomer(object: unknown, meta: EventMeta): MapOutcome {
  const bad = malformed(object, 'customer');
  if (bad) return { skip: bad };
  const o = object as Json;
  const id = o.id as string;
  const data: CustomerData = {
    email: email(o.email),
    name: str(o.name),
    created: timestamp(o.created),
    currency: currency(o.currency),
    delinquent: bool(o.delinquent),
    deleted: o.deleted === true || meta.type === 'customer.deleted',
  };
  const businessName = str(o.business_name);
  if (businessName) data.businessName = businessName;
  const previous = meta.previousAttributes;
  const emailChanged = isObject(previous) && 'email' in previous;
  return {
    records: [{ kind: 'customer', objectId: id, customerId: id, version: versionOf(meta, 'customer', o), data }],
    customerId: id,
    email: data.email,
    ...(emailChanged ? { previousEmail: email(previous.email) } : {}),
  };
}
