import { Client } from '@hubspot/api-client';
import { defaultSettings, type SyncSettings } from '@stripe-hubspot-sync/contracts';
import { dbKinds } from '../helpers/db';
import { startSyncHarness, TEST_PRIVATE_APP_TOKEN, type SyncHarness } from '../helpers/sync-harness';
import { stripeEvent, stripeObject } from '../helpers/stripe-fixtures';
import { seededRandom } from '../helpers/seeded-random';
import { loseAnswers } from '../fakes/hubspot/lost-answers';
import type { FakeObject } from '../fakes/hubspot/server';

/**
 * Tickets on failed payments (issue 13, part 4), end to end: signed webhooks in, the fake HubSpot out. One ticket
 * per failed invoice, opened on the failure and closed on recovery, never two even when HubSpot's answer is lost
 * in between; duplicates and shuffled delivery change nothing; a pass with nothing new makes no ticket call. And
 * the failed-payment task, made exactly once per failure the same way.
 *
 * Retries of the pusher are slow here (10 s) on purpose: after a lost answer the customer waits, and the next
 * event of the customer is what brings the next pass — so each test knows which pass sees what.
 */

const T0 = 1_760_000_000;
const day = 86_400;

function customer(id: string, email: string, name: string | null = null) {
  return stripeObject('customer', { id, email, name, created: T0, currency: 'usd', delinquent: false });
}

function invoice(id: string, cus: string, status: string, extra: Record<string, unknown> = {}) {
  return stripeObject('invoice', {
    id,
    customer: cus,
    number: `N-${id}`,
    currency: 'usd',
    status,
    amount_due: 4900,
    amount_paid: status === 'paid' ? 4900 : 0,
    amount_remaining: status === 'paid' ? 0 : 4900,
    attempt_count: 1,
    created: T0 + day,
    charge: null,
    payment_intent: null,
    paid_out_of_band: false,
    parent: null,
    subscription: null,
    lines: { object: 'list', data: [], has_more: false },
    status_transitions: { paid_at: status === 'paid' ? T0 + 3 * day : null, finalized_at: T0 + day, marked_uncollectible_at: null, voided_at: null },
    ...extra,
  });
}

const failed = (id: string, cus: string, at: number, attempts = 1) =>
  stripeEvent('invoice.payment_failed', invoice(id, cus, 'open', { attempt_count: attempts }), { created: at });
const paid = (id: string, cus: string, at: number, attempts = 2) =>
  stripeEvent('invoice.paid', invoice(id, cus, 'paid', { attempt_count: attempts }), { created: at });
const voided = (id: string, cus: string, at: number) => stripeEvent('invoice.voided', invoice(id, cus, 'void'), { created: at });
const oneOffPayment = (id: string, cus: string, at: number) =>
  stripeEvent(
    'charge.succeeded',
    stripeObject('charge', { id, customer: cus, amount: 1000, amount_captured: 1000, amount_refunded: 0, currency: 'usd', status: 'succeeded', paid: true, captured: true, created: at, invoice: null, payment_intent: null }),
    { created: at },
  );

