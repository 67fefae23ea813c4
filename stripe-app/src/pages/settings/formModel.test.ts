import { EVENT_CATALOG, defaultSettings, type SyncSettings } from '../../data/contracts';
import {
  CRM_CONTROLS,
  CRM_PARTS,
  crmPartErrors,
  errorsFromDetails,
  eventGroups,
  eventsError,
  setEvent,
  setFieldEnabled,
  setCrm,
  setFieldProperty,
  pipelineIdFromInput,
  pipelineIdToInput,
  unplacedErrors,
  validationErrors,
} from './formModel';

describe('settings form model', () => {
  it('groups every catalog event exactly once, in catalog order within a group', () => {
    const groups = eventGroups();
    const flat = groups.flatMap((g) => g.events.map((e) => e.type));
    expect([...flat].sort()).toEqual(EVENT_CATALOG.map((e) => e.type).sort());
    expect(groups.find((g) => g.group === 'invoice')?.events.map((e) => e.type)).toEqual([
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_failed',
      'invoice.voided',
      'invoice.marked_uncollectible',
      'invoice.upcoming',
    ]);
  });

  it('turns an event off and on again without changing the catalog order', () => {
    const off = setEvent(defaultSettings(), 'invoice.paid', false);
    expect(off.events).not.toContain('invoice.paid');
    const on = setEvent(off, 'invoice.paid', true);
    expect(on.events).toEqual(defaultSettings().events);
  });

  it('accepts the defaults', () => {
    expect(validationErrors(defaultSettings())).toEqual({});
  });

  it('reports a bad property name at its path, with the schema’s message', () => {
    const s = setFieldProperty(defaultSettings(), 'mrr', 'Monthly Revenue');
    const errors = validationErrors(s);
    expect(Object.keys(errors)).toEqual(['fields.mrr.property']);
    expect(errors['fields.mrr.property']).toMatch(/lower-case/);
  });

  it('rejects HubSpot’s reserved hs_ prefix and duplicate targets', () => {
    expect(validationErrors(setFieldProperty(defaultSettings(), 'plan', 'hs_plan'))['fields.plan.property']).toMatch(
      /hs_/,
    );
    const dup = setFieldProperty(defaultSettings(), 'plan', 'stripe_mrr');
    expect(validationErrors(dup)).toEqual({
      'fields.mrr.property': 'Property stripe_mrr is already used by plan',
    });
  });

  it('allows a duplicate name once one of the two fields is off', () => {
    const dup = setFieldProperty(defaultSettings(), 'plan', 'stripe_mrr');
    expect(validationErrors(setFieldEnabled(dup, 'plan', false))).toEqual({});
  });

  it('refuses to turn the customer id off', () => {
    const s: SyncSettings = setFieldEnabled(defaultSettings(), 'customerId', false);
    expect(validationErrors(s)['fields.customerId.enabled']).toMatch(/cannot be turned off/);
  });

  it('places event errors with the events and keeps unknown paths for a banner', () => {
    const errors = errorsFromDetails([
      { path: 'events.2', message: 'Each event at most once' },
      { path: 'fields.mrr.property', message: 'bad' },
      { path: 'fields.mrr.property', message: 'second message ignored' },
      { path: 'somethingElse', message: 'odd' },
    ]);
    expect(errors['fields.mrr.property']).toBe('bad');
    expect(eventsError(errors)).toBe('Each event at most once');
    expect(unplacedErrors(errors)).toEqual(['somethingElse: odd']);
  });
});

describe('settings form model — companies, deals, timeline, tickets', () => {
  it('changes one setting of one part and nothing else', () => {
    const before = defaultSettings();
    const after = setCrm(before, 'tickets', { priority: 'URGENT' });
    const expected = defaultSettings();
    expected.crm.tickets.priority = 'URGENT';
    expect(after).toEqual(expected);
    // The document it came from is left as it was.
    expect(before).toEqual(defaultSettings());
    expect(setCrm(after, 'deals', { amount: 'arr', checkoutDeals: true }).crm).toEqual({
      ...expected.crm,
      deals: { enabled: true, amount: 'arr', checkoutDeals: true },
    });
  });

  it('reads an empty pipeline as the default support pipeline and keeps anything else as typed', () => {
    expect(pipelineIdFromInput('')).toBeNull();
    expect(pipelineIdFromInput('12345')).toBe('12345');
    expect(pipelineIdFromInput('   ')).toBe('   ');
    expect(pipelineIdToInput(null)).toBe('');
    expect(pipelineIdToInput('12345')).toBe('12345');
  });

  it('accepts a pipeline id or none, and puts the schema’s error for a blank or long one on the pipeline', () => {
    const withPipeline = (text: string) =>
      validationErrors(setCrm(defaultSettings(), 'tickets', { enabled: true, pipelineId: pipelineIdFromInput(text) }));
    expect(withPipeline('')).toEqual({});
    expect(withPipeline('12345')).toEqual({});
    expect(withPipeline('   ')).toEqual({
      'crm.tickets.pipelineId': 'Enter a ticket pipeline ID, or leave it empty for HubSpot’s default support pipeline',
    });
    expect(withPipeline('9'.repeat(65))).toEqual({
      'crm.tickets.pipelineId': 'A ticket pipeline ID is at most 64 characters',
    });
  });

  it('places errors on the crm controls, part-level ones with their part, and the rest in the banner', () => {
    const errors = errorsFromDetails([
      { path: 'crm.tickets.pipelineId', message: 'No such pipeline' },
      { path: 'crm.deals.amount', message: 'Invalid option' },
      { path: 'crm.tickets', message: 'Unrecognized key: "owner"' },
      { path: 'crm.tickets.owner', message: 'odd key' },
      { path: 'crm', message: 'Expected object' },
      { path: 'crm.contracts', message: 'Unknown part' },
    ]);
    expect(crmPartErrors(errors, 'tickets')).toEqual(['Unrecognized key: "owner"', 'odd key']);
    expect(crmPartErrors(errors, 'deals')).toEqual([]);
    expect(crmPartErrors(errors, 'companies')).toEqual([]);
    expect(unplacedErrors(errors)).toEqual(['crm: Expected object', 'crm.contracts: Unknown part']);
  });

  it('has a control for every setting of every part', () => {
    const defaults = defaultSettings().crm;
    expect([...CRM_PARTS].sort()).toEqual(Object.keys(defaults).sort());
    for (const part of CRM_PARTS) {
      expect([...CRM_CONTROLS[part]].map(String).sort()).toEqual(Object.keys(defaults[part]).sort());
    }
  });
});
