import type { CustomerStatus } from '@stripe-hubspot-sync/contracts';

/** Two statuses carry the same facts (bookkeeping timestamps aside), whatever the key order (jsonb reorders keys). */
export function sameStatus(a: CustomerStatus, b: CustomerStatus): boolean {
  return canonical(facts(a)) === canonical(facts(b));
}

function facts(s: CustomerStatus): Omit<CustomerStatus, 'updatedAt' | 'lastSyncedAt'> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { updatedAt, lastSyncedAt, ...rest } = s;
  return rest;
}

/** JSON with object keys sorted at every level. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
