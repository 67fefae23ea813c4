import { email, field, idOf, isObject } from './read';

/** The `customer` field of any object: an id string, an expanded customer, or an expanded deleted customer. */
export function customerRef(v: unknown): { id: string | null; email: string | null } {
  return { id: idOf(v), email: isObject(v) && v.deleted !== true ? email(field(v, 'email')) : null };
}
