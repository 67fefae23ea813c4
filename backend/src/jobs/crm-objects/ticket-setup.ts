import { createHash } from 'node:crypto';
import { PROPERTY_GROUP } from '@stripe-hubspot-sync/contracts';
import { ensureTicketProperty as provisionTicketProperty, ticketPipelineStages, type TicketPropertyDefinition } from '../../adapters/hubspot/tickets';
import { savePropertyProblems } from '../../adapters/store/connection-health';
import {
  loadPipelineStages,
  recordTicketPropertyProvisioned,
  savePipelineStages,
  ticketPropertyProvisioned,
  type TicketStages,
} from '../../adapters/store/tickets-store';
import { TICKET_KEY_PROPERTY } from '../../domain/crm/tickets';
import type { ObjectWriterContext } from './stage';

/**
 * What a portal needs before tickets are written, provisioned once and remembered in the database: our unique
 * ticket property `stripe_invoice_id` in a "Stripe" group on tickets, and the open and closed stage of each ticket
 * pipeline used (read through the pipelines API). A portal where either cannot be had answers why, in words a
 * merchant can act on; nothing is written for its tickets then.
 */

export const TICKET_PROPERTY: TicketPropertyDefinition = {
  name: TICKET_KEY_PROPERTY,
  label: 'Stripe invoice ID',
  description: 'The Stripe invoice this ticket is about (one ticket per failed invoice).',
  type: 'string',
  fieldType: 'text',
  hasUniqueValue: true,
};

/** The key the provisioning is remembered under in `portal_provisioning`. */
export const TICKET_PROPERTY_KEY = `tickets:${createHash('sha256').update(JSON.stringify(TICKET_PROPERTY)).digest('hex').slice(0, 24)}`;

/** Null when the portal has our ticket property; else why not. */
export async function ensureTicketProperty(ctx: ObjectWriterContext): Promise<string | null> {
  const portalId = ctx.portal.portalId;
  if (await ticketPropertyProvisioned(ctx.db, portalId, TICKET_PROPERTY_KEY)) return null;
  const problem = await provisionTicketProperty(ctx.portal, PROPERTY_GROUP, TICKET_PROPERTY);
  if (problem) return `HubSpot would not provide the ticket property ${TICKET_PROPERTY.name}: ${problem}`;
  await recordTicketPropertyProvisioned(ctx.db, portalId, TICKET_PROPERTY_KEY);
  return null;
}

/** The stages of each pipeline (read from HubSpot the first time), or why the pipeline cannot take our tickets. */
export async function pipelineStages(ctx: ObjectWriterContext, pipelineIds: readonly string[]): Promise<Map<string, TicketStages | { problem: string }>> {
  const portalId = ctx.portal.portalId;
  const wanted = [...new Set(pipelineIds)];
  const out = new Map<string, TicketStages | { problem: string }>(await loadPipelineStages(ctx.db, portalId, wanted));
  for (const id of wanted.filter((p) => !out.has(p))) {
    const stages = await ticketPipelineStages(ctx.portal, id);
    if (!stages) {
      out.set(id, { problem: `HubSpot portal ${portalId} has no ticket pipeline with ID ${id} (the tickets settings name it)` });
    } else if (!stages.openStage || !stages.closedStage) {
      const missing = stages.openStage ? 'closed' : 'open';
      out.set(id, { problem: `The HubSpot ticket pipeline ${id} has no ${missing} stage to put tickets in` });
    } else {
      const found = { openStage: stages.openStage, closedStage: stages.closedStage };
      await savePipelineStages(ctx.db, portalId, id, found);
      out.set(id, found);
    }
  }
  return out;
}

/** HubSpot's default support pipeline, used when the merchant names none. */
export const DEFAULT_TICKET_PIPELINE = '0';

/** The name tickets' setup problems are shown under with the connection (`hubspot_property_problems`). */
const PROBLEM = 'tickets';

/**
 * Why tickets cannot be written in this portal (missing scope, property refused, pipeline missing), shown with the
 * connection in the Stripe App. Contacts and the other records are written meanwhile.
 */
export async function recordTicketProblem(ctx: ObjectWriterContext, category: string, message: string): Promise<void> {
  ctx.logger.warn({ portalId: ctx.portal.portalId, category }, 'tickets cannot be written in this HubSpot portal');
  await savePropertyProblems(ctx.db, ctx.portal.portalId, [], [{ name: PROBLEM, category, message }]);
}

/** Tickets were written: a problem shown before is over. */
export async function clearTicketProblem(ctx: ObjectWriterContext): Promise<void> {
  await savePropertyProblems(ctx.db, ctx.portal.portalId, [PROBLEM], []);
}

/** The problem when HubSpot refuses the tickets API for want of a scope (an install made before tickets existed). */
export function missingScopesProblem(message: string): string {
  return `HubSpot has not granted this connection the tickets scope: reconnect HubSpot to sync tickets (${message})`;
}
