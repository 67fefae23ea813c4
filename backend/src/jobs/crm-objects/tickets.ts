import { ConnectionHubSpotError, MISSING_PROPERTY } from '../../adapters/hubspot/errors';
import { associateTickets, readTicketsBy, updateTickets, upsertTickets, type BatchResult, type TicketAssociationTarget } from '../../adapters/hubspot/tickets';
import { loadDeals } from '../../adapters/store/deals-store';
import { customerKeyId, recordsForCustomers } from '../../adapters/store/sync-store';
import {
  forgetPipelineStages,
  forgetTicketPropertyProvisioned,
  forgetUnmade,
  loadTickets,
  markGone,
  recordCreating,
  saveAssociations,
  saveWritten,
  type TicketRow,
  type TicketScope,
  type TicketStages,
} from '../../adapters/store/tickets-store';
import { customerLabel, failedInvoices, TICKET_KEY_PROPERTY, ticketProperties, ticketUpdate, type InvoiceTicketFacts } from '../../domain/crm/tickets';
import type { ObjectOutcome, WrittenContact } from '../../domain/sync/ports';
import type { CrmObjectWriter, ObjectWriterContext } from './stage';
import {
  DEFAULT_TICKET_PIPELINE,
  TICKET_PROPERTY_KEY,
  clearTicketProblem,
  ensureTicketProperty,
  missingScopesProblem,
  pipelineStages,
  recordTicketProblem,
} from './ticket-setup';

/**
 * Tickets on failed payments (settings `crm.tickets`, off by default): one ticket per unpaid invoice whose payment
 * failed, in the pipeline and at the priority the merchant picked, associated with the contact, the company (when
 * the companies writer found one) and the subscription's deal (when the deals writer made one); moved to the
 * pipeline's closed stage once the invoice is paid or voided.
 *
 * Never two tickets for one invoice, even after a lost answer: the row of the invoice is recorded (attempted)
 * before the create is sent, and the create is an upsert on the unique ticket property `stripe_invoice_id`, so
 * sending it again lands on the ticket HubSpot already made. A ticket to close whose create's answer was lost is
 * first read by that property (closed if it exists; nothing to do if it does not). What each ticket last got is
 * kept, so a pass where nothing changed makes no call; changes go out as updates by id of what changed only.
 * Every call is a batch of up to 100 over the pass's customers.
 */
export const ticketsWriter: CrmObjectWriter = {
  name: 'tickets',
  enabled: (settings) => settings.crm.tickets.enabled,
  write: writeTickets,
};

interface Want {
  contact: WrittenContact;
  facts: InvoiceTicketFacts;
  row: TicketRow | undefined;
  pipelineId: string;
  /** HubSpot's id once known (from the row, a lookup, or the upsert's answer). */
  ticketId: string | null;
  written: Record<string, string>;
  /** Something about this ticket failed in this pass: nothing more is done with it. */
  failed?: boolean;
}

async function writeTickets(ctx: ObjectWriterContext, contacts: WrittenContact[]): Promise<Map<string, ObjectOutcome>> {
  const out = new Map<string, ObjectOutcome>();
  const scope: TicketScope = { portalId: ctx.portal.portalId, account: ctx.account, livemode: ctx.livemode };
  const wants = await plan(ctx, scope, contacts);
  if (wants.length === 0) return out;
  try {
    await write(ctx, scope, out, wants);
  } catch (err) {
    // Only the tickets scope is missing (an install made before tickets): contacts go on, the problem is shown.
    if (!(err instanceof ConnectionHubSpotError) || err.category !== 'MISSING_SCOPES') throw err;
    const message = missingScopesProblem(err.message);
    await recordTicketProblem(ctx, err.category, message);
    for (const w of wants.filter((x) => !x.failed)) fail(out, w, { permanent: true, message, category: err.category });
  }
  return out;
}

