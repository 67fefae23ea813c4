import { formatMoney, minorToDecimalString } from '@stripe-hubspot-sync/contracts';
import { MOVEMENT_KINDS, isoDate, type Movement, type MovementKind } from '../movements';

/**
 * Revenue movements as the merchant sees them on the contact (pure): a timeline event of our app's event template
 * (marketplace installs), or a note (private apps, and installs without the timeline scope or template). Both say
 * the same: what moved, by how much, the MRR before and after, the plan, and a link to the customer in Stripe.
 *
 * Idempotency keys: the timeline event's `id` is the movement id (unique per app and template: HubSpot refuses a
 * second event with it); a note carries the movement id in its body (`[Stripe movement <id>]`), which is how a note
 * whose create's answer was lost is recognised on the contact.
 */

/** How a movement is named on the contact (timeline header, note title). */
export const MOVEMENT_LABELS: Readonly<Record<MovementKind, string>> = {
  new: 'New subscription',
  upgrade: 'Upgrade',
  downgrade: 'Downgrade',
  churn: 'Churn',
  reactivation: 'Reactivation',
  trial_started: 'Trial started',
  trial_converted: 'Trial converted',
  payment_failed: 'Payment failed',
  payment_recovered: 'Payment recovered',
  refund: 'Refund',
  dispute: 'Dispute',
};

export interface TemplateToken {
  name: string;
  label: string;
  type: 'string' | 'number' | 'date' | 'enumeration';
  options?: { value: string; label: string }[];
}

/**
 * Our timeline event template (crm-timeline-v3 `TimelineEventTemplateCreateRequest`). Templates belong to the
 * developer app, not to a portal: HubSpot creates them with the app's developer API key
 * (`POST /integrators/timeline/v3/{appId}/event-templates?hapikey=…`), never with a portal's OAuth token, so the
 * backend cannot provision it; it is created once with the app and its id configured as
 * HUBSPOT_TIMELINE_TEMPLATE_ID (README, "Revenue movements").
 */
export const TIMELINE_TEMPLATE: {
  name: string;
  objectType: 'contacts';
  headerTemplate: string;
  detailTemplate: string;
  tokens: TemplateToken[];
} = {
  name: 'Stripe revenue movement',
  objectType: 'contacts',
  headerTemplate: 'Stripe: {{title}}',
  detailTemplate: [
    '{{summary}}',
    '',
    '{{#if mrrAfter}}MRR before: {{mrrBefore}} {{currency}}, after: {{mrrAfter}} {{currency}}{{/if}}',
    '{{#if plan}}Plan: {{plan}}{{/if}}',
    '[Open the customer in Stripe]({{stripeUrl}})',
  ].join('\n'),
  tokens: [
    { name: 'movement', label: 'Movement', type: 'enumeration', options: MOVEMENT_KINDS.map((k) => ({ value: k, label: MOVEMENT_LABELS[k] })) },
    { name: 'title', label: 'Title', type: 'string' },
    { name: 'summary', label: 'Summary', type: 'string' },
    { name: 'amount', label: 'Amount', type: 'number' },
    { name: 'currency', label: 'Currency', type: 'string' },
    { name: 'mrrBefore', label: 'MRR before', type: 'number' },
    { name: 'mrrAfter', label: 'MRR after', type: 'number' },
    { name: 'plan', label: 'Plan', type: 'string' },
    { name: 'previousPlan', label: 'Previous plan', type: 'string' },
    { name: 'stripeObject', label: 'Stripe object', type: 'string' },
    { name: 'stripeUrl', label: 'Stripe link', type: 'string' },
  ],
};

