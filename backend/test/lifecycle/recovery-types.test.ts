import { SYNC_EVENT_TYPES } from '@stripe-hubspot-sync/contracts';
import { RECOVERED_TYPES } from '../../src/jobs/recovery';
import { LIFECYCLE_EVENT_TYPES } from '../../src/ingest/ingestor';

/** Missed events are listed in one request: Stripe takes at most 20 `types`, and none that carries facts is left out. */
describe('the event types the recovery lists', () => {
  it('fit one list request and include the install lifecycle', () => {
    expect(RECOVERED_TYPES.length).toBeLessThanOrEqual(20);
    expect(RECOVERED_TYPES).toEqual(expect.arrayContaining([...LIFECYCLE_EVENT_TYPES]));
    expect(new Set(RECOVERED_TYPES).size).toBe(RECOVERED_TYPES.length);
  });

  it('leave out only subscription events whose change customer.subscription.updated also announces', () => {
    const left = SYNC_EVENT_TYPES.filter((t) => !RECOVERED_TYPES.includes(t));
    expect(left).toEqual(['customer.subscription.trial_will_end', 'customer.subscription.paused', 'customer.subscription.resumed']);
    expect(RECOVERED_TYPES).toContain('customer.subscription.updated');
  });
});
