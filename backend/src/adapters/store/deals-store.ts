import type { Queryable } from './db';
import type { DealStageKey } from '../../domain/crm/deal-stages';

/**
 * The HubSpot deals we made or found (`hubspot_deals`, per portal) and what each portal was provisioned with for
 * deals (`hubspot_deal_setup`). Migration 014.
 */

export interface StoredDeal {
  dealKey: string;
  customerId: string;
  kind: 'subscription' | 'checkout';
  dealId: string;
  /** Hash of the properties last written; null when not known (written again). */
  writtenHash: string | null;
  contactId: string | null;
  companyId: string | null;
}

interface DealRow {
  deal_key: string;
  customer_id: string;
  kind: 'subscription' | 'checkout';
  deal_id: string;
  written_hash: string | null;
  contact_id: string | null;
  company_id: string | null;
}

const fromRow = (r: DealRow): StoredDeal => ({
  dealKey: r.deal_key,
  customerId: r.customer_id,
  kind: r.kind,
  dealId: r.deal_id,
  writtenHash: r.written_hash,
  contactId: r.contact_id,
  companyId: r.company_id,
});

/** The deals of these customers in that portal, by deal key. */
export async function loadDeals(
  db: Queryable,
  account: string,
  livemode: boolean,
  portalId: number,
  customerIds: readonly string[],
): Promise<Map<string, StoredDeal>> {
  if (customerIds.length === 0) return new Map();
  const { rows } = await db.query<DealRow>(
    `SELECT deal_key, customer_id, kind, deal_id, written_hash, contact_id, company_id
       FROM hubspot_deals
      WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND customer_id = ANY($4::text[])`,
    [account, livemode, portalId, [...customerIds]],
  );
  return new Map(rows.map((r) => [r.deal_key, fromRow(r)]));
}

/** Records deals (inserted, or replaced by deal key), in one statement. */
export async function saveDeals(db: Queryable, account: string, livemode: boolean, portalId: number, deals: readonly StoredDeal[]): Promise<void> {
  if (deals.length === 0) return;
  await db.query(
    `INSERT INTO hubspot_deals (account_key, livemode, portal_id, deal_key, customer_id, kind, deal_id, written_hash, contact_id, company_id)
     SELECT $1, $2, $3, d.deal_key, d.customer_id, d.kind, d.deal_id, d.written_hash, d.contact_id, d.company_id
       FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
         AS d(deal_key, customer_id, kind, deal_id, written_hash, contact_id, company_id)
       JOIN customers c ON c.account_key = $1 AND c.livemode = $2 AND c.customer_id = d.customer_id
     ON CONFLICT (account_key, livemode, portal_id, deal_key) DO UPDATE
        SET customer_id = EXCLUDED.customer_id, kind = EXCLUDED.kind, deal_id = EXCLUDED.deal_id,
            written_hash = EXCLUDED.written_hash, contact_id = EXCLUDED.contact_id, company_id = EXCLUDED.company_id,
            updated_at = now()`,
    [
      account,
      livemode,
      portalId,
      deals.map((d) => d.dealKey),
      deals.map((d) => d.customerId),
      deals.map((d) => d.kind),
      deals.map((d) => d.dealId),
      deals.map((d) => d.writtenHash),
      deals.map((d) => d.contactId),
      deals.map((d) => d.companyId),
    ],
  );
}

/** Forgets deals HubSpot no longer has (deleted there): the next pass looks them up again by their key. */
export async function forgetDeals(db: Queryable, account: string, livemode: boolean, portalId: number, dealKeys: readonly string[]): Promise<void> {
  if (dealKeys.length === 0) return;
  await db.query(
    `DELETE FROM hubspot_deals WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND deal_key = ANY($4::text[])`,
    [account, livemode, portalId, [...dealKeys]],
  );
}

export interface CustomerDeal {
  /** The Stripe subscription (or one-off Checkout session) id. */
  subscriptionId: string;
  kind: 'subscription' | 'checkout';
  dealId: string;
  portalId: number;
}

/** A customer's HubSpot deals, in every portal it was written to (for the card and the Stripe App's links). */
export async function dealsOf(db: Queryable, account: string, livemode: boolean, customerId: string): Promise<CustomerDeal[]> {
  const { rows } = await db.query<{ deal_key: string; kind: 'subscription' | 'checkout'; deal_id: string; portal_id: string | number }>(
    `SELECT deal_key, kind, deal_id, portal_id FROM hubspot_deals
      WHERE account_key = $1 AND livemode = $2 AND customer_id = $3
      ORDER BY portal_id, deal_key`,
    [account, livemode, customerId],
  );
  return rows.map((r) => ({ subscriptionId: r.deal_key, kind: r.kind, dealId: r.deal_id, portalId: Number(r.portal_id) }));
}

export interface DealSetup {
  portalId: number;
  propertiesHash: string | null;
  pipelineId: string | null;
  stageIds: Partial<Record<DealStageKey, string>> | null;
  /** True when HubSpot's default pipeline stands in for ours. */
  fallback: boolean;
  /** Upper-case codes the portal accepts as deal_currency_code. */
  currencies: string[];
  currenciesCheckedAt: Date | null;
  /** Why deals cannot be written in this portal now (null: they can). */
  problem: string | null;
  checkedAt: Date;
}

export async function loadDealSetup(db: Queryable, portalId: number): Promise<DealSetup | null> {
  const { rows } = await db.query<{
    properties_hash: string | null;
    pipeline_id: string | null;
    stage_ids: Partial<Record<DealStageKey, string>> | string | null;
    fallback: boolean;
    currencies: string[] | null;
    currencies_checked_at: Date | string | null;
    problem: string | null;
    checked_at: Date | string;
  }>(
    `SELECT properties_hash, pipeline_id, stage_ids, fallback, currencies, currencies_checked_at, problem, checked_at
       FROM hubspot_deal_setup WHERE portal_id = $1`,
    [portalId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    portalId,
    propertiesHash: r.properties_hash,
    pipelineId: r.pipeline_id,
    stageIds: typeof r.stage_ids === 'string' ? (JSON.parse(r.stage_ids) as Partial<Record<DealStageKey, string>>) : r.stage_ids,
    fallback: r.fallback,
    currencies: r.currencies ?? [],
    currenciesCheckedAt: r.currencies_checked_at === null ? null : new Date(r.currencies_checked_at),
    problem: r.problem,
    checkedAt: new Date(r.checked_at),
  };
}

/** Saves what a provisioning run found (`checked_at` is the database's now). */
export async function saveDealSetup(db: Queryable, s: Omit<DealSetup, 'checkedAt'>): Promise<void> {
  await db.query(
    `INSERT INTO hubspot_deal_setup (portal_id, properties_hash, pipeline_id, stage_ids, fallback, currencies, currencies_checked_at, problem, checked_at)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6::text[], $7, $8, now())
     ON CONFLICT (portal_id) DO UPDATE
        SET properties_hash = EXCLUDED.properties_hash, pipeline_id = EXCLUDED.pipeline_id, stage_ids = EXCLUDED.stage_ids,
            fallback = EXCLUDED.fallback, currencies = EXCLUDED.currencies, currencies_checked_at = EXCLUDED.currencies_checked_at,
            problem = EXCLUDED.problem, checked_at = now()`,
    [
      s.portalId,
      s.propertiesHash,
      s.pipelineId,
      s.stageIds === null ? null : JSON.stringify(s.stageIds),
      s.fallback,
      s.currencies,
      s.currenciesCheckedAt,
      s.problem,
    ],
  );
}
