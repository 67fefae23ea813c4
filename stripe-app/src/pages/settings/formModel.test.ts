import { EVENT_CATALOG, defaultSettings, type SyncSettings } from '../../data/contracts';
import {
  errorsFromDetails,
  eventGroups,
  eventsError,
  setEvent,
  setFieldEnabled,
  setFieldProperty,
  unplacedErrors,
  validationErrors,
} from './formModel';

describe('settings form model', () => {
  it('groups every catalog event exactly once, in catalog order within a group', () => {
    const groups = eventGroups();
    const flat = groups.flatMap((g) => g.events.map((e) => e.type));
    expect([...flat].sort()).toEqual(EVENT_CATALOG.map((e) => e.type).sort());
    expect(groups.find((g) => g.group === 'invoice')?.events.map((e) => e.type)).toEqual([
      'invoice.paid',
      'invoice.payment_failed',
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
