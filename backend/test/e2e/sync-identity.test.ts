import { dbKinds } from '../helpers/db';
import { startSyncHarness, type SyncHarness } from '../helpers/sync-harness';
import { randomId, stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { postWebhook } from '../helpers/server';
import { appRequest, TEST_APP_SECRET } from '../helpers/app-api';

const OWN_ACCOUNT = 'acct_selfhosted1';
/** Event times: each call is one second later than the last. */
let clock = 1_760_000_000;
const at = () => ({ created: ++clock });

describe.each(dbKinds())('identity, duplicates and failures on %s', (kind) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await startSyncHarness({ kind, env: { STRIPE_APP_SECRET: TEST_APP_SECRET, STRIPE_ACCOUNT_ID: OWN_ACCOUNT } });
  });
  afterAll(async () => {
    await h?.stop();
  });
  const customer = (id: string, email: string | null, created = 1_760_000_000) =>
    stripeObject('customer', { id, email, name: null, created });

  it('five concurrent deliveries of one event make one contact and one stored event', async () => {
    const event = stripeEvent('customer.created', customer('cus_dup1', 'dup1@example.com'), at());
    const answers = await Promise.all(Array.from({ length: 5 }, () => postWebhook(h.server.url, event)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    await h.idle();
    expect(h.contacts().filter((c) => c.properties.email === 'dup1@example.com')).toHaveLength(1);
    const { rows } = await h.server.db.query('SELECT id FROM stripe_events WHERE id = $1', [event.id]);
    expect(rows).toHaveLength(1);
  });

  it('matches an existing contact by email, case-insensitively, instead of creating another', async () => {
    const existing = h.hubspot.portal(h.portalId).addContact({ email: 'known@example.com', firstname: 'Known' });
    await h.send(stripeEvent('customer.created', customer('cus_known', 'KNOWN@Example.com'), at()));
    await h.idle();
    expect(h.contactOf('cus_known')?.id).toBe(existing.id);
    expect(h.contacts().filter((c) => c.properties.email === 'known@example.com')).toHaveLength(1);
  });

  it('matches by the unique customer-id property when the email differs, and never duplicates', async () => {
    const existing = h.hubspot.portal(h.portalId).addContact({ email: 'old-address@example.com', stripe_customer_id: 'cus_byid' });
    await h.send(stripeEvent('customer.created', customer('cus_byid', 'new-address@example.com'), at()));
    await h.idle();
    expect(h.contactOf('cus_byid')?.id).toBe(existing.id);
    expect(h.contactOf('cus_byid')?.properties.email).toBe('new-address@example.com');
    expect(h.contacts().some((c) => c.properties.email === 'old-address@example.com')).toBe(false);
  });

  it('records a customer without an email as skipped, with the reason, and writes nothing', async () => {
    const before = h.contacts().length;
    const event = stripeEvent('customer.created', customer('cus_noemail', null), at());
    await h.send(event);
    await h.idle();
    expect(h.contacts()).toHaveLength(before);
    expect(await h.eventStatus(event.id as string)).toEqual({ status: 'skipped', status_reason: 'The Stripe customer has no email and no linked HubSpot contact' });
    // When the email arrives later, the contact is created.
    await h.send(stripeEvent('customer.updated', customer('cus_noemail', 'late@example.com'), at()));
    await h.idle();
    expect(h.contactOf('cus_noemail')?.properties.email).toBe('late@example.com');
  });

  it('a contact deleted in HubSpot (207 on the batch update) is matched again; the rest of the batch is written', async () => {
    const ids = Array.from({ length: 3 }, () => randomId('cus'));
    await h.send(...ids.map((id, i) => stripeEvent('customer.created', customer(id, `batch${i}-${id}@example.com`), at())));
    await h.idle();
    const portal = h.hubspot.portal(h.portalId);
    const gone = h.contactOf(ids[1])!;
    portal.contacts.delete(gone.id);
    await h.send(...ids.map((id, i) => stripeEvent('customer.updated', { ...customer(id, `batch${i}-${id}@example.com`), delinquent: true }, at())));
    await h.idle();
    for (const id of ids) expect(h.contactOf(id)?.properties.stripe_delinquent).toBe('true');
    expect(h.contactOf(ids[1])!.id).not.toBe(gone.id);
  });

  it('a permanent HubSpot refusal becomes a dead letter with HubSpot’s message, and replay writes it once fixed', async () => {
    const portal = h.hubspot.portal(h.portalId);
    await h.send(stripeEvent('customer.created', customer('cus_dl', 'dl-one@example.com'), at()));
    await h.idle();
    const blocker = portal.addContact({ email: 'taken@example.com' });
    const change = stripeEvent('customer.updated', customer('cus_dl', 'taken@example.com'), at());
    await h.send(change);
    await h.idle();
    const status = await h.eventStatus(change.id as string);
    expect(status?.status).toBe('failed');
    expect(status?.status_reason).toMatch(/already exists/i);

    const caller = { accountId: OWN_ACCOUNT };
    const activity = await appRequest(h.server.url, 'GET', '/activity?mode=test', caller);
    expect(activity.status).toBe(200);
    const letter = activity.body.deadLetters.find((d: { customerId: string }) => d.customerId === 'cus_dl');
    expect(letter.message).toMatch(/already exists/i);
    expect(activity.body.counts24h.failed).toBeGreaterThanOrEqual(1);

    // The merchant merges the duplicate in HubSpot, then replays.
    portal.contacts.delete(blocker.id);
    const replay = await appRequest(h.server.url, 'POST', '/dead-letters/replay', caller, { mode: 'test', ids: [letter.id] });
    expect(replay.body).toEqual({ replayed: 1 });
    await h.idle();
    expect(h.contactOf('cus_dl')?.properties.email).toBe('taken@example.com');
    expect((await h.eventStatus(change.id as string))?.status).toBe('synced');
    const after = await appRequest(h.server.url, 'GET', '/activity?mode=test', caller);
    expect(after.body.deadLetters.some((d: { id: string }) => d.id === letter.id)).toBe(false);
  });
});
