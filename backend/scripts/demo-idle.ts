import type { Queryable } from '../src/adapters/store/db';

/**
 * Waits until every stored event is settled (nothing `received` or `applied`) and every customer's latest
 * version reached HubSpot or was settled as skipped/failed. Throws after `timeoutMs` naming what is pending.
 */
export async function waitUntilIdle(db: Queryable, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ events: string; customers: string }>(
      `SELECT (SELECT count(*) FROM stripe_events WHERE status IN ('received', 'applied')) AS events,
              (SELECT count(*) FROM customers WHERE version > synced_version) AS customers`,
    );
    const events = Number(rows[0].events);
    const customers = Number(rows[0].customers);
    if (events === 0 && customers === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`not idle after ${timeoutMs} ms: ${events} event(s) and ${customers} customer(s) still pending`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
