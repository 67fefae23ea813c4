import type { Db } from '../../../src/adapters/store/db';
import type { FakeHubSpot } from '../../fakes/hubspot/server';
import type { Expected } from './workload';

/**
 * The end state every fault test asserts: the fake HubSpot holds exactly one contact per customer with the
 * values of that customer's newest events, and the storage has every acknowledged event once, settled.
 */

/** Differences between the portal's contacts and `expected` (empty when HubSpot is exactly as expected). */
export function hubspotDifferences(hubspot: FakeHubSpot, portalId: number, expected: Map<string, Expected>): string[] {
  const problems: string[] = [];
  const live = [...hubspot.portal(portalId).contacts.values()].filter((c) => !c.archived);
  const byCustomer = new Map<string, typeof live>();
  for (const c of live) {
    const id = c.properties.stripe_customer_id;
    if (!id) {
      problems.push(`contact ${c.id} (${c.properties.email}) has no stripe_customer_id`);
      continue;
    }
    byCustomer.set(id, [...(byCustomer.get(id) ?? []), c]);
  }
  for (const [id, want] of expected) {
    const contacts = byCustomer.get(id) ?? [];
    if (contacts.length !== 1) {
      problems.push(`${id}: ${contacts.length} contacts`);
      continue;
    }
    const p = contacts[0].properties;
    const got = { email: p.email, delinquent: p.stripe_delinquent, subscriptionStatus: p.stripe_subscription_status };
    const wanted = { email: want.email, delinquent: want.delinquent, subscriptionStatus: want.subscriptionStatus };
    if (JSON.stringify(got) !== JSON.stringify(wanted)) problems.push(`${id}: has ${JSON.stringify(got)}, want ${JSON.stringify(wanted)}`);
  }
  for (const id of byCustomer.keys()) if (!expected.has(id)) problems.push(`${id}: a contact for a customer never sent`);
  return problems;
}

/** Polls until HubSpot is exactly as expected; on timeout throws listing (some of) the differences. */
export async function waitForHubSpot(
  hubspot: FakeHubSpot,
  portalId: number,
  expected: Map<string, Expected>,
  { timeoutMs = 60_000, describe = () => '' }: { timeoutMs?: number; describe?: () => string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems = hubspotDifferences(hubspot, portalId, expected);
    if (problems.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `HubSpot did not reach the expected state in ${timeoutMs} ms (${problems.length} differences):\n` +
          `${problems.slice(0, 10).join('\n')}\n${describe()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Events still waiting to be applied or pushed, plus customers HubSpot does not hold the newest version of. */
export async function pendingWork(db: Db): Promise<number> {
  const { rows } = await db.query<{ pending: string }>(
    `SELECT (SELECT count(*) FROM stripe_events WHERE status IN ('received', 'applied'))
          + (SELECT count(*) FROM customers WHERE version > synced_version)
          + (SELECT count(*) FROM property_resends) AS pending`,
  );
  return Number(rows[0].pending);
}

/**
 * Storage problems (empty when fine): an acknowledged event missing, an event not settled (received/applied)
 * or failed, a customer not synced to its newest version, a customer not sent, or a dead letter.
 */
export async function storageProblems(db: Db, acked: Set<string>, expected: Map<string, Expected>): Promise<string[]> {
  const problems: string[] = [];
  const events = await db.query<{ id: string; status: string; status_reason: string | null }>(
    'SELECT id, status, status_reason FROM stripe_events',
  );
  const stored = new Map(events.rows.map((r) => [r.id, r]));
  const missing = [...acked].filter((id) => !stored.has(id));
  if (missing.length > 0) problems.push(`${missing.length} acknowledged events are not stored, e.g. ${missing.slice(0, 3).join(', ')}`);
  const unsettled = events.rows.filter((r) => !['synced', 'skipped'].includes(r.status));
  if (unsettled.length > 0) {
    const sample = unsettled.slice(0, 3).map((r) => `${r.id}=${r.status}${r.status_reason ? ` (${r.status_reason})` : ''}`);
    problems.push(`${unsettled.length} events not settled as synced/skipped, e.g. ${sample.join(', ')}`);
  }
  const skipped = events.rows.filter((r) => r.status === 'skipped' && !/^Superseded/.test(r.status_reason ?? ''));
  if (skipped.length > 0) problems.push(`${skipped.length} events skipped for another reason than a newer event: ${skipped[0].status_reason}`);

  const customers = await db.query<{ customer_id: string; version: string; synced_version: string; sync_state: string }>(
    'SELECT customer_id, version, synced_version, sync_state FROM customers',
  );
  for (const c of customers.rows) {
    if (!expected.has(c.customer_id)) problems.push(`customer ${c.customer_id} was never sent`);
    if (c.version !== c.synced_version || c.sync_state !== 'synced') {
      problems.push(`customer ${c.customer_id}: version ${c.version}, synced ${c.synced_version}, ${c.sync_state}`);
    }
  }
  if (customers.rows.length !== expected.size) problems.push(`${customers.rows.length} customers stored, ${expected.size} sent`);
  const dead = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters');
  if (dead.rows[0].n > 0) problems.push(`${dead.rows[0].n} dead letters`);
  return problems;
}

/** The most requests that arrived inside any window of `windowMs` (arrival times in ms, any order). */
export function maxInRollingWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let from = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[from] >= windowMs) from++;
    best = Math.max(best, i - from + 1);
  }
  return best;
}