describe.each(dbKinds())('tickets on failed payments on %s', (kind) => {
  let h: SyncHarness;

  beforeAll(async () => {
    h = await startSyncHarness({
      kind,
      engine: {
        pusher: { settleMs: 20, pollMs: 50, minPassIntervalMs: 50, retry: { baseMs: 10_000, maxMs: 10_000 } },
        hubspotRetry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const fake = () => h.hubspot.portal(h.portalId);
  const ticketsOf = (invoiceId: string): FakeObject[] => fake().tickets().filter((t) => t.properties.stripe_invoice_id === invoiceId);
  const ticketRequests = () =>
    h.hubspot.requests.filter((r) => /^\/crm\/(v3\/objects\/tickets|v4\/associations\/tickets|v3\/pipelines\/tickets|v3\/properties\/tickets)/.test(r.path)).length;
  const associated = (from: 'tickets', to: 'contacts' | 'companies' | 'deals', id: string) =>
    fake().associations(from, to).filter((a) => a.fromId === id).map((a) => a.toId);

  async function settings(patch: (s: SyncSettings) => void): Promise<void> {
    const s = defaultSettings();
    patch(s);
    await h.server.db.query(
      `INSERT INTO sync_settings (account_key, livemode, settings) VALUES ('', false, $1)
       ON CONFLICT (account_key, livemode) DO UPDATE SET settings = EXCLUDED.settings`,
      [JSON.stringify(s)],
    );
  }

  async function waitFor<T>(fn: () => Promise<T | null | undefined>, what: string, ms = 15_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for the customer to be written except for a record that will be tried again (a lost answer). */
  const waitingAfterLostAnswer = (customerId: string) =>
    waitFor(async () => {
      const { rows } = await h.server.db.query<{ attempts: number }>(
        `SELECT attempts FROM customers WHERE customer_id = $1 AND attempts > 0 AND version > synced_version AND claim_token IS NULL`,
        [customerId],
      );
      return rows[0];
    }, `${customerId} to wait for a retry`);

  it('are off by default: a failed invoice makes no ticket call', async () => {
    await h.send(stripeEvent('customer.created', customer('cus_off', 'off@example.com'), { created: T0 }), failed('in_off', 'cus_off', T0 + day));
    await h.idle();
    expect(h.contactOf('cus_off')).toBeDefined();
    expect(ticketRequests()).toBe(0);
    expect(fake().tickets()).toEqual([]);
  });

  it('a ticket opened on failure and closed on recovery, with a lost answer in between: one ticket, closed', async () => {
    await settings((s) => {
      s.crm.tickets.enabled = true;
    });
    await h.send(stripeEvent('customer.created', customer('cus_lost', 'lost@example.com', 'Lost Answer'), { created: T0 }));
    await h.idle();
    // HubSpot makes the ticket, but neither answer (the call and its retry) reaches us.
    loseAnswers(h.hubspot, 2, { method: 'POST', pathPrefix: '/crm/v3/objects/tickets/batch/upsert', as: 'reset' });
    await h.send(failed('in_lost', 'cus_lost', T0 + day));
    await waitingAfterLostAnswer('cus_lost');
    expect(ticketsOf('in_lost')).toHaveLength(1);
    const { rows: before } = await h.server.db.query<{ ticket_id: string | null; attempted: boolean }>(
      `SELECT ticket_id, attempted_at IS NOT NULL AS attempted FROM crm_tickets WHERE invoice_id = 'in_lost'`,
    );
    expect(before).toEqual([{ ticket_id: null, attempted: true }]);

    // The customer pays before the next pass: the ticket is found by its invoice id and closed, never made twice.
    await h.send(paid('in_lost', 'cus_lost', T0 + 3 * day));
    await h.idle();
    const [ticket] = ticketsOf('in_lost');
    expect(ticketsOf('in_lost')).toHaveLength(1);
    expect(ticket!.properties).toMatchObject({
      subject: 'Payment failed: invoice N-in_lost ($49.00)',
      hs_pipeline: '0',
      hs_pipeline_stage: '4', // the default support pipeline's Closed stage
      hs_ticket_priority: 'HIGH',
    });
    expect(ticket!.properties.content).toContain('from Lost Answer: $49.00 due.');
    expect(ticket!.properties.content).toContain('https://dashboard.stripe.com/test/invoices/in_lost');
    expect(associated('tickets', 'contacts', ticket!.id)).toEqual([h.contactOf('cus_lost')!.id]);
    const { rows } = await h.server.db.query(`SELECT ticket_id, state FROM crm_tickets WHERE invoice_id = 'in_lost'`);
    expect(rows).toEqual([{ ticket_id: ticket!.id, state: 'closed' }]);
    // Sent twice (both answers lost), then found by its invoice id and closed by an update.
    const naming = (path: string) => h.hubspot.requests.filter((r) => r.path === path && JSON.stringify(r.body).includes('"in_lost"')).length;
    expect(naming('/crm/v3/objects/tickets/batch/upsert')).toBe(2);
    expect(naming('/crm/v3/objects/tickets/batch/read')).toBe(1);
  });

  it('a lost answer on the open ticket, then another failure: the next pass lands on the same ticket', async () => {
    await h.send(stripeEvent('customer.created', customer('cus_again', 'again@example.com'), { created: T0 }));
    await h.idle();
    loseAnswers(h.hubspot, 2, { method: 'POST', pathPrefix: '/crm/v3/objects/tickets/batch/upsert', as: 502 });
    await h.send(failed('in_again', 'cus_again', T0 + day));
    await waitingAfterLostAnswer('cus_again');
    await h.send(failed('in_again', 'cus_again', T0 + 2 * day, 2));
    await h.idle();
    expect(ticketsOf('in_again')).toHaveLength(1);
    expect(ticketsOf('in_again')[0]!.properties).toMatchObject({ hs_pipeline_stage: '1' });
    expect(ticketsOf('in_again')[0]!.properties.content).toContain('2 failed attempts so far.');
    expect(associated('tickets', 'contacts', ticketsOf('in_again')[0]!.id)).toEqual([h.contactOf('cus_again')!.id]);
  });

  it('duplicates and shuffled delivery: one ticket per failed invoice, in the state of its latest facts', async () => {
    const events = [
      stripeEvent('customer.created', customer('cus_mix', 'mix@example.com', 'Mix'), { created: T0 }),
      failed('in_mix_a', 'cus_mix', T0 + day),
      failed('in_mix_a', 'cus_mix', T0 + 2 * day, 2),
      paid('in_mix_a', 'cus_mix', T0 + 3 * day, 3),
      failed('in_mix_b', 'cus_mix', T0 + 4 * day),
      failed('in_mix_c', 'cus_mix', T0 + 5 * day),
      voided('in_mix_c', 'cus_mix', T0 + 6 * day),
    ];
    // The first delivery opens tickets for a and b; then everything again, duplicated and shuffled.
    await h.send(events[0]!, events[1]!, events[4]!);
    await h.idle();
    expect(ticketsOf('in_mix_a')).toHaveLength(1);
    const random = seededRandom(13);
    const again = [...events, ...events].sort(() => random() - 0.5);
    await h.send(...again);
    await h.idle();
    expect(ticketsOf('in_mix_a').map((t) => t.properties.hs_pipeline_stage)).toEqual(['4']);
    expect(ticketsOf('in_mix_b').map((t) => t.properties.hs_pipeline_stage)).toEqual(['1']);
    // in_mix_c may or may not have been seen open by a pass: a ticket, if any, is closed.
    expect(ticketsOf('in_mix_c').map((t) => t.properties.hs_pipeline_stage).filter((s) => s !== '4')).toEqual([]);
    expect(ticketsOf('in_mix_a')[0]!.properties.content).toContain('2 failed attempts so far.');

    // The customer's contact changes (a one-off payment), its tickets do not: no ticket call at all.
    const before = ticketRequests();
    await h.send(oneOffPayment('ch_mix', 'cus_mix', T0 + 7 * day));
    await h.idle();
    expect(h.contactOf('cus_mix')!.properties.stripe_lifetime_value).toBeDefined();
    expect(ticketRequests()).toBe(before);

    // The company the companies writer associated the contact with (example.com is a company domain) is on its
    // tickets too.
    const contactId = h.contactOf('cus_mix')!.id;
    const companies = fake().associations('contacts', 'companies').filter((a) => a.fromId === contactId).map((a) => a.toId);
    expect(companies).toHaveLength(1);
    for (const t of [...ticketsOf('in_mix_a'), ...ticketsOf('in_mix_b')]) {
      expect(associated('tickets', 'contacts', t.id)).toEqual([contactId]);
      expect(associated('tickets', 'companies', t.id).sort()).toEqual([...companies].sort());
    }
  });

  it('in the pipeline and at the priority the merchant picks; a pipeline HubSpot lacks is a dead letter, the contact written', async () => {
    const client = new Client({ accessToken: TEST_PRIVATE_APP_TOKEN, basePath: h.hubspot.url, numberOfApiCallRetries: 0 });
    const pipeline = await client.crm.pipelines.pipelinesApi.create('tickets', {
      label: 'Billing',
      displayOrder: 5,
      stages: [
        { label: 'Dunning', displayOrder: 0, metadata: { ticketState: 'OPEN' } },
        { label: 'Recovered', displayOrder: 1, metadata: { ticketState: 'CLOSED' } },
      ],
    });
    const [dunning, recovered] = [...pipeline.stages].sort((a, b) => a.displayOrder - b.displayOrder).map((s) => s.id);
    await settings((s) => {
      s.crm.tickets = { enabled: true, pipelineId: pipeline.id, priority: 'LOW' };
    });
    await h.send(stripeEvent('customer.created', customer('cus_pipe', 'pipe@example.com'), { created: T0 }), failed('in_pipe', 'cus_pipe', T0 + day));
    await h.idle();
    expect(ticketsOf('in_pipe').map((t) => [t.properties.hs_pipeline, t.properties.hs_pipeline_stage, t.properties.hs_ticket_priority])).toEqual([
      [pipeline.id, dunning, 'LOW'],
    ]);
    // A pipeline chosen later applies to new tickets; this one is closed where it was opened.
    await settings((s) => {
      s.crm.tickets = { enabled: true, pipelineId: '987654321', priority: 'MEDIUM' };
    });
    await h.send(paid('in_pipe', 'cus_pipe', T0 + 3 * day));
    await h.idle();
    expect(ticketsOf('in_pipe').map((t) => [t.properties.hs_pipeline, t.properties.hs_pipeline_stage, t.properties.hs_ticket_priority])).toEqual([
      [pipeline.id, recovered, 'LOW'],
    ]);

    await h.send(stripeEvent('customer.created', customer('cus_nopipe', 'nopipe@example.com'), { created: T0 }), failed('in_nopipe', 'cus_nopipe', T0 + day));
    await h.idle();
    expect(ticketsOf('in_nopipe')).toEqual([]);
    expect(h.contactOf('cus_nopipe')).toBeDefined();
    const { rows } = await h.server.db.query<{ message: string }>(`SELECT message FROM dead_letters WHERE customer_id = 'cus_nopipe'`);
    // One per pass that had the ticket to write (the two events may be applied in one pass or two).
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(new Set(rows.map((r) => r.message))).toEqual(
      new Set([`tickets: invoice in_nopipe: HubSpot portal ${h.portalId} has no ticket pipeline with ID 987654321 (the tickets settings name it)`]),
    );
  });

  it('on the deal of the subscription the invoice bills, when the deals writer made one', async () => {
    await settings((s) => {
      s.crm.tickets.enabled = true;
      s.crm.deals.enabled = false; // the deal is seeded here as the deals writer records it
    });
    await h.send(stripeEvent('customer.created', customer('cus_deal', 'deal@example.com'), { created: T0 }));
    await h.idle();
    const deal = fake().addObject('deals', { dealname: 'Pro', dealstage: 'appointmentscheduled' });
    await h.server.db.query(
      `INSERT INTO hubspot_deals (account_key, livemode, portal_id, deal_key, customer_id, kind, deal_id)
       VALUES ('', false, $1, 'sub_deal', 'cus_deal', 'subscription', $2)`,
      [h.portalId, deal.id],
    );
    const billing = { parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_deal', metadata: {} } } };
    await h.send(stripeEvent('invoice.payment_failed', invoice('in_deal', 'cus_deal', 'open', billing), { created: T0 + day }));
    await h.idle();
    const [ticket] = ticketsOf('in_deal');
    expect(associated('tickets', 'deals', ticket!.id)).toEqual([deal.id]);
    expect(associated('tickets', 'contacts', ticket!.id)).toEqual([h.contactOf('cus_deal')!.id]);
    const { rows } = await h.server.db.query(`SELECT contact_id, deal_id FROM crm_tickets WHERE invoice_id = 'in_deal'`);
    expect(rows).toEqual([{ contact_id: h.contactOf('cus_deal')!.id, deal_id: deal.id }]);
  });

  it('the failed-payment task: one per failure, even when HubSpot’s answer is lost', async () => {
    await settings((s) => {
      s.options.createTaskOnFailure = true;
    });
    await h.send(stripeEvent('customer.created', customer('cus_task', 'task@example.com', 'Task Person'), { created: T0 }));
    await h.idle();
    const contactId = h.contactOf('cus_task')!.id;
    const tasksOfContact = () =>
      fake().associations('contacts', 'tasks').filter((a) => a.fromId === contactId).map((a) => fake().tasks.find((t) => t.id === a.toId)!);
    const taskPosts = () => h.hubspot.requests.filter((r) => r.method === 'POST' && r.path === '/crm/v3/objects/tasks').length;

    loseAnswers(h.hubspot, 1, { method: 'POST', pathPrefix: '/crm/v3/objects/tasks', as: 'reset' });
    const posts = taskPosts();
    await h.send(failed('in_task1', 'cus_task', T0 + day));
    await waitingAfterLostAnswer('cus_task');
    expect(taskPosts() - posts).toBe(1); // not retried blindly
    expect(tasksOfContact()).toHaveLength(1);

    // The next pass (brought by another event) finds the task on the contact instead of making a second one.
    await h.send(oneOffPayment('ch_task', 'cus_task', T0 + 2 * day));
    await h.idle();
    expect(taskPosts() - posts).toBe(1);
    const [task] = tasksOfContact();
    expect(tasksOfContact()).toHaveLength(1);
    expect(task!.properties.hs_task_subject).toBe('Stripe payment failed for Task Person');
    const { rows } = await h.server.db.query(`SELECT failure_key, task_id FROM failed_payment_tasks WHERE customer_id = 'cus_task'`);
    expect(rows).toEqual([{ failure_key: 'failed-payment:1', task_id: task!.id }]);

    // A second failure is a second task; the same facts delivered again are none.
    await h.send(failed('in_task2', 'cus_task', T0 + 3 * day));
    await h.idle();
    await h.send(failed('in_task2', 'cus_task', T0 + 3 * day), failed('in_task1', 'cus_task', T0 + day));
    await h.idle();
    expect(tasksOfContact()).toHaveLength(2);
    expect(taskPosts() - posts).toBe(2);
  });
});
