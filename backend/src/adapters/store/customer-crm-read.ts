import { z } from 'zod';
import type { Queryable } from './db';
import { MAX_MOVEMENTS, MAX_SUBSCRIPTIONS, NO_CRM_FACTS, type StoredCrmFacts } from '../../domain/crm/customer-records';

/**
 * A customer's HubSpot records and latest revenue movements, read side (domain/crm/customer-records.ts turns them
 * into what is shown): its subscriptions (`stripe_objects`) with the deal written for each in the contact's portal
 * (`hubspot_deals`), the company it belongs to there (`crm_company_members` → `crm_companies`, with a HubSpot id),
 * and its newest movements (`revenue_movements`, retracted ones left out).
 *
 * One SQL expression, to fold into a statement that already has the customer's row (the card's one prepared
 * statement; the app API's customer query): index lookups only — `stripe_objects_customer`, the deals' and
 * company members' primary keys, `revenue_movements_customer` — each bounded (25 subscriptions, 10 movements).
 */

/** SQL expressions (column references) naming the customer and the portal its contact is in. */
export interface CrmColumns {
  account: string;
  livemode: string;
  customer: string;
  /** The contact's portal; NULL: no deal or company is looked for. */
  portal: string;
}

const COLUMN = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/;

/** The expression (text, JSON) of the customer's stored CRM facts; parse it with `parseCrmFacts`. */
export function crmFactsSql(c: CrmColumns): string {
  for (const v of Object.values(c)) if (!COLUMN.test(v)) throw new Error(`crmFactsSql: not a column reference: ${v}`);
  const { account: a, livemode: l, customer: cu, portal: p } = c;
  const subOrder = `s.live DESC, s.at DESC, s.object_id COLLATE "C" DESC`;
  const mvOrder = `m.occurred_at DESC, m.source_created DESC, m.source_rank DESC, m.source_event DESC, m.movement_id DESC`;
  return `json_build_object(
    's', (SELECT coalesce(json_agg(json_build_object(
              'id', s.object_id, 'status', s.data->'status', 'plan', s.data->'plan', 'mrr', s.data->'mrr',
              'currency', s.data->'currency', 'currentPeriodEnd', s.data->'currentPeriodEnd',
              'cancelAtPeriodEnd', s.data->'cancelAtPeriodEnd', 'at', s.at,
              'dealId', (SELECT d.deal_id FROM hubspot_deals d
                          WHERE d.account_key = ${a} AND d.livemode = ${l} AND d.portal_id = ${p} AND d.deal_key = s.object_id))
            ORDER BY ${subOrder}), '[]'::json)
            FROM (SELECT o.object_id, o.data, (o.data->>'status') IN ('active', 'trialing', 'past_due', 'unpaid') AS live,
                         COALESCE(CASE WHEN jsonb_typeof(o.data->'created') = 'number' THEN (o.data->>'created')::numeric END,
                                  o.version_created) AS at
                    FROM stripe_objects o
                   WHERE o.account_key = ${a} AND o.livemode = ${l} AND o.customer_id = ${cu} AND o.kind = 'subscription'
                   ORDER BY 3 DESC, 4 DESC, o.object_id COLLATE "C" DESC
                   LIMIT ${MAX_SUBSCRIPTIONS}) s),
    'c', (SELECT json_build_object('companyId', co.company_id, 'key', co.company_key, 'writtenName', co.written->>'name',
                   'businessName', (SELECT b.data->>'businessName' FROM stripe_objects b
                                     WHERE b.account_key = ${a} AND b.livemode = ${l} AND b.kind = 'customer' AND b.object_id = ${cu}))
            FROM crm_company_members cm
            JOIN crm_companies co ON co.account_key = cm.account_key AND co.livemode = cm.livemode AND co.portal_id = cm.portal_id
                                 AND co.company_key = cm.company_key
           WHERE cm.account_key = ${a} AND cm.livemode = ${l} AND cm.customer_id = ${cu} AND cm.portal_id = ${p}
             AND co.company_id IS NOT NULL),
    'm', (SELECT coalesce(json_agg(json_build_object(
              'id', m.movement_id, 'kind', m.kind, 'occurredAt', m.occurred_at, 'amount', m.amount, 'currency', m.currency,
              'mrrBefore', m.mrr_before, 'mrrAfter', m.mrr_after) ORDER BY ${mvOrder}), '[]'::json)
            FROM (SELECT m.movement_id, m.kind, m.occurred_at, m.amount, m.currency, m.mrr_before, m.mrr_after,
                         m.source_created, m.source_rank, m.source_event
                    FROM revenue_movements m
                   WHERE m.account_key = ${a} AND m.livemode = ${l} AND m.customer_id = ${cu} AND m.retracted_at IS NULL
                   ORDER BY ${mvOrder}
                   LIMIT ${MAX_MOVEMENTS}) m)
  )::text`;
}

const factsSchema = z.object({
  s: z.array(
    z.object({
      id: z.string(),
      status: z.unknown(),
      plan: z.unknown(),
      mrr: z.unknown(),
      currency: z.unknown(),
      currentPeriodEnd: z.unknown(),
      cancelAtPeriodEnd: z.unknown(),
      at: z.unknown(),
      dealId: z.string().nullable(),
    }),
  ),
  c: z.object({ companyId: z.string(), key: z.string(), writtenName: z.string().nullable(), businessName: z.string().nullable() }).nullable(),
  m: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      occurredAt: z.unknown(),
      amount: z.unknown(),
      currency: z.unknown(),
      mrrBefore: z.unknown(),
      mrrAfter: z.unknown(),
    }),
  ),
});

/** The facts `crmFactsSql` read (none when the customer has no row: null). Throws on text that is not its shape. */
export function parseCrmFacts(text: string | null | undefined): StoredCrmFacts {
  if (text === null || text === undefined) return NO_CRM_FACTS;
  const parsed = factsSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`Unexpected CRM facts from the database: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const { s, c, m } = parsed.data;
  return { subscriptions: s, company: c, movements: m };
}

/** The facts of one customer, on their own (tests, and callers without a statement to fold them into). */
export async function crmFactsOf(db: Queryable, account: string, livemode: boolean, customerId: string, portalId: number | null): Promise<StoredCrmFacts> {
  const { rows } = await db.query<{ facts: string }>(
    `SELECT ${crmFactsSql({ account: 'k.account_key', livemode: 'k.livemode', customer: 'k.customer_id', portal: 'k.portal_id' })} AS facts
       FROM (SELECT $1::text AS account_key, $2::boolean AS livemode, $3::text AS customer_id, $4::bigint AS portal_id) k`,
    [account, livemode, customerId, portalId],
  );
  return parseCrmFacts(rows[0]?.facts);
}
