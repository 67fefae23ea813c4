import { defaultSettings } from '@stripe-hubspot-sync/contracts';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import type { CrmObjectWriter } from '../../src/jobs/crm-objects/stage';
import type { ObjectOutcome } from '../../src/domain/sync/ports';

/**
 * The stage that writes what hangs off a contact (companies, deals, tickets, timeline) after the contact: a record
 * that fails for a reason that may pass keeps the customer out of date (tried again, the contact not written a
 * second time); a refused one is a dead letter and the customer is written all the same.
 */
describe.each(dbKinds())('records beyond the contact on %s', (kind) => {
  let h: SyncHarness;
  const calls: { customerId: string; contactId: string }[] = [];
  /** The answers the probe gives per customer, in turn; none left: written. */
  const script = new Map<string, ObjectOutcome[]>();
  const probe: CrmObjectWriter = {
    name: 'probe',
    enabled: (settings) => settings.crm.deals.enabled,
    async write(_ctx, contacts) {
      const out = new Map<string, ObjectOutcome>();
      for (const c of contacts) {
        calls.push({ customerId: c.customerId, contactId: c.contactId });
        const next = script.get(c.customerId)?.shift();
        if (next) out.set(c.customerId, next);
      }
      return out;
    },
  };

  beforeAll(async () => {
    h = await startSyncHarness({ kind, engine: { objectWriters: [probe], pusher: { settleMs: 20, pollMs: 50, minPassIntervalMs: 50, retry: { baseMs: 50, maxMs: 200 } } } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const contactWrites = () =>
    h.hubspot.requests.filter((r) => r.method === 'POST' && /^\/crm\/v3\/objects\/contacts\/batch\/(create|update)/.test(r.path)).length;

  it('a failure that may pass: the customer is tried again, its contact written once, and is written in the end', async () => {
    script.set('cus_stage1', [{ ok: false, permanent: false, message: 'deal pipeline busy', category: 'RATE_LIMIT' }]);
    const before = contactWrites();
    await h.send(stripeEvent('customer.created', stripeObject('customer', { id: 'cus_stage1', email: 'stage1@example.com', created: 1_700_000_000 })));
    await h.idle();
    const mine = calls.filter((c) => c.customerId === 'cus_stage1');
    expect(mine).toHaveLength(2);
    expect(mine[0]!.contactId).toBe(h.contactOf('cus_stage1')!.id);
    expect(contactWrites() - before).toBe(1);
    const { rows } = await h.server.db.query<{ sync_state: string; attempts: number }>(
      `SELECT sync_state, attempts FROM customers WHERE customer_id = 'cus_stage1'`,
    );
    expect(rows[0]).toEqual({ sync_state: 'synced', attempts: 0 });
  });

  it('a refusal: a dead letter naming the writer, and the customer and its event written', async () => {
    script.set('cus_stage2', [{ ok: false, permanent: true, message: 'stage not in pipeline', category: 'VALIDATION_ERROR' }]);
    const event = stripeEvent('customer.created', stripeObject('customer', { id: 'cus_stage2', email: 'stage2@example.com', created: 1_700_000_000 }));
    await h.send(event);
    await h.idle();
    expect(calls.filter((c) => c.customerId === 'cus_stage2')).toHaveLength(1);
    const dead = await h.server.db.query<{ message: string; category: string }>(
      `SELECT message, category FROM dead_letters WHERE customer_id = 'cus_stage2'`,
    );
    expect(dead.rows).toEqual([{ message: 'probe: stage not in pipeline', category: 'VALIDATION_ERROR' }]);
    expect((await h.eventStatus((event as { id: string }).id))?.status).toBe('synced');
  });

  it('a writer its settings turn off is not called', async () => {
    const settings = await h.server.db.query<{ n: string }>('SELECT count(*) AS n FROM sync_settings');
    expect(Number(settings.rows[0]!.n)).toBe(0);
    const off = defaultSettings();
    off.crm.deals.enabled = false;
    await h.server.db.query(`INSERT INTO sync_settings (account_key, livemode, settings) VALUES ('', false, $1)`, [JSON.stringify(off)]);
    await h.send(stripeEvent('customer.created', stripeObject('customer', { id: 'cus_stage3', email: 'stage3@example.com', created: 1_700_000_000 })));
    await h.idle();
    expect(h.contactOf('cus_stage3')).toBeDefined();
    expect(calls.filter((c) => c.customerId === 'cus_stage3')).toHaveLength(0);
  });
});
