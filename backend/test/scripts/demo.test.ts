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

  it('leaves nothing behind', () => {
    expect(demoDirs()).toEqual(leftBefore);
  });
});
