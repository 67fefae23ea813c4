import { MOVEMENT_KINDS, type Movement } from '../movements';
import { MOVEMENT_LABELS, TIMELINE_TEMPLATE, movementNote, movementSummary, movementTokens, noteIsFor, noteMarker, timelineEvent } from './timeline';

const ctx = { dashboardUrl: 'https://dashboard.stripe.com/test/customers/cus_A' };

function movement(over: Partial<Movement> = {}): Movement {
  return {
    id: 'sub_1:evt_2:upgrade',
    customerId: 'cus_A',
    kind: 'upgrade',
    occurredAt: 1_700_000_000,
    currency: 'usd',
    amount: 1000,
    mrrBefore: 2000,
    mrrAfter: 3000,
    subjectId: 'sub_1',
    source: { created: 1_700_000_000, rank: 1, eventId: 'evt_2' },
    details: { status: 'active', previousStatus: 'active', plan: 'Pro', previousPlan: 'Basic' },
    ...over,
  };
}

describe('revenue movements on the contact', () => {
  it('the template has a label for every kind and every token the events use', () => {
    const options = TIMELINE_TEMPLATE.tokens.find((t) => t.name === 'movement')!.options!.map((o) => o.value);
    expect(options).toEqual([...MOVEMENT_KINDS]);
    for (const k of MOVEMENT_KINDS) expect(MOVEMENT_LABELS[k]).toMatch(/\w/);
    const names = new Set(TIMELINE_TEMPLATE.tokens.map((t) => t.name));
    const full = movementTokens(movement({ details: { plan: 'Pro', previousPlan: 'Basic' } }), ctx);
    for (const name of Object.keys(full)) expect(names.has(name)).toBe(true);
    expect(TIMELINE_TEMPLATE.objectType).toBe('contacts');
  });

  it('an upgrade: the MRR change, before and after, the plans', () => {
    expect(movementSummary(movement())).toBe('Upgrade: MRR +$10.00 ($20.00 → $30.00), Basic → Pro');
    expect(movementTokens(movement(), ctx)).toEqual({
      movement: 'upgrade',
      title: 'Upgrade',
      summary: 'Upgrade: MRR +$10.00 ($20.00 → $30.00), Basic → Pro',
      amount: '10.00',
      currency: 'USD',
      mrrBefore: '20.00',
      mrrAfter: '30.00',
      plan: 'Pro',
      previousPlan: 'Basic',
      stripeObject: 'sub_1',
      stripeUrl: ctx.dashboardUrl,
    });
  });

  it('a churn is negative; numbers are decimals in the currency’s own units (JPY none, KWD three)', () => {
    const churn = movement({ id: 'sub_1:evt_3:churn', kind: 'churn', amount: -3000, mrrBefore: 3000, mrrAfter: 0, details: { plan: 'Pro', previousPlan: 'Pro' } });
    expect(movementSummary(churn)).toBe('Churn: MRR -$30.00 ($30.00 → $0.00), Pro');
    expect(movementTokens(churn, ctx)).toMatchObject({ amount: '-30.00', mrrBefore: '30.00', mrrAfter: '0.00' });
    expect(movementTokens(movement({ currency: 'jpy', amount: 500, mrrBefore: 0, mrrAfter: 500 }), ctx)).toMatchObject({ amount: '500', currency: 'JPY' });
    expect(movementTokens(movement({ currency: 'kwd', amount: 1005, mrrBefore: 0, mrrAfter: 1005 }), ctx)).toMatchObject({ amount: '1.005' });
  });

  it('payment movements: no MRR tokens, the invoice, attempt and reason', () => {
    const failed = movement({
      id: 'in_1:failed:2',
      kind: 'payment_failed',
      amount: 4999,
      mrrBefore: null,
      mrrAfter: null,
      subjectId: 'in_1',
      details: { attempt: 2, failureReason: 'Your card was declined.', subscriptionId: 'sub_1', invoiceNumber: 'A-0001' },
    });
    expect(movementSummary(failed)).toBe('Payment failed: $49.99 on invoice A-0001, attempt 2 (Your card was declined.)');
    const tokens = movementTokens(failed, ctx);
    expect(tokens).not.toHaveProperty('mrrBefore');
    expect(tokens).not.toHaveProperty('mrrAfter');
    expect(tokens).not.toHaveProperty('plan');
    expect(movementSummary(movement({ kind: 'payment_recovered', amount: 4999, subjectId: 'in_1', details: { invoiceNumber: null, paidOutOfBand: false } }))).toBe(
      'Payment recovered: $49.99 paid on invoice in_1',
    );
    expect(movementSummary(movement({ kind: 'refund', amount: 500, subjectId: 'ch_1', details: { fullyRefunded: false } }))).toBe('Refund: $5.00 on payment ch_1');
    expect(movementSummary(movement({ kind: 'dispute', amount: 2000, subjectId: 'dp_1', details: { chargeId: 'ch_9', reason: 'product_not_received' } }))).toBe(
      'Dispute opened: $20.00 on payment ch_9 (product not received)',
    );
    expect(movementSummary(movement({ kind: 'trial_started', amount: 1500, mrrBefore: 0, mrrAfter: 0, details: { plan: 'Pro', trialEnd: 1_700_864_000 } }))).toBe(
      'Trial started on Pro: $15.00 a month once it converts (trial ends 2023-11-24)',
    );
  });

  it('the timeline event is keyed by the movement id, on the contact, at the movement’s time', () => {
    expect(timelineEvent(movement(), '901', '1001', ctx)).toMatchObject({
      eventTemplateId: '1001',
      id: 'sub_1:evt_2:upgrade',
      objectId: '901',
      timestamp: '2023-11-14T22:13:20.000Z',
    });
  });

  it('a note carries the movement id, and is recognised by it only (no prefix of another id matches)', () => {
    const note = movementNote(movement({ id: 'in_1:failed:2', kind: 'payment_failed', mrrBefore: null, mrrAfter: null, details: {} }), ctx);
    expect(note.hs_timestamp).toBe('2023-11-14T22:13:20.000Z');
    expect(note.hs_note_body).toContain('Stripe: Payment failed');
    expect(note.hs_note_body).toContain(noteMarker('in_1:failed:2'));
    expect(noteIsFor(note.hs_note_body, 'in_1:failed:2')).toBe(true);
    expect(noteIsFor(note.hs_note_body, 'in_1:failed:20')).toBe(false);
    expect(noteIsFor(note.hs_note_body, 'in_1:failed')).toBe(false);
    expect(noteIsFor(null, 'in_1:failed:2')).toBe(false);
  });

  it('text from Stripe is escaped in the note’s HTML', () => {
    const note = movementNote(movement({ details: { plan: '<b>Pro</b> & co', previousPlan: null } }), ctx);
    expect(note.hs_note_body).toContain('&lt;b&gt;Pro&lt;/b&gt; &amp; co');
    expect(note.hs_note_body).not.toContain('<b>Pro</b>');
  });
});
