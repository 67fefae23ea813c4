import { z } from 'zod';
import type { Db, Queryable } from './db';
import { markMovementsWritten } from './movements-store-read';

/**
 * Revenue movements being sent to a portal (`revenue_movement_sends`, migration 016): recorded BEFORE the call that
 * sends them, deleted once HubSpot has them (marked in the ledger's `revenue_movements_written`, in the same
 * transaction) or refused them. A row left over means the answer was lost: see jobs/crm-objects/timeline.ts for what
 * the next pass does with it. Arguments are validated: bad input throws a clear error and changes nothing.
 */

export type MovementChannel = 'timeline' | 'note';

export interface MovementSendScope {
  account: string;
  livemode: boolean;
  portalId: number;
}

export interface PendingSend {
  movementId: string;
  channel: MovementChannel;
  /** The contact it was sent to. */
  contactId: string;
  /** How many times it was sent without an answer we heard. */
  attempts: number;
}

const scopeSchema = z.object({
  account: z.string().max(255),
  livemode: z.boolean(),
  portalId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});
const idSchema = z.string().min(1).max(500);
const sendSchema = z.object({
  movementId: idSchema,
  customerId: z.string().min(1).max(255),
  channel: z.enum(['timeline', 'note']),
  contactId: z.string().min(1).max(64),
});

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`Invalid ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || what} ${i.message}`).join('; ')}`);
  return r.data;
}

/** The movements among `movementIds` that were sent to the portal and never answered. */
export async function pendingSends(db: Queryable, scope: MovementSendScope, movementIds: readonly string[]): Promise<Map<string, PendingSend>> {
  check(scopeSchema, scope, 'scope');
  const ids = check(z.array(idSchema).max(10_000), movementIds, 'movement ids');
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ movement_id: string; channel: MovementChannel; contact_id: string; attempts: number }>(
    `SELECT movement_id, channel, contact_id, attempts FROM revenue_movement_sends
      WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND movement_id = ANY($4::text[])`,
    [scope.account, scope.livemode, scope.portalId, ids],
  );
  return new Map(rows.map((r) => [r.movement_id, { movementId: r.movement_id, channel: r.channel, contactId: r.contact_id, attempts: Number(r.attempts) }]));
}

/** Records that these movements are about to be sent (again: the attempt is counted, the channel and contact kept current). */
export async function recordSending(
  db: Queryable,
  scope: MovementSendScope,
  sends: readonly { movementId: string; customerId: string; channel: MovementChannel; contactId: string }[],
): Promise<void> {
  check(scopeSchema, scope, 'scope');
  const items = check(z.array(sendSchema).max(10_000), sends, 'sends');
  if (items.length === 0) return;
  await db.query(
    `INSERT INTO revenue_movement_sends AS s (account_key, livemode, portal_id, movement_id, customer_id, channel, contact_id)
     SELECT $1, $2, $3, i.movement_id, i.customer_id, i.channel, i.contact_id
       FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) AS i(movement_id, customer_id, channel, contact_id)
     ON CONFLICT (account_key, livemode, portal_id, movement_id) DO UPDATE SET
       channel = EXCLUDED.channel, contact_id = EXCLUDED.contact_id, attempts = s.attempts + 1, last_sent_at = now()`,
    [
      scope.account,
      scope.livemode,
      scope.portalId,
      items.map((i) => i.movementId),
      items.map((i) => i.customerId),
      items.map((i) => i.channel),
      items.map((i) => i.contactId),
    ],
  );
}

/** HubSpot has these movements: marked written in the ledger (with the event's or note's id) and no longer pending. */
export async function recordWritten(db: Db, scope: MovementSendScope, written: readonly { movementId: string; hubspotId: string | null }[]): Promise<void> {
  check(scopeSchema, scope, 'scope');
  if (written.length === 0) return;
  await db.transaction(async (tx) => {
    await markMovementsWritten(tx, scope.account, scope.livemode, scope.portalId, written);
    await tx.query(
      `DELETE FROM revenue_movement_sends WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND movement_id = ANY($4::text[])`,
      [scope.account, scope.livemode, scope.portalId, written.map((w) => w.movementId)],
    );
  });
}

/** HubSpot refused these (nothing was applied): no longer pending; they are sent again with the customer's next write. */
export async function forgetSends(db: Queryable, scope: MovementSendScope, movementIds: readonly string[]): Promise<void> {
  check(scopeSchema, scope, 'scope');
  const ids = check(z.array(idSchema).max(10_000), movementIds, 'movement ids');
  if (ids.length === 0) return;
  await db.query(
    `DELETE FROM revenue_movement_sends WHERE account_key = $1 AND livemode = $2 AND portal_id = $3 AND movement_id = ANY($4::text[])`,
    [scope.account, scope.livemode, scope.portalId, ids],
  );
}
