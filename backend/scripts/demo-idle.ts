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

/**
 * Waits until every destination that is not broken holds every customer's newest state (or refused it for good: a
 * dead letter). Call after `waitUntilIdle`. Throws after `timeoutMs` naming how many are pending.
 */
export async function waitUntilDestinationsIdle(db: Queryable, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM destinations d
         JOIN customers c ON c.account_key = d.account_key AND c.livemode = d.livemode AND c.status IS NOT NULL
         LEFT JOIN destination_customers dc ON dc.destination_id = d.id AND dc.customer_id = c.customer_id
        WHERE d.health <> 'broken' AND c.version > COALESCE(dc.synced_version, 0)
          AND (dc.dead_version IS NULL OR c.version > dc.dead_version)`,
    );
    const pending = Number(rows[0].n);
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`destinations not idle after ${timeoutMs} ms: ${pending} customer write(s) pending`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
