import type { Queryable } from './db';

/**
 * Tickets on failed payments (migration 015): what each portal holds per invoice (`crm_tickets`), and the open and
 * closed stage of each ticket pipeline we read (`crm_ticket_pipelines`). Set-based statements: one per step of a
 * pass, whatever the number of tickets.
 */

export interface TicketScope {
  portalId: number;
  account: string;
  livemode: boolean;
}

export interface TicketRow {
  invoiceId: string;
  customerId: string;
  pipelineId: string;
  /** HubSpot's id, once its answer (or a read by `stripe_invoice_id`) gave it. */
  ticketId: string | null;
  state: 'open' | 'closed';
  /** The properties HubSpot last got from us. */
  written: Record<string, string>;
  /** A create was sent: HubSpot may hold the ticket even without an id here. */
  attempted: boolean;
  contactId: string | null;
  companyId: string | null;
  dealId: string | null;
  /** HubSpot no longer has it (deleted there): never written again. */
  gone: boolean;
}

export async function loadTickets(db: Queryable, scope: TicketScope, customerIds: readonly string[]): Promise<Map<string, TicketRow>> {
  if (customerIds.length === 0) return new Map();
  const { rows } = await db.query<{
    invoice_id: string;
    customer_id: string;
    pipeline_id: string;
    ticket_id: string | null;
    state: 'open' | 'closed';
    written: Record<string, string>;
    attempted: boolean;
    contact_id: string | null;
    company_id: string | null;
    deal_id: string | null;
    gone: boolean;
  }>(
    `SELECT invoice_id, customer_id, pipeline_id, ticket_id, state, written, attempted_at IS NOT NULL AS attempted,
            contact_id, company_id, deal_id, gone_at IS NOT NULL AS gone
       FROM crm_tickets
      WHERE portal_id = $1 AND account_key = $2 AND livemode = $3 AND customer_id = ANY($4::text[])`,
    [scope.portalId, scope.account, scope.livemode, [...customerIds]],
  );
  return new Map(
    rows.map((r) => [
      r.invoice_id,
      {
        invoiceId: r.invoice_id,
        customerId: r.customer_id,
        pipelineId: r.pipeline_id,
        ticketId: r.ticket_id,
        state: r.state,
        written: r.written ?? {},
        attempted: r.attempted,
        contactId: r.contact_id,
        companyId: r.company_id,
        dealId: r.deal_id,
        gone: r.gone,
      },
    ]),
  );
}

/** Just before creates are sent: the rows exist and say a create was attempted (a lost answer is looked for). */
export async function recordCreating(
  db: Queryable,
  scope: TicketScope,
  items: readonly { invoiceId: string; customerId: string; pipelineId: string }[],
): Promise<void> {
  if (items.length === 0) return;
  await db.query(
    `INSERT INTO crm_tickets (portal_id, account_key, livemode, invoice_id, customer_id, pipeline_id, state, attempted_at)
     SELECT $1, $2, $3, v.invoice_id, v.customer_id, v.pipeline_id, 'open', now()
       FROM unnest($4::text[], $5::text[], $6::text[]) AS v(invoice_id, customer_id, pipeline_id)
     ON CONFLICT (portal_id, account_key, livemode, invoice_id)
     DO UPDATE SET attempted_at = now(), updated_at = now()`,
    [scope.portalId, scope.account, scope.livemode, items.map((i) => i.invoiceId), items.map((i) => i.customerId), items.map((i) => i.pipelineId)],
  );
}

/** What HubSpot now holds: the ticket's id, its state and the properties we last sent (merged into `written`). */
export async function saveWritten(
  db: Queryable,
  scope: TicketScope,
  items: readonly { invoiceId: string; ticketId: string; state: 'open' | 'closed'; sent: Record<string, string> }[],
): Promise<void> {
  if (items.length === 0) return;
  await db.query(
    `UPDATE crm_tickets t SET ticket_id = v.ticket_id, state = v.state, written = t.written || v.sent, updated_at = now()
       FROM unnest($4::text[], $5::text[], $6::text[], $7::jsonb[]) AS v(invoice_id, ticket_id, state, sent)
      WHERE t.portal_id = $1 AND t.account_key = $2 AND t.livemode = $3 AND t.invoice_id = v.invoice_id`,
    [
      scope.portalId,
      scope.account,
      scope.livemode,
      items.map((i) => i.invoiceId),
      items.map((i) => i.ticketId),
      items.map((i) => i.state),
      items.map((i) => JSON.stringify(i.sent)),
    ],
  );
}

