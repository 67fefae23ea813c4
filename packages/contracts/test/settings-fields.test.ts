import { defaultSettings, validateSettings } from '../src/settings';

describe('settings documents and fields added later', () => {
  it('a document saved before a field existed keeps the merchant’s choices and takes the new field’s default', () => {
    const saved = defaultSettings() as unknown as { fields: Record<string, unknown> };
    saved.fields.mrr = { enabled: false, property: 'monthly_revenue' };
    delete saved.fields.customerIds;
    const r = validateSettings(saved);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.settings.fields.mrr).toEqual({ enabled: false, property: 'monthly_revenue' });
    expect(r.settings.fields.customerIds).toEqual({ enabled: true, property: 'stripe_customer_ids' });
  });

  it('still refuses a field that is present but invalid, and fields it does not know', () => {
    const bad = defaultSettings() as unknown as { fields: Record<string, unknown> };
    bad.fields.customerIds = { enabled: true, property: 'Bad Name' };
    expect(validateSettings(bad)).toMatchObject({ ok: false, errors: [{ path: 'fields.customerIds.property' }] });
    const unknown = defaultSettings() as unknown as { fields: Record<string, unknown> };
    unknown.fields.notAField = { enabled: true, property: 'x' };
    expect(validateSettings(unknown).ok).toBe(false);
  });
});