async function write(ctx: ObjectWriterContext, scope: TicketScope, out: Map<string, ObjectOutcome>, all: Want[]): Promise<void> {
  let wants = all;
  // The property upserts and lookups go by; the stages of each pipeline.
  if (wants.some((w) => !w.ticketId)) {
    const problem = await ensureTicketProperty(ctx);
    if (problem) {
      await recordTicketProblem(ctx, 'PROPERTY_UNAVAILABLE', problem);
      for (const w of wants.filter((x) => !x.ticketId)) fail(out, w, { permanent: true, message: problem, category: 'PROPERTY_UNAVAILABLE' });
      wants = wants.filter((w) => w.ticketId);
    }
  }
  const stages = await pipelineStages(ctx, wants.map((w) => w.pipelineId));
  const staged: { w: Want; desired: Record<string, string> }[] = [];
  for (const w of wants) {
    const s = stages.get(w.pipelineId)!;
    if ('problem' in s) {
      await recordTicketProblem(ctx, 'PIPELINE_UNAVAILABLE', s.problem);
      fail(out, w, { permanent: true, message: s.problem, category: 'PIPELINE_UNAVAILABLE' });
    } else {
      staged.push({ w, desired: desiredOf(ctx, w, s) });
    }
  }
  if (staged.length === all.length) await clearTicketProblem(ctx);

  await findLost(ctx, scope, staged.map((x) => x.w));
  const live = staged.filter((x) => x.w.ticketId || x.w.facts.state === 'open');
  const creates = live.filter((x) => !x.w.ticketId);
  const updates = live.flatMap((x) => {
    const changed = x.w.ticketId ? ticketUpdate(x.desired, x.w.written) : {};
    return Object.keys(changed).length > 0 ? [{ ...x, changed }] : [];
  });

  if (creates.length > 0) {
    await recordCreating(ctx.db, scope, creates.map((x) => ({ invoiceId: x.w.facts.invoiceId, customerId: x.w.contact.customerId, pipelineId: x.w.pipelineId })));
    const results = await upsertTickets(ctx.portal, TICKET_KEY_PROPERTY, creates.map((x) => ({ id: x.w.facts.invoiceId, properties: x.desired })));
    await record(ctx, scope, out, creates.map((x, i) => ({ ...x, sent: x.desired, result: results[i] })));
  }
  if (updates.length > 0) {
    const results = await updateTickets(ctx.portal, updates.map((x) => ({ id: x.w.ticketId!, properties: x.changed })));
    await record(ctx, scope, out, updates.map((x, i) => ({ ...x, sent: x.changed, result: results[i] })));
  }
  await associate(ctx, scope, out, live.map((x) => x.w).filter((w) => w.ticketId && !w.failed));
}

/** The tickets the pass's customers call for, with what we know of each. */
async function plan(ctx: ObjectWriterContext, scope: TicketScope, contacts: WrittenContact[]): Promise<Want[]> {
  const keys = contacts.map((c) => ({ account: ctx.account, livemode: ctx.livemode, customerId: c.customerId }));
  const records = await recordsForCustomers(ctx.db, keys);
  const rows = await loadTickets(ctx.db, scope, contacts.map((c) => c.customerId));
  const chosen = ctx.settings.crm.tickets.pipelineId ?? DEFAULT_TICKET_PIPELINE;
  const wants: Want[] = [];
  for (const contact of contacts) {
    const mine = records.get(customerKeyId({ account: ctx.account, livemode: ctx.livemode, customerId: contact.customerId })) ?? [];
    for (const facts of failedInvoices(mine)) {
      const row = rows.get(facts.invoiceId);
      if (row?.gone) continue;
      // A paid or voided invoice gets no ticket of its own: only one we opened (or may have) is closed.
      if (facts.state === 'closed' && !row) continue;
      wants.push({ contact, facts, row, pipelineId: row?.pipelineId ?? chosen, ticketId: row?.ticketId ?? null, written: row?.written ?? {} });
    }
  }
  return wants;
}

function desiredOf(ctx: ObjectWriterContext, w: Want, s: TicketStages): Record<string, string> {
  return ticketProperties(w.facts, {
    account: ctx.account,
    livemode: ctx.livemode,
    customerLabel: customerLabel(w.contact.status),
    pipelineId: w.pipelineId,
    stageId: w.facts.state === 'open' ? s.openStage : s.closedStage,
    priority: ctx.settings.crm.tickets.priority,
  });
}

/**
 * Tickets to close whose create was sent but never answered: read by `stripe_invoice_id`. Found: closed like any
 * other (what it holds is not known, so everything is sent). Not found: the create never landed, and a paid or
 * voided invoice needs no ticket: its row is dropped.
 */
async function findLost(ctx: ObjectWriterContext, scope: TicketScope, wants: Want[]): Promise<void> {
  const lost = wants.filter((w) => !w.ticketId && w.facts.state === 'closed');
  if (lost.length === 0) return;
  const found = await readTicketsBy(ctx.portal, TICKET_KEY_PROPERTY, lost.map((w) => w.facts.invoiceId));
  for (const w of lost) {
    w.ticketId = found.get(w.facts.invoiceId) ?? null;
    w.written = {};
  }
  await forgetUnmade(ctx.db, scope, lost.filter((w) => !w.ticketId).map((w) => w.facts.invoiceId));
}

type Sent = { w: Want; sent: Record<string, string>; result: BatchResult | undefined };

