import type { Queryable } from './db';

/**
 * The failed-payment tasks of each portal (`failed_payment_tasks`, migration 015): one row per (customer, failure),
 * recorded with the task's content before HubSpot is asked, so a lost answer never makes a second task.
 */

export interface TaskScope {
  portalId: number;
  account: string;
  livemode: boolean;
}

export interface TaskIntent {
  customerId: string;
  failureKey: string;
  contactId: string;
  subject: string;
  body: string;
  dueAtMs: number;
}

export interface PendingTask extends TaskIntent {
  /** A create was sent before: HubSpot may hold the task. */
  attempted: boolean;
}

/** Records the tasks to make (a failure already recorded keeps its first row: content, due time and all). */
export async function recordTaskIntents(db: Queryable, scope: TaskScope, intents: readonly TaskIntent[]): Promise<void> {
  if (intents.length === 0) return;
  await db.query(
    `INSERT INTO failed_payment_tasks (portal_id, account_key, livemode, customer_id, failure_key, contact_id, subject, body, due_at_ms)
     SELECT $1, $2, $3, v.customer_id, v.failure_key, v.contact_id, v.subject, v.body, v.due_at_ms
       FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])
         AS v(customer_id, failure_key, contact_id, subject, body, due_at_ms)
     ON CONFLICT DO NOTHING`,
    [
      scope.portalId,
      scope.account,
      scope.livemode,
      intents.map((i) => i.customerId),
      intents.map((i) => i.failureKey),
      intents.map((i) => i.contactId),
      intents.map((i) => i.subject),
      intents.map((i) => i.body),
      intents.map((i) => i.dueAtMs),
    ],
  );
}

/** Tasks of these customers not made yet and not refused, oldest failure first. */
export async function pendingTasks(db: Queryable, scope: TaskScope, customerIds: readonly string[]): Promise<PendingTask[]> {
  if (customerIds.length === 0) return [];
  const { rows } = await db.query<{
    customer_id: string;
    failure_key: string;
    contact_id: string;
    subject: string;
    body: string;
    due_at_ms: string | number;
    attempted: boolean;
  }>(
    `SELECT customer_id, failure_key, contact_id, subject, body, due_at_ms, attempted_at IS NOT NULL AS attempted
       FROM failed_payment_tasks
      WHERE portal_id = $1 AND account_key = $2 AND livemode = $3 AND customer_id = ANY($4::text[])
        AND task_id IS NULL AND refused IS NULL
      ORDER BY customer_id, created_at, failure_key`,
    [scope.portalId, scope.account, scope.livemode, [...customerIds]],
  );
  return rows.map((r) => ({
    customerId: r.customer_id,
    failureKey: r.failure_key,
    contactId: r.contact_id,
    subject: r.subject,
    body: r.body,
    dueAtMs: Number(r.due_at_ms),
    attempted: r.attempted,
  }));
}

type Key = Pick<TaskIntent, 'customerId' | 'failureKey'>;

/** Just before the create is sent: from now on HubSpot may hold the task. */
export async function markTaskAttempted(db: Queryable, scope: TaskScope, t: Key): Promise<void> {
  await db.query(
    `UPDATE failed_payment_tasks SET attempted_at = now()
      WHERE portal_id = $1 AND account_key = $2 AND livemode = $3 AND customer_id = $4 AND failure_key = $5`,
    [scope.portalId, scope.account, scope.livemode, t.customerId, t.failureKey],
  );
}

/** HubSpot's id of the task (from its answer, or found on the contact after a lost answer). */
export async function recordTaskMade(db: Queryable, scope: TaskScope, t: Key, taskId: string): Promise<void> {
  await db.query(
    `UPDATE failed_payment_tasks SET task_id = $6
      WHERE portal_id = $1 AND account_key = $2 AND livemode = $3 AND customer_id = $4 AND failure_key = $5`,
    [scope.portalId, scope.account, scope.livemode, t.customerId, t.failureKey, taskId],
  );
}

/** HubSpot refused the task for good: it is not asked again. */
export async function recordTaskRefused(db: Queryable, scope: TaskScope, t: Key, message: string): Promise<void> {
  await db.query(
    `UPDATE failed_payment_tasks SET refused = $6
      WHERE portal_id = $1 AND account_key = $2 AND livemode = $3 AND customer_id = $4 AND failure_key = $5`,
    [scope.portalId, scope.account, scope.livemode, t.customerId, t.failureKey, message],
  );
}