/** The associations made: each given id replaces the one recorded (null: left as it is). */
export async function saveAssociations(
  db: Queryable,
  scope: TicketScope,
  items: readonly { invoiceId: string; contactId: string | null; companyId: string | null; dealId: string | null }[],
): Promise<void> {
  if (items.length === 0) return;
  await db.query(
    `UPDATE crm_tickets t SET contact_id = COALESCE(v.contact_id, t.contact_id), company_id = COALESCE(v.company_id, t.company_id),
            deal_id = COALESCE(v.deal_id, t.deal_id), updated_at = now()
       FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) AS v(invoice_id, contact_id, company_id, deal_id)
      WHERE t.portal_id = $1 AND t.account_key = $2 AND t.livemode = $3 AND t.invoice_id = v.invoice_id`,
    [
      scope.portalId,
      scope.account,
      scope.livemode,
      items.map((i) => i.invoiceId),
      items.map((i) => i.contactId),
      items.map((i) => i.companyId),
      items.map((i) => i.dealId),
    ],
  );
}

/** HubSpot says these tickets no longer exist (deleted there): they are left alone from now on. */
export async function markGone(db: Queryable, scope: TicketScope, invoiceIds: readonly string[]): Promise<void> {
  if (invoiceIds.length === 0) return;
  await db.query(
    `UPDATE crm_tickets SET gone_at = now(), updated_at = now()
      WHERE portal_id = $1 AND account_key = $2 AND livemode = $3 AND invoice_id = ANY($4::text[])`,
    [scope.portalId, scope.account, scope.livemode, [...invoiceIds]],
  );
}

/** Tickets whose create never landed (looked for after a lost answer, not found) and that need none now. */
export async function forgetUnmade(db: Queryable, scope: TicketScope, invoiceIds: readonly string[]): Promise<void> {
  if (invoiceIds.length === 0) return;
  await db.query(
    `DELETE FROM crm_tickets
      WHERE portal_id = $1 AND account_key = $2 AND livemode = $3 AND invoice_id = ANY($4::text[]) AND ticket_id IS NULL`,
    [scope.portalId, scope.account, scope.livemode, [...invoiceIds]],
  );
}

export interface TicketStages {
  openStage: string;
  closedStage: string;
}

export async function loadPipelineStages(db: Queryable, portalId: number, pipelineIds: readonly string[]): Promise<Map<string, TicketStages>> {
  if (pipelineIds.length === 0) return new Map();
  const { rows } = await db.query<{ pipeline_id: string; open_stage: string; closed_stage: string }>(
    `SELECT pipeline_id, open_stage, closed_stage FROM crm_ticket_pipelines WHERE portal_id = $1 AND pipeline_id = ANY($2::text[])`,
    [portalId, [...pipelineIds]],
  );
  return new Map(rows.map((r) => [r.pipeline_id, { openStage: r.open_stage, closedStage: r.closed_stage }]));
}

export async function savePipelineStages(db: Queryable, portalId: number, pipelineId: string, stages: TicketStages): Promise<void> {
  await db.query(
    `INSERT INTO crm_ticket_pipelines (portal_id, pipeline_id, open_stage, closed_stage) VALUES ($1, $2, $3, $4)
     ON CONFLICT (portal_id, pipeline_id) DO UPDATE SET open_stage = $3, closed_stage = $4, read_at = now()`,
    [portalId, pipelineId, stages.openStage, stages.closedStage],
  );
}

/** A pipeline whose stages HubSpot refused (a stage deleted since): read it again next time. */
export async function forgetPipelineStages(db: Queryable, portalId: number, pipelineIds: readonly string[]): Promise<void> {
  if (pipelineIds.length === 0) return;
  await db.query(`DELETE FROM crm_ticket_pipelines WHERE portal_id = $1 AND pipeline_id = ANY($2::text[])`, [portalId, [...pipelineIds]]);
}

/** Whether the portal has our ticket property (`portal_provisioning`, under a key of its own). */
export async function ticketPropertyProvisioned(db: Queryable, portalId: number, key: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM portal_provisioning WHERE portal_id = $1 AND definitions_hash = $2`, [portalId, key]);
  return rows.length > 0;
}

export async function recordTicketPropertyProvisioned(db: Queryable, portalId: number, key: string): Promise<void> {
  await db.query(
    `INSERT INTO portal_provisioning (portal_id, definitions_hash) VALUES ($1, $2)
     ON CONFLICT (portal_id, definitions_hash) DO UPDATE SET provisioned_at = now()`,
    [portalId, key],
  );
}

/** HubSpot says our ticket property is missing (deleted by a user): provision it again next time. */
export async function forgetTicketPropertyProvisioned(db: Queryable, portalId: number, key: string): Promise<void> {
  await db.query(`DELETE FROM portal_provisioning WHERE portal_id = $1 AND definitions_hash = $2`, [portalId, key]);
}
