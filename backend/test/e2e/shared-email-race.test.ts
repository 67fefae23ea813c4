import { defaultSettings, type CustomerStatus } from '@stripe-hubspot-sync/contracts';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { waitFor } from '../helpers/server';
import { stripeEvent, stripeObject, succeededCharge } from '../helpers/stripe-fixtures';
import { contactProperties } from '../../src/domain/sync/contact-write';
import { startPusher, type Pusher } from '../../src/jobs/push-contacts';
import type { SyncEngine } from '../../src/sync/engine';

/**
 * Two pushers, one contact shared by two customers that change at the same time: each write of the contact is the
 * roll-up of one snapshot of both customers (their rows are leased together), never one customer's new facts
 * beside a stale roll-up of the other's.
 */

const settings = defaultSettings();
const MAPPED = Object.values(settings.fields).filter((f) => f.enabled).map((f) => f.property);
const T0 = 1_768_000_000;
const mapped = (props: Record<string, string | undefined>) => Object.fromEntries(MAPPED.map((n) => [n, props[n] ?? '']));

describe.each(dbKinds())('two pushers, one shared contact on %s', (kind) => {
  let h: SyncHarness;
  let engine: SyncEngine | undefined;
  let second: Pusher;
  let running = true;
  let secondHandled = 0;
  let secondLoop: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    const pusher = { batchSize: 1, settleMs: 0, pollMs: 20, minPassIntervalMs: 0 };
    // The server's own pusher writes one batch per merchant at a time here, so the other instance's pusher takes part
    // in the race (with two at once, the server's would usually take B's change itself — the same race, in one process).
    h = await startSyncHarness({ kind, engine: { pusher: { ...pusher, maxGroupsPerMerchant: 1 }, plugins: [(_ctx, e) => void (engine = e)] } });
    second = startPusher({ db: h.server.db, logger: h.server.logger, gatewayFor: engine!.gatewayFor, ...pusher }, { loop: false });
    secondLoop = (async () => {
      while (running) {
        secondHandled += await second.runOnce().catch(() => 0);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  });
  afterAll(async () => {
    running = false;
    await secondLoop;
    await second?.stop();
    await h?.stop();
  });

  const statuses = async (ids: string[]) =>
    (await h.server.db.query<{ status: CustomerStatus }>('SELECT status FROM customers WHERE customer_id = ANY($1::text[]) ORDER BY customer_id', [ids])).rows.map((r) => r.status);

  it('every write of the contact is the roll-up of one snapshot of both customers', async () => {
    const [a, b] = ['cus_race_a', 'cus_race_b'];
    const email = 'race@example.com';
    const customer = (id: string, created: number) => stripeObject('customer', { id, email, name: null, created });
    await h.send(stripeEvent('customer.created', customer(a, T0), { created: T0 }));
    await h.send(stripeEvent('customer.created', customer(b, T0 + 100), { created: T0 + 100 }));
    await h.idle();
    const contactId = h.contactOf(a)!.id;

    for (let round = 1; round <= 4; round++) {
      const [prevA, prevB] = await statuses([a, b]);
      const before = mapped(h.hubspot.portal(h.portalId).contacts.get(contactId)!.properties);
      const from = h.hubspot.requests.length;
      const at = T0 + 1000 * round;
      // A pays and its write is slow to land; meanwhile B pays. The write for B must not go out while A's is still
      // to land (A's, made before B paid, would land last and undo B's).
      h.hubspot.inject.delayNext(1, 1500);
      await h.send(stripeEvent('charge.succeeded', succeededCharge(`ch_race_a${round}`, a, 100 * round, at), { created: at }));
      await waitFor(async () => h.hubspot.requests.length > from, { what: 'the first write to arrive', intervalMs: 10 });
      await h.send(stripeEvent('charge.succeeded', succeededCharge(`ch_race_b${round}`, b, 1000 * round, at), { created: at }));
      await h.idle();
      const [nextA, nextB] = await statuses([a, b]);
      const allowed = [prevA!, nextA!].flatMap((sa) => [prevB!, nextB!].map((sb) => JSON.stringify(mapped(contactProperties([sa, sb], null, settings)))));

      // Replay what reached the contact, write by write.
      const state = { ...before };
      const writes = h.hubspot.requests
        .slice(from)
        .filter((r) => r.path === '/crm/v3/objects/contacts/batch/update' && r.status === 200)
        .flatMap((r) => (r.body as { inputs: { id: string; properties: Record<string, string> }[] }).inputs)
        .filter((i) => i.id === contactId);
      for (const w of writes) {
        Object.assign(state, mapped({ ...state, ...w.properties }));
        expect(allowed).toContain(JSON.stringify(state));
      }
      expect(mapped(h.hubspot.portal(h.portalId).contacts.get(contactId)!.properties)).toEqual(mapped(contactProperties([nextA!, nextB!], null, settings)));
    }
    const final = h.hubspot.portal(h.portalId).contacts.get(contactId)!.properties;
    expect(final).toMatchObject({ stripe_customer_id: a, stripe_customer_ids: `${a};${b}`, stripe_lifetime_value: '110.00' });
    expect(secondHandled).toBeGreaterThan(0);
  }, 120_000);
});