async function record(ctx: ObjectWriterContext, scope: TicketScope, out: Map<string, ObjectOutcome>, items: Sent[]): Promise<void> {
  const saved: Parameters<typeof saveWritten>[2][number][] = [];
  const gone: string[] = [];
  for (const { w, sent, result } of items) {
    if (result?.ok) {
      w.ticketId = result.id;
      saved.push({ invoiceId: w.facts.invoiceId, ticketId: result.id, state: w.facts.state, sent });
      continue;
    }
    const r = result ?? { ok: false, permanent: false, message: 'HubSpot answered nothing for this ticket', category: 'NO_RESULT' };
    if (r.category === 'OBJECT_NOT_FOUND' && w.ticketId) {
      gone.push(w.facts.invoiceId); // deleted in HubSpot by a user: left alone from now on
      ctx.logger.info({ portalId: scope.portalId, invoiceId: w.facts.invoiceId }, 'ticket deleted in HubSpot; no longer written');
      continue;
    }
    if (r.category === MISSING_PROPERTY) {
      await forgetTicketPropertyProvisioned(ctx.db, scope.portalId, TICKET_PROPERTY_KEY);
      fail(out, w, { permanent: false, message: r.message, category: r.category });
      continue;
    }
    if (r.permanent && /hs_pipeline/.test(r.message)) await forgetPipelineStages(ctx.db, scope.portalId, [w.pipelineId]);
    fail(out, w, { permanent: r.permanent, message: r.message, category: r.category });
  }
  await saveWritten(ctx.db, scope, saved);
  await markGone(ctx.db, scope, gone);
}

/** Associations not made yet (or made with a contact or company the customer has since left): one batch per type. */
async function associate(ctx: ObjectWriterContext, scope: TicketScope, out: Map<string, ObjectOutcome>, wants: Want[]): Promise<void> {
  if (wants.length === 0) return;
  const needsDeal = wants.filter((w) => w.facts.subscriptionId && w.row?.dealId == null);
  const deals = needsDeal.length > 0 ? await loadDeals(ctx.db, ctx.account, ctx.livemode, scope.portalId, [...new Set(needsDeal.map((w) => w.contact.customerId))]) : new Map();
  const targets: Record<TicketAssociationTarget, (w: Want) => string | null> = {
    contacts: (w) => (w.row?.contactId === w.contact.contactId ? null : w.contact.contactId),
    companies: (w) => {
      const company = ctx.companyOf.get(w.contact.customerId) ?? null;
      return company && w.row?.companyId !== company ? company : null;
    },
    deals: (w) => {
      const deal = w.facts.subscriptionId ? (deals.get(w.facts.subscriptionId)?.dealId ?? null) : null;
      return deal && w.row?.dealId !== deal ? deal : null;
    },
  };
  const made = new Map<string, { invoiceId: string; contactId: string | null; companyId: string | null; dealId: string | null }>();
  for (const to of ['contacts', 'companies', 'deals'] as const) {
    const pairs = wants.flatMap((w) => {
      const toId = targets[to](w);
      return toId ? [{ w, toId }] : [];
    });
    if (pairs.length === 0) continue;
    const refused = await associateTickets(ctx.portal, to, pairs.map((p) => ({ ticketId: p.w.ticketId!, toId: p.toId })));
    for (const { w, toId } of pairs) {
      const r = refused.get(w.ticketId!);
      if (r) {
        fail(out, w, { permanent: true, message: `associating the ticket with ${to} ${toId}: ${r.message}`, category: r.category });
        continue;
      }
      const m = made.get(w.facts.invoiceId) ?? { invoiceId: w.facts.invoiceId, contactId: null, companyId: null, dealId: null };
      made.set(w.facts.invoiceId, { ...m, [to === 'contacts' ? 'contactId' : to === 'companies' ? 'companyId' : 'dealId']: toId });
    }
  }
  await saveAssociations(ctx.db, scope, [...made.values()]);
}

/** A customer's outcome: a failure that may pass outweighs one that will not. */
function fail(out: Map<string, ObjectOutcome>, w: Want, f: { permanent: boolean; message: string; category: string | null }): void {
  w.failed = true;
  const message = `invoice ${w.facts.invoiceId}: ${f.message}`;
  const prior = out.get(w.contact.customerId);
  if (!prior || prior.ok) {
    out.set(w.contact.customerId, { ok: false, permanent: f.permanent, message, category: f.category });
    return;
  }
  out.set(w.contact.customerId, {
    ok: false,
    permanent: prior.permanent && f.permanent,
    message: `${prior.message}; ${message}`,
    category: prior.permanent && !f.permanent ? f.category : prior.category,
  });
}
