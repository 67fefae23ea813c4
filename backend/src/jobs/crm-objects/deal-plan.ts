import { createHash } from 'node:crypto';
import type { StoredDeal } from '../../adapters/store/deals-store';
import { DEAL_KEY_PROPERTY, type DesiredDeal } from '../../domain/crm/deals';
import type { UsableDealSetup } from './deal-provisioning';

/**
 * One pass's deals, compared with what we last wrote: which deals are unknown (created; read by their unique key
 * when HubSpot says one exists), which changed (updated), which need their contact or company associated anew. A
 * deal whose properties hash and associations are as last written is not in any list: a pass where nothing changed
 * makes no call.
 */

export interface PlannedDeal {
  customerId: string;
  contactId: string;
  /** The customer's company this pass (from the companies writer), or null when it gave none. */
  companyId: string | null;
  deal: DesiredDeal;
  /** The HubSpot properties to write, pipeline and stage included. */
  properties: Record<string, string>;
  hash: string;
  stored: StoredDeal | undefined;
}

export interface DealPlan {
  all: PlannedDeal[];
  /** No deal known for the key: create it (read by its key only when HubSpot says it exists). */
  unknown: PlannedDeal[];
  /** Known, with other properties than last written. */
  changed: PlannedDeal[];
  /** Known, properties as written, but the contact or company to associate differs. */
  relink: PlannedDeal[];
}

export function planDeals(
  wanted: { customerId: string; contactId: string; companyId: string | null; deal: DesiredDeal }[],
  stored: Map<string, StoredDeal>,
  setup: UsableDealSetup,
): DealPlan {
  const plan: DealPlan = { all: [], unknown: [], changed: [], relink: [] };
  for (const w of wanted) {
    const properties = hubspotProperties(w.deal, setup);
    const p: PlannedDeal = { ...w, properties, hash: hashOf(properties), stored: stored.get(w.deal.key) };
    plan.all.push(p);
    if (!p.stored) plan.unknown.push(p);
    else if (p.stored.writtenHash !== p.hash) plan.changed.push(p);
    else if (needsLinks(p)) plan.relink.push(p);
  }
  return plan;
}

/** The deal's properties as HubSpot gets them: ours, the pipeline and stage, and the currency when the portal has it. */
export function hubspotProperties(deal: DesiredDeal, setup: UsableDealSetup): Record<string, string> {
  return {
    ...deal.properties,
    pipeline: setup.pipelineId,
    dealstage: setup.stageIds[deal.stage],
    ...(deal.currency && setup.currencies.has(deal.currency) ? { deal_currency_code: deal.currency } : {}),
  };
}

export function hashOf(properties: Record<string, string>): string {
  const sorted = Object.keys(properties)
    .sort()
    .map((k) => [k, properties[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 32);
}

/** Whether the deal's contact, or a company known this pass, differs from the ones we associated. */
export function needsLinks(p: PlannedDeal): boolean {
  return p.stored?.contactId !== p.contactId || (p.companyId !== null && p.stored?.companyId !== p.companyId);
}

export function keyPropertyOf(p: PlannedDeal): string {
  return DEAL_KEY_PROPERTY[p.deal.kind];
}
