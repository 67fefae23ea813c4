import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runDemo, type DemoResult } from '../../scripts/demo';

/** `npm run demo` end to end: the story's signed events through the real backend into the fake HubSpot. */

const demoDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('stripe-hubspot-demo-'));

describe('npm run demo', () => {
  const lines: string[] = [];
  let result: DemoResult;
  let leftBefore: string[];

  beforeAll(async () => {
    leftBefore = demoDirs();
    result = await runDemo({ print: (l) => lines.push(...l.split('\n')) });
  }, 180_000);

  const out = () => lines.join('\n');
  const row = (email: string) => result.contacts.find((c) => c.email === email);

  it('passes every check it prints', () => {
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.checks.length).toBeGreaterThanOrEqual(7);
    expect(out()).not.toContain('✗');
  });

  it('prints one contact per test-mode customer with an email, with the values the story implies', () => {
    expect(result.contacts.map((c) => c.customerId).sort()).toEqual(['cus_demo_ada', 'cus_demo_alan', 'cus_demo_grace', 'cus_demo_hedy', 'cus_demo_mary']);
    expect(row('ada.lovelace@gmail.com')).toMatchObject({ status: 'active', plan: 'Pro', mrr: '49.00 USD', failed: '1', ltv: '98.00 USD', lifecycle: 'customer' });
    expect(row('ada.lovelace@gmail.com')?.lastPayment).toMatch(/^49\.00 succeeded \d{4}-\d{2}-\d{2}$/);
    expect(row('grace.hopper@gmail.com')).toMatchObject({ plan: 'Team (yearly)', mrr: '100.00 USD', ltv: '1200.00 USD' });
    expect(row('alan.turing@outlook.com')).toMatchObject({ status: 'none', refunded: '100.00 USD', ltv: '150.00 USD' });
    // The table itself names them.
    expect(row('hedy@acme-robotics.example')).toMatchObject({ status: 'active', plan: 'Business', mrr: '199.00 USD', ltv: '49.00 USD' });
    expect(row('mary@acme-robotics.example')).toMatchObject({ status: 'none', lifecycle: '—' });
    expect(out()).toMatch(/ada\.lovelace@gmail\.com\s+active\s+Pro\s+49\.00 USD/);
    expect(out()).not.toContain('grace@outlook.com  ');
  });

  it('the duplicate did not create a second contact and the late event did not win', () => {
    expect(result.duplicates).toBe(1);
    expect(out()).toContain('[acknowledged: already stored, ignored]');
    expect(result.contacts.filter((c) => c.customerId === 'cus_demo_grace')).toHaveLength(1);
    expect(out()).toMatch(/the late past_due event did not win: Ada is active/);
  });

  it('reports event outcomes: synced, skipped with reasons, ignored', () => {
    const n = (status: string, reason?: RegExp) =>
      result.outcomes.filter((o) => o.status === status && (!reason || reason.test(o.reason ?? ''))).reduce((s, o) => s + o.count, 0);
    expect(n('skipped', /^Superseded/)).toBe(1);
    expect(n('skipped', /live mode/)).toBe(1);
    expect(n('skipped', /no email/)).toBe(1);
    expect(n('ignored')).toBe(1);
    expect(n('received') + n('applied') + n('failed')).toBe(0);
    // 32 deliveries, one of them a duplicate → 31 stored events.
    expect(result.outcomes.reduce((s, o) => s + o.count, 0)).toBe(31);
    expect(out()).toMatch(/skipped\s+3/);
    expect(out()).toMatch(/HubSpot API calls: \d+ — \d+ batch writes/);
  });

  it('prints companies, deals, movements and tickets: a company by domain, free mail skipped, a deal moving stage, the plan change, a ticket closed on recovery', () => {
    const { companies, deals, movements, tickets } = result.crm;
    expect(companies.map((c) => [c.name, c.domain, c.mrr, c.status, c.contacts])).toEqual([
      ['Acme Robotics', 'acme-robotics.example', '199.00 USD', 'active', ['hedy@acme-robotics.example', 'mary@acme-robotics.example']],
    ]);
    expect(deals.map((d) => [d.subscriptionId, d.name, d.stage, d.amount, d.company]).sort()).toEqual([
      ['sub_demo_ada', 'Pro – Ada Lovelace', 'Active', '49.00 USD', '—'],
      ['sub_demo_grace', 'Team (yearly) – Grace Hopper', 'Active', '100.00 USD', '—'],
      ['sub_demo_hedy', 'Business – Hedy Lamarr', 'Active', '199.00 USD', 'Acme Robotics'],
    ]);
    const of = (email: string) => movements.filter((m) => m.contact === email).map((m) => m.title);
    expect(of('hedy@acme-robotics.example')).toEqual(['Trial started', 'Trial converted', 'Upgrade']);
    expect(movements.find((m) => m.title === 'Upgrade')?.summary).toBe('Upgrade: MRR +$150.00 ($49.00 → $199.00), Pro → Business');
    expect(of('ada.lovelace@gmail.com')).toEqual(['New subscription', 'Payment failed', 'Payment recovered']);
    expect(of('alan.turing@outlook.com')).toEqual(['Refund']);
    expect(tickets).toEqual([
      { subject: 'Payment failed: invoice in_demo_ada_2 ($49.00)', stage: 'Closed', priority: 'HIGH', invoiceId: 'in_demo_ada_2', contact: 'ada.lovelace@gmail.com' },
    ]);
    // The chapters show the deal moving: Trialing first, then Active.
    expect(out()).toMatch(/company Acme Robotics · deal "Pro – Hedy Lamarr" Trialing 49\.00 USD[\s\S]*deal "Pro – Hedy Lamarr" Active[\s\S]*deal "Business – Hedy Lamarr" Active 199\.00 USD/);
    // …and the ticket open while Ada's renewal is unpaid.
    expect(out()).toMatch(/ticket "Payment failed: invoice in_demo_ada_2 \(\$49\.00\)" New[\s\S]*ticket "Payment failed: invoice in_demo_ada_2 \(\$49\.00\)" Closed/);
    for (const title of ['HubSpot companies in portal', 'HubSpot deals', 'Revenue movements', 'HubSpot tickets on failed payments']) expect(out()).toContain(title);
    expect(out()).toMatch(/by object: contacts \d+, companies \d+, deals \d+, tickets \d+, associations \d+, timeline \d+/);
  });

  it('connects Klaviyo, Loops, Intercom (keys) and Salesforce (OAuth) in test mode through the signed app API before the story', () => {
    expect(out()).toMatch(
      /Connected Klaviyo \("Demo Klaviyo", key …\w{4}\), Loops \("Demo Loops", key …\w{4}\), Intercom \("Demo Intercom", key …\w{4}\) and Salesforce \("Salesforce 127\.0\.0\.1:\d+", OAuth\) in test mode through the Stripe App's signed API/,
    );
    expect(out().indexOf('Connected Klaviyo')).toBeLessThan(out().indexOf('1. Ada signs up'));
  });

  it('shows each touched customer in each destination after every chapter', () => {
    // Chapter 1: Ada's profile and contact with her plan, and the events of her first payment.
    const chapter = (n: number) => out().split(/\n(?=\d+\. )/).find((c) => c.startsWith(`${n}. `)) ?? '';
    for (const dest of ['Klaviyo now:\\s+', 'Loops now:\\s+', 'Intercom now:\\s+', 'Salesforce now:\\s+']) {
      const line = (n: number, rest: string) => expect(chapter(n)).toMatch(new RegExp(`${dest}${rest}`));
      line(1, 'ada\\.lovelace@gmail\\.com · active · Pro · MRR 49\\.00 USD · events: ');
      line(1, 'ada[^\\n]*Issued Invoice[^\\n]*Revenue Movement \\(new\\)');
      // The trial shows as trialing, then active after it converts, with the movements by kind.
      line(7, 'hedy@acme-robotics\\.example · trialing · Pro · MRR 0\\.00 USD · events: Revenue Movement \\(trial_started\\)');
      line(9, 'hedy@acme-robotics\\.example · active · Business · MRR 199\\.00 USD[^\\n]*Revenue Movement \\(upgrade\\)');
      // Ada's renewal failing, then recovered; the late past_due event does not roll her back there either.
      line(4, 'ada[^\\n]*Failed Payment');
      line(5, 'ada[^\\n]*Revenue Movement \\(payment_recovered\\)');
      line(10, 'ada\\.lovelace@gmail\\.com · active · Pro');
      // Grace's email change moves the same profile.
      line(2, 'grace@outlook\\.com · active · Team \\(yearly\\)');
      line(6, 'grace\\.hopper@gmail\\.com · active · Team \\(yearly\\)');
    }
    expect(chapter(11)).toMatch(/Klaviyo now:\s+\(no profile for cus_demo_katherine: not a customer of the test-mode connection\)/);
    expect(chapter(11)).toMatch(/Loops now:\s+\(no contact for cus_demo_katherine: not a customer of the test-mode connection\)/);
    expect(chapter(11)).toMatch(/Intercom now:\s+\(no contact for cus_demo_katherine: not a customer of the test-mode connection\)/);
    expect(chapter(11)).toMatch(/Salesforce now:\s+\(no contact for cus_demo_katherine: not a customer of the test-mode connection\)/);
  });

  it('ends with a table per destination that agrees with HubSpot, and the calls each received', () => {
    const withEmail = ['cus_demo_ada', 'cus_demo_alan', 'cus_demo_grace', 'cus_demo_hedy', 'cus_demo_mary'];
    for (const kind of ['klaviyo', 'loops', 'intercom', 'salesforce'] as const) {
      const d = result.destinations[kind];
      const of = (id: string) => d.profiles.filter((p) => p.customerId === id);
      for (const id of withEmail) {
        expect(of(id)).toHaveLength(1);
        const hubspot = result.contacts.find((c) => c.customerId === id)!;
        expect([of(id)[0].email, of(id)[0].status]).toEqual([hubspot.email, hubspot.status]);
      }
      expect(of('cus_demo_ada')[0]).toMatchObject({ email: 'ada.lovelace@gmail.com', status: 'active', plan: 'Pro', mrr: '49.00 USD' });
      expect(of('cus_demo_hedy')[0]).toMatchObject({ status: 'active', plan: 'Business', mrr: '199.00 USD' });
      expect(of('cus_demo_alan')[0].events).toEqual(['Successfully Paid', 'Refunded']);
      expect(of('cus_demo_ada')[0].events.filter((e) => e === 'Failed Payment')).toHaveLength(1);
      expect(of('cus_demo_hedy')[0].events.filter((e) => e.startsWith('Revenue Movement'))).toEqual([
        'Revenue Movement (trial_started)',
        'Revenue Movement (trial_converted)',
        'Revenue Movement (upgrade)',
      ]);
      // Grace: one profile, at her new address, whatever Stripe delivered twice.
      expect(of('cus_demo_grace')).toHaveLength(1);
      expect(of('cus_demo_grace')[0].email).toBe('grace.hopper@gmail.com');
      expect(d.profiles.some((p) => p.email === 'grace@outlook.com')).toBe(false);
      // Nothing of the live-mode customer.
      expect(d.profiles.some((p) => p.customerId === 'cus_demo_katherine' || p.email === 'katherine@example.com')).toBe(false);
      expect(d.storedEvents).toBe(d.events.reduce((s, e) => s + e.count, 0));
      expect(d.storedEvents).toBeGreaterThan(0);
      expect(d.calls).toBeGreaterThan(d.setupCalls);
      expect(d.callsPerEvent).toBeCloseTo(d.calls / d.storedEvents, 2);
    }
    // Each received the same events, by name.
    expect(result.destinations.loops.events).toEqual(result.destinations.klaviyo.events);
    expect(result.destinations.intercom.events).toEqual(result.destinations.klaviyo.events);
    expect(result.destinations.salesforce.events).toEqual(result.destinations.klaviyo.events);
    expect(out()).toMatch(/Klaviyo profiles \(test-mode connection\):\n\s+Customer\s+Email\s+Subscription\s+Plan\s+MRR\s+Events/);
    expect(out()).toMatch(/Loops contacts \(test-mode connection\):/);
    expect(out()).toMatch(/cus_demo_ada\s+ada\.lovelace@gmail\.com\s+active\s+Pro\s+49\.00 USD/);
    expect(out()).toMatch(/Klaviyo events by name: .*Revenue Movement 6.* \(\d+ in all\)/);
    expect(out()).toMatch(/Klaviyo API calls: \d+ for \d+ stored events \([\d.]+ per stored event\) — .*bulk_create_events \d+/);
    expect(out()).toMatch(/Loops API calls: \d+ for \d+ stored events \([\d.]+ per stored event\) — .*POST \/api\/v1\/events\/send \d+/);
    expect(out()).toMatch(/Intercom contacts \(test-mode connection\):/);
    expect(out()).toMatch(/Intercom API calls: \d+ for \d+ stored events \([\d.]+ per stored event\) — .*POST \/events \d+/);
    expect(out()).toMatch(/Salesforce contacts \(test-mode connection\):/);
    expect(out()).toMatch(/Salesforce API calls: \d+ for \d+ stored events \([\d.]+ per stored event\) — .*PATCH \/composite\/sobjects\/Contact\/Stripe_Customer_Id__c \d+/);
  });

  it('checks the destinations: one profile or contact in each with HubSpot’s status, no event twice, nothing of live mode', () => {
    const check = (re: RegExp) => result.checks.filter((c) => re.test(c.text));
    expect(check(/^one Klaviyo profile per test-mode customer with an email/)).toEqual([expect.objectContaining({ ok: true })]);
    expect(check(/^one Loops contact per test-mode customer with an email/)).toEqual([expect.objectContaining({ ok: true })]);
    expect(check(/^one Intercom contact per test-mode customer with an email/)).toEqual([expect.objectContaining({ ok: true })]);
    expect(check(/^one Salesforce contact per test-mode customer with an email/)).toEqual([expect.objectContaining({ ok: true })]);
    expect(check(/^no event landed twice/)).toEqual([expect.objectContaining({ ok: true })]);
    expect(
      check(
        /^the duplicate delivery made no second profile or event: Grace Hopper has 1 Klaviyo profile, 1 Loops contact, 1 Intercom contact and 1 Salesforce contact, "in_demo_grace_1:paid" landed 1× in Klaviyo, 1× in Loops, 1× in Intercom and 1× in Salesforce$/,
      ),
    ).toHaveLength(1);
    expect(check(/^the live-mode event reached none of Klaviyo, Loops, Intercom and Salesforce \(0 requests named cus_demo_katherine/)).toEqual([expect.objectContaining({ ok: true })]);
    expect(result.checks.length).toBeGreaterThanOrEqual(21);
  });

  it('leaves nothing behind', () => {
    expect(demoDirs()).toEqual(leftBefore);
  });
});
