import { stripeEvent, stripeObject } from '../../../test/helpers/stripe-fixtures';
import { mapEvent } from '../events';

function records(out: ReturnType<typeof mapEvent>) {
  if ('skip' in out) throw new Error(`skipped: ${out.skip}`);
  return out;
}

describe('customer mapper', () => {
  it('maps email, name, created, currency, delinquent', () => {
    const cus = stripeObject('customer', { id: 'cus_A', email: 'Ann@Example.com', name: 'Ann', currency: 'EUR', delinquent: true });
    const out = records(mapEvent(stripeEvent('customer.created', cus, { id: 'evt_1', created: 1_700_000_000 })));
    expect(out.customerId).toBe('cus_A');
    expect(out.email).toBe('Ann@Example.com');
    expect(out.records).toEqual([
      {
        kind: 'customer',
        objectId: 'cus_A',
        customerId: 'cus_A',
        version: { created: 1_700_000_000, rank: 0, eventId: 'evt_1' },
        data: { email: 'Ann@Example.com', name: 'Ann', created: 1234567890, currency: 'eur', delinquent: true, deleted: false },
      },
    ]);
  });

  it('marks deleted customers, full object or the short deleted shape', () => {
    const full = records(mapEvent(stripeEvent('customer.deleted', stripeObject('customer', { id: 'cus_A', email: 'a@x.io' }))));
    expect(full.records[0].data).toMatchObject({ deleted: true, email: 'a@x.io' });
    const short = records(mapEvent(stripeEvent('customer.deleted', stripeObject('deleted_customer', { id: 'cus_B' }))));
    expect(short.records[0]).toMatchObject({ objectId: 'cus_B', data: { deleted: true, email: null, currency: null } });
  });

  it('reports the previous email on an email change, and only then', () => {
    const cus = stripeObject('customer', { id: 'cus_A', email: 'new@x.io' });
    const changed = records(mapEvent(stripeEvent('customer.updated', cus, { previousAttributes: { email: 'old@x.io' } })));
    expect(changed.previousEmail).toBe('old@x.io');
    const added = records(mapEvent(stripeEvent('customer.updated', cus, { previousAttributes: { email: null } })));
    expect(added.previousEmail).toBeNull();
    const other = records(mapEvent(stripeEvent('customer.updated', cus, { previousAttributes: { name: 'x' } })));
    expect(other).not.toHaveProperty('previousEmail');
  });

  it('skips malformed objects with a reason', () => {
    expect(mapEvent(stripeEvent('customer.created', { object: 'customer' }))).toEqual({
      skip: 'malformed customer: the object has no id',
    });
    expect(mapEvent(stripeEvent('customer.created', stripeObject('charge')))).toEqual({
      skip: 'malformed customer: the event carries a charge object',
    });
  });

  it('ignores emails that are not emails', () => {
    const out = records(mapEvent(stripeEvent('customer.created', stripeObject('customer', { email: 'not an email' }))));
    expect(out.email).toBeNull();
  });
});
