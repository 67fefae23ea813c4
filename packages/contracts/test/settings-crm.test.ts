import { defaultCrmObjectSettings, defaultSettings, validateSettings } from '../src/settings';

describe('settings: companies, deals, timeline and tickets', () => {
  it('a document saved before the section existed takes its defaults (companies, deals, timeline on; tickets off)', () => {
    const saved = defaultSettings() as unknown as Record<string, unknown>;
    delete saved.crm;
    const r = validateSettings(saved);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.settings.crm).toEqual({
      companies: { enabled: true, create: true },
      deals: { enabled: true, amount: 'mrr', checkoutDeals: false },
      timeline: { enabled: true },
      tickets: { enabled: false, pipelineId: null, priority: 'HIGH' },
    });
  });

  it('keeps the merchant’s choices', () => {
    const s = defaultSettings();
    s.crm = { ...defaultCrmObjectSettings(), deals: { enabled: true, amount: 'arr', checkoutDeals: true }, tickets: { enabled: true, pipelineId: '12345', priority: 'URGENT' } };
    const r = validateSettings(s);
    expect(r.ok && r.settings.crm.deals.amount).toBe('arr');
    expect(r.ok && r.settings.crm.tickets).toEqual({ enabled: true, pipelineId: '12345', priority: 'URGENT' });
  });

  it('refuses an unknown amount basis, priority or key, with the path of the bad value', () => {
    const bad = defaultSettings() as unknown as { crm: Record<string, Record<string, unknown>> };
    bad.crm.deals.amount = 'weekly';
    expect(validateSettings(bad)).toMatchObject({ ok: false, errors: [{ path: 'crm.deals.amount' }] });
    const badPriority = defaultSettings() as unknown as { crm: Record<string, Record<string, unknown>> };
    badPriority.crm.tickets.priority = 'CRITICAL';
    expect(validateSettings(badPriority)).toMatchObject({ ok: false, errors: [{ path: 'crm.tickets.priority' }] });
    const extra = defaultSettings() as unknown as { crm: Record<string, unknown> };
    extra.crm.quotes = { enabled: true };
    expect(validateSettings(extra).ok).toBe(false);
    const blankPipeline = defaultSettings() as unknown as { crm: Record<string, Record<string, unknown>> };
    blankPipeline.crm.tickets.pipelineId = '  ';
    expect(validateSettings(blankPipeline)).toMatchObject({ ok: false, errors: [{ path: 'crm.tickets.pipelineId' }] });
  });
});
