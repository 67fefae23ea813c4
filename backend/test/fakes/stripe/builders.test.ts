import { addInterval, FakeAccount, type StripeJson } from '.';

describe('fake Stripe object builders', () => {
  it('gives each object its own nested data; only the large settings blocks are shared, and frozen', () => {
    const acc = new FakeAccount('acct_own', false);
    const a = acc.addCustomer();
    const b = acc.addCustomer();
    (a.metadata as StripeJson).hubspot = 'x';
    (a.invoice_settings as StripeJson).footer = 'mine';
    expect(b.metadata).toEqual({});
    expect((b.invoice_settings as StripeJson).footer).toBeNull();
    const s1 = acc.addSubscription(a.id as string);
    const s2 = acc.addSubscription(b.id as string);
    const item = (s: StripeJson) => (s.items as { data: StripeJson[] }).data[0] as StripeJson;
    item(s1).quantity = 3;
    expect(item(s2).quantity).toBe(1);
    expect((item(s1).price as StripeJson).id).toBe((item(s2).price as StripeJson).id);
    const charge = acc.addCharge(a.id as string, { payment_method_details: { card: { brand: 'mastercard' } } });
    const other = acc.addCharge(b.id as string);
    expect(() => {
      (other.payment_method_details as StripeJson).type = 'sepa_debit';
    }).toThrow(TypeError);
    expect(((charge.payment_method_details as StripeJson).card as StripeJson).brand).toBe('mastercard');
    expect(((other.payment_method_details as StripeJson).card as StripeJson).brand).toBe('visa');
  });

  it('gives objects added without `created` increasing timestamps, and rejects a duplicate id', () => {
    const acc = new FakeAccount('acct_clock', false);
    const c = acc.addCustomer();
    const s = acc.addSubscription(c.id as string);
    const i = acc.addInvoice(c.id as string);
    expect((s.created as number) > (c.created as number) && (i.created as number) > (s.created as number)).toBe(true);
    expect(() => acc.addCustomer({ id: c.id })).toThrow(/already exists/);
    expect(() => acc.addInvoice('cus_unknown')).toThrow(/no customer/);
  });

  it('moves periods by calendar months and years, clamped to the end of shorter months', () => {
    const jan31 = Date.UTC(2026, 0, 31, 10, 30) / 1000;
    const iso = (t: number) => new Date(t * 1000).toISOString();
    expect(iso(addInterval(jan31, 'month'))).toBe('2026-02-28T10:30:00.000Z');
    expect(iso(addInterval(jan31, 'month', 2))).toBe('2026-03-31T10:30:00.000Z');
    expect(iso(addInterval(jan31, 'month', 13))).toBe('2027-02-28T10:30:00.000Z');
    expect(iso(addInterval(Date.UTC(2028, 1, 29) / 1000, 'year'))).toBe('2029-02-28T00:00:00.000Z');
    expect(addInterval(jan31, 'week', 2) - jan31).toBe(14 * 86_400);
  });
});
