import type { InvoiceData } from './records';
import type { HistoryEntry } from './movements-history';
import type { Movement } from './movements';
import { failedAttempts } from './payment-history';

/**
 * Payment movements of one customer (see movements.ts for the kinds), from the versions of its invoices, charges
 * and disputes in version order. Each is derived at one source version from versions up to it only:
 * - payment_failed `in_x:failed:<attempt>`: an invoice version from an event that saw its latest attempt fail
 *   (`invoice.payment_failed`), at the event's time; one per attempt number;
 * - payment_recovered `in_x:recovered`: the invoice's first paid version from an event, when an earlier version
 *   showed a failed attempt or the paid invoice counts failed attempts itself; at `paid_at`;
 * - refund `ch_x:refund:<refunded total>`: a charge version from an event whose refunded total grew — from the
 *   event's `previous_attributes.amount_refunded`, else the previous version's total, else 0;
 * - dispute `dp_x`: the dispute's earliest version from an event, at the dispute's `created`.
 * Versions read from the API (snapshots) are context only, never a movement.
 */

type Of<K extends HistoryEntry['kind']> = Extract<HistoryEntry, { kind: K }>;

function byObject<K extends HistoryEntry['kind']>(history: readonly HistoryEntry[], kind: K): Map<string, Of<K>[]> {
  const out = new Map<string, Of<K>[]>();
  for (const e of history) {
    if (e.kind !== kind) continue;
    const list = out.get(e.objectId) ?? [];
    list.push(e as Of<K>);
    out.set(e.objectId, list);
  }
  return out;
}

function invoiceMovements(customerId: string, versions: readonly Of<'invoice'>[]): Movement[] {
  const out = new Map<string, Movement>();
  let failureSeen = false;
  let paidSeen = false;
  for (const e of versions) {
    const d = e.data;
    const common = { customerId, currency: d.currency, mrrBefore: null, mrrAfter: null, subjectId: e.objectId, source: e.version };
    if (e.fromEvent && d.lastAttemptFailed && d.status !== 'paid') {
      const attempt = Math.max(1, d.attemptCount);
      const id = `${e.objectId}:failed:${attempt}`;
      if (!out.has(id)) {
        out.set(id, {
          ...common,
          id,
          kind: 'payment_failed',
          occurredAt: e.version.created,
          amount: d.amountRemaining || d.amountDue,
          details: { attempt, failureReason: d.failureReason, subscriptionId: d.subscriptionId, invoiceNumber: d.number },
        });
      }
    }
    if (d.lastAttemptFailed) failureSeen = true;
    if (d.status === 'paid' && e.fromEvent && !paidSeen) {
      paidSeen = true;
      // failedAttempts reads only status, attemptCount, paidOutOfBand and lastAttemptFailed, all kept in a version.
      if (failureSeen || failedAttempts(d as InvoiceData) > 0) {
        const id = `${e.objectId}:recovered`;
        out.set(id, {
          ...common,
          id,
          kind: 'payment_recovered',
          occurredAt: d.paidAt ?? e.version.created,
          amount: d.amountPaid,
          details: { attempts: d.attemptCount, subscriptionId: d.subscriptionId, invoiceNumber: d.number, paidOutOfBand: d.paidOutOfBand },
        });
      }
    }
  }
  return [...out.values()];
}

function refundMovements(customerId: string, versions: readonly Of<'charge'>[]): Movement[] {
  const out = new Map<string, Movement>();
  let previousTotal: number | null = null;
  for (const e of versions) {
    const d = e.data;
    const total = d.amountRefunded;
    const before = d.refundedBefore ?? previousTotal ?? 0;
    previousTotal = total;
    if (!e.fromEvent || total <= before) continue;
    const id = `${e.objectId}:refund:${total}`;
    if (out.has(id)) continue;
    out.set(id, {
      id,
      customerId,
      kind: 'refund',
      occurredAt: e.version.created,
      currency: d.currency,
      amount: total - before,
      mrrBefore: null,
      mrrAfter: null,
      subjectId: e.objectId,
      source: e.version,
      details: { chargeId: e.objectId, invoiceId: d.invoiceId, refundedTotal: total, fullyRefunded: d.refunded },
    });
  }
  return [...out.values()];
}

function disputeMovement(customerId: string, versions: readonly Of<'dispute'>[]): Movement[] {
  const first = versions.find((e) => e.fromEvent);
  if (!first) return [];
  const d = first.data;
  return [
    {
      id: first.objectId,
      customerId,
      kind: 'dispute',
      occurredAt: d.created ?? first.version.created,
      currency: d.currency,
      amount: d.amount,
      mrrBefore: null,
      mrrAfter: null,
      subjectId: first.objectId,
      source: first.version,
      details: { chargeId: d.chargeId, reason: d.reason, status: d.status },
    },
  ];
}

/** Payment, refund and dispute movements; `history` sorted (movements.ts `sortedHistory`). */
export function paymentMovements(customerId: string, history: readonly HistoryEntry[]): Movement[] {
  const out: Movement[] = [];
  for (const versions of byObject(history, 'invoice').values()) out.push(...invoiceMovements(customerId, versions));
  for (const versions of byObject(history, 'charge').values()) out.push(...refundMovements(customerId, versions));
  for (const versions of byObject(history, 'dispute').values()) out.push(...disputeMovement(customerId, versions));
  return out;
}
