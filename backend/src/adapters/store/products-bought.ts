import type { ProductBought } from '@stripe-hubspot-sync/contracts';
import type { Queryable } from './db';

/**
 * Every product the customers of one account (in one mode) bought, read from their read models
 * (`customers.status->'productsBought'`), each with the newest name a Stripe payload gave it: the options the
 * products-bought multi-select must offer. One statement; it reads every customer of the account, so callers
 * keep the answer a while (jobs/product-options.ts).
 */
export async function accountProducts(db: Queryable, account: string, livemode: boolean): Promise<ProductBought[]> {
  const { rows } = await db.query<{ id: string; name: string | null; named_at: string | number | null }>(
    `SELECT p.id,
            (array_agg(p.name ORDER BY p.named_at DESC NULLS LAST, p.name COLLATE "C" DESC) FILTER (WHERE p.name <> ''))[1] AS name,
            max(p.named_at) FILTER (WHERE p.name <> '') AS named_at
       FROM customers c
      CROSS JOIN LATERAL (
        SELECT e->>'id' AS id, e->>'name' AS name,
               CASE WHEN jsonb_typeof(e->'namedAt') = 'number' THEN (e->>'namedAt')::double precision END AS named_at
          FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c.status->'productsBought') = 'array'
                                         THEN c.status->'productsBought' ELSE '[]'::jsonb END) AS e
      ) AS p
      WHERE c.account_key = $1 AND c.livemode = $2 AND coalesce(p.id, '') <> ''
      GROUP BY p.id
      ORDER BY p.id COLLATE "C"`,
    [account, livemode],
  );
  return rows.map((r) =>
    r.name ? { id: r.id, name: r.name, ...(r.named_at !== null ? { namedAt: Number(r.named_at) } : {}) } : { id: r.id, name: null },
  );
}