/** What the text of a movement needs beside the movement: the customer's page in the Stripe Dashboard. */
export interface MovementContext {
  dashboardUrl: string;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

function money(minor: number, currency: string | null): string {
  const code = currency && /^[a-z]{3}$/i.test(currency) ? currency : null;
  if (!code) return `${minor < 0 ? '-' : ''}${Math.abs(minor)}`;
  const formatted = formatMoney(Math.abs(minor), code);
  return minor < 0 ? `-${formatted}` : formatted;
}

/** A decimal string HubSpot takes for a number token ("19.99", "-5", "1.005"). */
function decimal(minor: number, currency: string | null): string {
  const code = currency && /^[a-z]{3}$/i.test(currency) ? currency : 'xxx';
  return minorToDecimalString(Math.round(minor), code);
}

const signed = (minor: number, currency: string | null): string => (minor > 0 ? `+${money(minor, currency)}` : money(minor, currency));

function day(seconds: unknown): string | null {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return null;
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().slice(0, 10);
}

/** One sentence saying what moved (the timeline event's summary token, the note's first line). */
export function movementSummary(m: Movement): string {
  const d = m.details;
  const cur = m.currency;
  const plan = text(d.plan);
  const previousPlan = text(d.previousPlan);
  switch (m.kind) {
    case 'new':
    case 'reactivation':
    case 'trial_converted':
    case 'upgrade':
    case 'downgrade':
    case 'churn': {
      const change = `MRR ${signed(m.amount, cur)}`;
      const span = m.mrrBefore !== null && m.mrrAfter !== null ? ` (${money(m.mrrBefore, cur)} → ${money(m.mrrAfter, cur)})` : '';
      const planText = previousPlan && plan && previousPlan !== plan ? `, ${previousPlan} → ${plan}` : plan ? `, ${plan}` : '';
      return `${MOVEMENT_LABELS[m.kind]}: ${change}${span}${planText}`;
    }
    case 'trial_started': {
      const end = day(d.trialEnd);
      return `Trial started${plan ? ` on ${plan}` : ''}: ${money(m.amount, cur)} a month once it converts${end ? ` (trial ends ${end})` : ''}`;
    }
    case 'payment_failed': {
      const reason = text(d.failureReason);
      const attempt = typeof d.attempt === 'number' ? `, attempt ${d.attempt}` : '';
      return `Payment failed: ${money(m.amount, cur)} on invoice ${text(d.invoiceNumber) ?? m.subjectId}${attempt}${reason ? ` (${reason})` : ''}`;
    }
    case 'payment_recovered':
      return `Payment recovered: ${money(m.amount, cur)} paid on invoice ${text(d.invoiceNumber) ?? m.subjectId}${d.paidOutOfBand === true ? ' (outside Stripe)' : ''}`;
    case 'refund':
      return `Refund: ${money(m.amount, cur)} on payment ${m.subjectId}${d.fullyRefunded === true ? ' (fully refunded)' : ''}`;
    case 'dispute': {
      const reason = text(d.reason);
      return `Dispute opened: ${money(m.amount, cur)} on payment ${text(d.chargeId) ?? m.subjectId}${reason ? ` (${reason.replace(/_/g, ' ')})` : ''}`;
    }
  }
}

/** The event's tokens: strings HubSpot takes for each token type (numbers as decimals; unknowns left out). */
export function movementTokens(m: Movement, ctx: MovementContext): Record<string, string> {
  const tokens: Record<string, string> = {
    movement: m.kind,
    title: MOVEMENT_LABELS[m.kind],
    summary: movementSummary(m),
    amount: decimal(m.amount, m.currency),
    stripeObject: m.subjectId,
    stripeUrl: ctx.dashboardUrl,
  };
  if (m.currency) tokens.currency = m.currency.toUpperCase();
  if (m.mrrBefore !== null) tokens.mrrBefore = decimal(m.mrrBefore, m.currency);
  if (m.mrrAfter !== null) tokens.mrrAfter = decimal(m.mrrAfter, m.currency);
  const plan = text(m.details.plan);
  const previousPlan = text(m.details.previousPlan);
  if (plan) tokens.plan = plan;
  if (previousPlan) tokens.previousPlan = previousPlan;
  return tokens;
}

/** A timeline event (crm-timeline-v3 `TimelineEvent`) of our template on the contact, keyed by the movement id. */
export function timelineEvent(
  m: Movement,
  contactId: string,
  templateId: string,
  ctx: MovementContext,
): { eventTemplateId: string; id: string; objectId: string; timestamp: string; tokens: Record<string, string> } {
  return { eventTemplateId: templateId, id: m.id, objectId: contactId, timestamp: isoDate(m.occurredAt), tokens: movementTokens(m, ctx) };
}

/** The text in a note's body that names its movement (unique: the id is closed by the bracket). */
export function noteMarker(movementId: string): string {
  return `[Stripe movement ${escapeHtml(movementId)}]`;
}

/** Whether a note's body (as HubSpot answers it) is the note of this movement. */
export function noteIsFor(body: string | null | undefined, movementId: string): boolean {
  return typeof body === 'string' && body.includes(noteMarker(movementId));
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A note's properties (crm-notes-v3): when the movement happened, and the text of a timeline event. */
export function movementNote(m: Movement, ctx: MovementContext): { hs_timestamp: string; hs_note_body: string } {
  const lines = [`<p><strong>Stripe: ${escapeHtml(MOVEMENT_LABELS[m.kind])}</strong></p>`, `<p>${escapeHtml(movementSummary(m))}</p>`];
  lines.push(`<p>Customer in Stripe: <a href="${escapeHtml(ctx.dashboardUrl)}">${escapeHtml(ctx.dashboardUrl)}</a></p>`);
  lines.push(`<p>${noteMarker(m.id)}</p>`);
  return { hs_timestamp: isoDate(m.occurredAt), hs_note_body: lines.join('') };
}
