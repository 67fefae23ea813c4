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

  it('prints one contact per paying customer with the values the story implies', () => {
    expect(result.contacts.map((c) => c.customerId).sort()).toEqual(['cus_demo_ada', 'cus_demo_alan', 'cus_demo_grace']);
    expect(row('ada@example.com')).toMatchObject({ status: 'active', plan: 'Pro', mrr: '49.00 USD', failed: '1', ltv: '98.00 USD', lifecycle: 'customer' });
    expect(row('ada@example.com')?.lastPayment).toMatch(/^49\.00 succeeded \d{4}-\d{2}-\d{2}$/);
    expect(row('grace.hopper@example.com')).toMatchObject({ plan: 'Team (yearly)', mrr: '100.00 USD', ltv: '1200.00 USD' });
    expect(row('alan@example.com')).toMatchObject({ status: 'none', refunded: '100.00 USD', ltv: '150.00 USD' });
    // The table itself names them.
    expect(out()).toMatch(/ada@example\.com\s+active\s+Pro\s+49\.00 USD/);
    expect(out()).not.toContain('grace@navy.example  ');
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
    // 25 deliveries, one of them a duplicate → 24 stored events.
    expect(result.outcomes.reduce((s, o) => s + o.count, 0)).toBe(24);
    expect(out()).toMatch(/skipped\s+3/);
    expect(out()).toMatch(/HubSpot API calls: \d+ — \d+ batch writes/);
  });

  it('leaves nothing behind', () => {
    expect(demoDirs()).toEqual(leftBefore);
  });
});
