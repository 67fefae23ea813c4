/**
 * Safe readers for untyped Stripe JSON: each returns a value of the right type or null, never throws, and
 * never lets NaN, Infinity or a non-integer amount through. Mappers read payloads only through these.
 */

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown): Json | null {
  return isObject(v) ? v : null;
}

export function field(o: unknown, ...path: string[]): unknown {
  let cur: unknown = o;
  for (const key of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

export function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

export function bool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

/** An amount in minor units: a safe integer, else null. */
export function amount(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

/** A non-negative amount, defaulting to 0. */
export function amountOr0(v: unknown): number {
  const a = amount(v);
  return a !== null && a > 0 ? a : 0;
}

/** A unix timestamp in seconds: a non-negative safe integer, else null. */
export function timestamp(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
}

export function count(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : 0;
}

/** The id of an expandable field: the string itself, or the `id` of the expanded object. */
export function idOf(v: unknown): string | null {
  if (typeof v === 'string') return v.length > 0 ? v : null;
  return str(field(v, 'id'));
}

export function currency(v: unknown): string | null {
  return typeof v === 'string' && /^[A-Za-z]{3}$/.test(v) ? v.toLowerCase() : null;
}

/** An email as given (trimmed), when it looks like one. */
export function email(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = v.trim();
  return /^[^\s@]+@[^\s@]+$/.test(t) ? t : null;
}

export function list(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  const data = field(v, 'data');
  return Array.isArray(data) ? data : [];
}

/** Why an object cannot be mapped, or null when it has the expected `object` type and an id. */
export function malformed(o: unknown, objectType: string, needsId = true): string | null {
  if (!isObject(o)) return `malformed ${objectType}: the event carries no object`;
  if (o.object !== undefined && o.object !== objectType) {
    return `malformed ${objectType}: the event carries a ${String(o.object)} object`;
  }
  if (needsId && !str(o.id)) return `malformed ${objectType}: the object has no id`;
  return null;
}
