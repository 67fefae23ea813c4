import { z } from 'zod';
import type { Queryable } from './db';
import type { Movement, MovementKind } from '../../domain/movements';

/**
 * Revenue movements, read side: what the HubSpot writer asks ("which movements of these customers are not yet
 * written to portal P", then "mark these written") and what the card shows. Retracted movements (see
 * movements-store.ts) are never listed. Arguments are validated: bad input throws a clear error and changes nothing.
 */

export const accountModeSchema = z.object({ account: z.string().max(255), livemode: z.boolean() });
export const customerIdsSchema = z.array(z.string().min(1).max(255)).max(1000);
const portalIdSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const writtenSchema = z
  .array(z.object({ movementId: z.string().min(1).max(500), hubspotId: z.string().min(1).max(255).nullable().optional() }))
  .max(1000);
const limitSchema = z.number().int().min(1).max(500);

export function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`Invalid ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || what} ${i.message}`).join('; ')}`);
  return r.data;
}

interface MovementRow {
  movement_id: string;
  customer_id: string;
  kind: string;
  occurred_at: string | number;
  currency: string | null;
  amount: string | number;
  mrr_before: string | number | null;
  mrr_after: string | number | null;
  subject_id: string;
  source_created: string | number;
  source_rank: number;
  source_event: string;
  details: Movement['details'];
}

const COLUMNS = `m.movement_id, m.customer_id, m.kind, m.occurred_at, m.currency, m.amount, m.mrr_before, m.mrr_after, m.subject_id,
  m.source_created, m.source_rank, m.source_event, m.details`;

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

function movementOf(r: MovementRow): Movement {
  return {
    id: r.movement_id,
    customerId: r.customer_id,
    kind: r.kind as MovementKind,
    occurredAt: Number(r.occurred_at),
    currency: r.currency,
    amount: Number(r.amount),
    mrrBefore: num(r.mrr_before),
    mrrAfter: num(r.mrr_after),
    subjectId: r.subject_id,
    source: { created: Number(r.source_created), rank: r.source_rank, eventId: r.source_event },
    details: r.details ?? {},
  };
}

/**
 * The movements of `customerIds` (one account and mode) not yet marked written to `portalId`, oldest first per
 * customer — what a writer sends, then marks with `markMovementsWritten`.
 */
export async function unwrittenMovements(
  db: Queryable,
  account: string,
  livemode: boolean,
  portalId: number,
  customerIds: readonly string[],
): Promise<Movement[]> {
  check(accountModeSchema, { account, livemode }, 'account and mode');
  check(portalIdSchema, portalId, 'portalId');
  const ids = check(customerIdsSchema, customerIds, 'customerIds');
  if (ids.length === 0) return [];
  const { rows } = await db.query<MovementRow>(
    `SELECT ${COLUMNS}
       FROM revenue_movements m
      WHERE m.account_key = $1 AND m.livemode = $2 AND m.customer_id = ANY($4::text[]) AND m.retracted_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM revenue_movements_written w
                         WHERE w.account_key = m.account_key AND w.livemode = m.livemode AND w.portal_id = $3 AND w.movement_id = m.movement_id)
      ORDER BY m.customer_id COLLATE "C", m.occurred_at, m.source_created, m.source_rank, m.source_event, m.movement_id`,
    [account, livemode, portalId, ids],
  );
  return rows.map(movementOf);
}

/**
 * Marks movements written to `portalId` (with the id HubSpot gave the written object, when known). Idempotent: a
 * movement already marked stays marked (its HubSpot id is filled in if it had none). Every id must be a movement of
 * that account and mode, else nothing is marked and it throws naming the unknown ids. Answers how many markers were
 * added or completed.
 */
export async function markMovementsWritten(
  db: Queryable,
  account: string,
  livemode: boolean,
  portalId: number,
  written: readonly { movementId: string; hubspotId?: string | null }[],
): Promise<number> {
  check(accountModeSchema, { account, livemode }, 'account and mode');
  check(portalIdSchema, portalId, 'portalId');
  const items = check(writtenSchema, written, 'written movements');
  const byId = new Map<string, string | null>();
  for (const w of items) byId.set(w.movementId, w.hubspotId ?? byId.get(w.movementId) ?? null);
  if (byId.size === 0) return 0;
  const { rows } = await db.query<{ written: number; unknown: string[] | null }>(
    `WITH input AS (SELECT * FROM unnest($4::text[], $5::text[]) AS i(movement_id, hubspot_id)),
     known AS (
       SELECT i.movement_id, i.hubspot_id FROM input i
         JOIN revenue_movements m ON m.account_key = $1 AND m.livemode = $2 AND m.movement_id = i.movement_id),
     ins AS (
       INSERT INTO revenue_movements_written AS w (account_key, livemode, portal_id, movement_id, hubspot_id)
       SELECT $1, $2, $3, movement_id, hubspot_id FROM known WHERE (SELECT count(*) FROM known) = $6
       ON CONFLICT (account_key, livemode, movement_id, portal_id) DO UPDATE SET hubspot_id = EXCLUDED.hubspot_id
        WHERE w.hubspot_id IS NULL AND EXCLUDED.hubspot_id IS NOT NULL
       RETURNING 1)
     SELECT (SELECT count(*) FROM ins)::int AS written,
            (SELECT array_agg(i.movement_id ORDER BY i.movement_id) FROM input i
              WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.movement_id = i.movement_id)) AS unknown`,
    [account, livemode, portalId, [...byId.keys()], [...byId.values()], byId.size],
  );
  const unknown = rows[0]?.unknown ?? [];
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 5).join(', ');
    throw new Error(`Unknown revenue movements for this account and mode, nothing marked: ${shown}${unknown.length > 5 ? ', …' : ''}`);
  }
  return Number(rows[0]?.written ?? 0);
}

/** The customer's movements, newest first, at most `limit` (1–500): what the HubSpot card shows. */
export async function movementsOf(db: Queryable, account: string, livemode: boolean, customerId: string, limit = 50): Promise<Movement[]> {
  check(accountModeSchema, { account, livemode }, 'account and mode');
  check(customerIdsSchema.element, customerId, 'customerId');
  check(limitSchema, limit, 'limit');
  const { rows } = await db.query<MovementRow>(
    `SELECT ${COLUMNS}
       FROM revenue_movements m
      WHERE m.account_key = $1 AND m.livemode = $2 AND m.customer_id = $3 AND m.retracted_at IS NULL
      ORDER BY m.occurred_at DESC, m.source_created DESC, m.source_rank DESC, m.source_event DESC, m.movement_id DESC
      LIMIT $4`,
    [account, livemode, customerId, limit],
  );
  return rows.map(movementOf);
}
