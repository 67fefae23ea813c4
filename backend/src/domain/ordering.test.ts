import fc from 'fast-check';
import { stripeObject } from '../../test/helpers/stripe-fixtures';
import { compareVersions, foldRecords, isNewer, rankOf, versionOf } from './ordering';
import type { ObjectRecord, Version } from './records';

const at = (created: number, type: string, id: string) => ({ created, type, id });

describe('versionOf / compareVersions', () => {
  it('an event from an earlier second always loses', () => {
    const canceled = versionOf(at(100, 'customer.subscription.deleted', 'evt_a'), 'subscription', { status: 'canceled' });
    const active = versionOf(at(101, 'customer.subscription.updated', 'evt_0'), 'subscription', { status: 'active' });
    expect(compareVersions(canceled, active)).toBeLessThan(0);
  });

  it('a late active in the same second as canceled never wins, whatever the event ids', () => {
    for (const [idActive, idCanceled] of [['evt_z', 'evt_a'], ['evt_a', 'evt_z']]) {
      const active = versionOf(at(100, 'customer.subscription.updated', idActive), 'subscription', { status: 'active' });
      const canceled = versionOf(at(100, 'customer.subscription.updated', idCanceled), 'subscription', { status: 'canceled' });
      expect(isNewer(active, canceled)).toBe(false);
      expect(isNewer(canceled, active)).toBe(true);
    }
  });

  it('orders the lifecycle within one second: created < updated < deleted', () => {
    const sub = stripeObject('subscription', { status: 'active' });
    const created = versionOf(at(5, 'customer.subscription.created', 'evt_z'), 'subscription', sub);
    const updated = versionOf(at(5, 'customer.subscription.updated', 'evt_y'), 'subscription', sub);
    const deleted = versionOf(at(5, 'customer.subscription.deleted', 'evt_x'), 'subscription', { ...sub, status: 'incomplete' });
    expect(compareVersions(created, updated)).toBeLessThan(0);
    expect(compareVersions(updated, deleted)).toBeLessThan(0);
    const cust = (type: string, id: string) => versionOf(at(5, type, id), 'customer', stripeObject('customer'));
    expect(compareVersions(cust('customer.updated', 'evt_a'), cust('customer.deleted', 'evt_0'))).toBeLessThan(0);
  });

  it('invoice.paid beats invoice.payment_failed of the same second', () => {
    const failed = versionOf(at(7, 'invoice.payment_failed', 'evt_z'), 'invoice', { status: 'open', attempt_count: 3 });
    const paid = versionOf(at(7, 'invoice.paid', 'evt_a'), 'invoice', { status: 'paid', attempt_count: 1 });
    expect(isNewer(paid, failed)).toBe(true);
    expect(isNewer(failed, paid)).toBe(false);
  });

  it('status precedence breaks ties between events of the same type', () => {
    const inv = (status: string, id: string) => versionOf(at(7, 'invoice.updated', id), 'invoice', { status });
    expect(compareVersions(inv('open', 'evt_z'), inv('void', 'evt_a'))).toBeLessThan(0);
    expect(compareVersions(inv('void', 'evt_z'), inv('paid', 'evt_a'))).toBeLessThan(0);
    const ch = (status: string, id: string) => versionOf(at(7, 'charge.updated', id), 'charge', { status });
    expect(compareVersions(ch('pending', 'evt_z'), ch('failed', 'evt_a'))).toBeLessThan(0);
    expect(compareVersions(ch('failed', 'evt_z'), ch('succeeded', 'evt_a'))).toBeLessThan(0);
  });

  it('a charge: refunded beats succeeded, and a larger refund total wins', () => {
    const charge = (type: string, refunded: number, id: string) =>
      versionOf(at(9, type, id), 'charge', { status: 'succeeded', amount_refunded: refunded });
    expect(isNewer(charge('charge.refunded', 500, 'evt_a'), charge('charge.succeeded', 0, 'evt_z'))).toBe(true);
    expect(isNewer(charge('charge.refunded', 1000, 'evt_a'), charge('charge.refunded', 500, 'evt_z'))).toBe(true);
    expect(isNewer(charge('charge.refunded', 500, 'evt_z'), charge('charge.refunded', 1000, 'evt_a'))).toBe(false);
    // Huge refund totals keep their order and the rank stays a PostgreSQL integer.
    expect(isNewer(charge('charge.refunded', 9_000_000_000, 'evt_a'), charge('charge.refunded', 8_000_000_000, 'evt_z'))).toBe(true);
  });

  it('falls back to the event id (byte order) and treats a duplicate as not newer', () => {
    const a = versionOf(at(1, 'customer.updated', 'evt_A'), 'customer', {});
    const b = versionOf(at(1, 'customer.updated', 'evt_a'), 'customer', {});
    expect(compareVersions(a, b)).toBeLessThan(0); // 'A' < 'a' in byte order (COLLATE "C")
    expect(compareVersions(a, { ...a })).toBe(0);
    expect(isNewer(a, { ...a })).toBe(false);
    expect(isNewer(a, null)).toBe(true);
  });

  it('keeps every rank a non-negative 31-bit integer', () => {
    const types = ['customer.subscription.deleted', 'invoice.deleted', 'charge.refunded', 'x.y', 'checkout.session.expired'];
    fc.assert(
      fc.property(
        fc.constantFrom(...types),
        fc.constantFrom('customer', 'subscription', 'invoice', 'charge', 'dispute', 'checkout_session', 'upcoming_invoice' as const),
        fc.record({ status: fc.string(), amount_refunded: fc.double(), attempt_count: fc.integer(), payment_status: fc.string() }),
        (type, kind, object) => {
          const r = rankOf(type, kind, object);
          expect(Number.isInteger(r)).toBe(true);
          expect(r).toBeGreaterThanOrEqual(0);
          expect(r).toBeLessThanOrEqual(2 ** 31 - 1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is a strict total order', () => {
    const version = fc.record({
      created: fc.integer({ min: 0, max: 3 }),
      rank: fc.integer({ min: 0, max: 3 }),
      eventId: fc.constantFrom('evt_a', 'evt_b', 'evt_B', 'evt_c'),
    });
    fc.assert(
      fc.property(version, version, version, (a: Version, b: Version, c: Version) => {
        expect(Math.sign(compareVersions(a, b)) + Math.sign(compareVersions(b, a))).toBe(0);
        const same = a.created === b.created && a.rank === b.rank && a.eventId === b.eventId;
        expect(compareVersions(a, b) === 0).toBe(same);
        if (compareVersions(a, b) < 0 && compareVersions(b, c) < 0) expect(compareVersions(a, c)).toBeLessThan(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('foldRecords', () => {
  const rec = (objectId: string, created: number, eventId: string, status: string): ObjectRecord => ({
    kind: 'charge',
    objectId,
    customerId: 'cus_1',
    version: { created, rank: rankOf('charge.updated', 'charge', { status }), eventId },
    data: {
      status, amount: 100, amountCaptured: 100, amountRefunded: 0, refunded: false, currency: 'usd', created,
      failureMessage: null, invoiceId: null, paymentIntentId: null, email: null, disputed: false,
    },
  });

  it('keeps the greatest version per object, whatever the order', () => {
    const records = [rec('ch_1', 1, 'evt_1', 'pending'), rec('ch_1', 1, 'evt_2', 'succeeded'), rec('ch_2', 3, 'evt_3', 'failed'), rec('ch_1', 0, 'evt_9', 'failed')];
    fc.assert(
      fc.property(fc.shuffledSubarray(records, { minLength: records.length }), (shuffled) => {
        const folded = foldRecords(shuffled);
        expect(folded.map((r) => `${r.objectId}:${r.version.eventId}`)).toEqual(['ch_1:evt_2', 'ch_2:evt_3']);
      }),
      { numRuns: 50 },
    );
  });
});
