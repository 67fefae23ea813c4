import type { Logger } from 'pino';
import type { SyncSettings } from '@stripe-hubspot-sync/contracts';
import type { Db } from '../adapters/store/db';
import { PermanentHubSpotError, RetryableHubSpotError, asConnectionFailure, retryCategory } from '../adapters/hubspot/errors';
import { AmbiguousWriteError } from '../adapters/hubspot/write-once';
import {
  markTaskAttempted,
  pendingTasks,
  recordTaskIntents,
  recordTaskMade,
  recordTaskRefused,
  type PendingTask,
  type TaskScope,
} from '../adapters/store/failed-payment-tasks-store';
import { failedPaymentTask } from '../domain/sync/contact-write';
import type { CrmGateway, ObjectOutcome, WrittenContact } from '../domain/sync/ports';

/**
 * The failed-payment task of each failure, exactly once. HubSpot tasks have no property we could make unique in
 * every portal, so the database keeps the idempotency: the task (content and due time) is recorded for its failure
 * before HubSpot is asked, marked attempted just before the create is sent, and given HubSpot's id when the answer
 * comes. A create whose answer was lost (a network failure or 5xx after HubSpot may have applied it) is never sent
 * again blindly: the customer is tried again later (`permanent: false`), and that pass first looks for the task on
 * the contact — the tasks associated with it, read in batches, matched by subject and due time — and creates it
 * only when it is not there. A refusal (4xx) is recorded, never asked again, and answered as permanent (a dead
 * letter). A refused connection is thrown, as every HubSpot call of the pass does.
 */

export const TASK_DUE_IN_MS = 86_400_000;
/** How far a found task's due time may be from ours (HubSpot may keep datetimes to the second). */
const DUE_TOLERANCE_MS = 1000;
const LABEL = 'failed-payment task';

export interface FailedPaymentTaskDeps {
  db: Db;
  logger: Logger;
}

export async function writeFailedPaymentTasks(
  deps: FailedPaymentTaskDeps,
  gw: CrmGateway,
  settings: SyncSettings,
  scopeOf: { account: string; livemode: boolean },
  contacts: readonly WrittenContact[],
  now: number = Date.now(),
): Promise<Map<string, ObjectOutcome>> {
  const outcomes = new Map<string, ObjectOutcome>();
  if (!settings.options.createTaskOnFailure || contacts.length === 0) return outcomes;
  const scope: TaskScope = { portalId: gw.portalId, ...scopeOf };
  const dueAtMs = Math.floor((now + TASK_DUE_IN_MS) / 1000) * 1000;
  const intents = contacts.flatMap((c) => {
    const task = failedPaymentTask(c.status, c.syncedStatus, settings);
    return task ? [{ customerId: c.customerId, failureKey: task.key, contactId: c.contactId, subject: task.subject, body: task.body, dueAtMs }] : [];
  });
  await recordTaskIntents(deps.db, scope, intents);
  const pending = await pendingTasks(deps.db, scope, contacts.map((c) => c.customerId));
  if (pending.length === 0) return outcomes;

  const toCreate = await notFoundOnContacts(deps, gw, scope, pending, outcomes);
  for (const t of toCreate) {
    const prior = outcomes.get(t.customerId);
    if (prior && !prior.ok && !prior.permanent) continue; // this customer is tried again anyway: the rest wait with it
    await markTaskAttempted(deps.db, scope, t);
    try {
      const { id } = await gw.createTask(t.contactId, { subject: t.subject, body: t.body, dueAt: new Date(t.dueAtMs) });
      await recordTaskMade(deps.db, scope, t, id);
    } catch (err) {
      const o = failure(err);
      if (o.permanent) await recordTaskRefused(deps.db, scope, t, o.message);
      outcomes.set(t.customerId, { ...o, message: `${LABEL}: ${o.message}` });
      deps.logger.warn({ customerId: t.customerId, portalId: scope.portalId, category: o.category }, 'failed-payment task not created');
    }
  }
  return outcomes;
}

/**
 * Tasks whose create was sent before are looked for on their contacts first: those found get their id, the rest
 * are answered to be created (with the ones never sent).
 */
async function notFoundOnContacts(
  deps: FailedPaymentTaskDeps,
  gw: CrmGateway,
  scope: TaskScope,
  pending: PendingTask[],
  outcomes: Map<string, ObjectOutcome>,
): Promise<PendingTask[]> {
  const sent = pending.filter((t) => t.attempted);
  if (sent.length === 0) return pending;
  let onContacts: Awaited<ReturnType<CrmGateway['findTasks']>>;
  try {
    onContacts = await gw.findTasks([...new Set(sent.map((t) => t.contactId))]);
  } catch (err) {
    const o = failure(err);
    for (const t of sent) outcomes.set(t.customerId, { ...o, message: `${LABEL}: looking for a task whose answer was lost: ${o.message}` });
    return pending.filter((t) => !t.attempted);
  }
  const left: PendingTask[] = [];
  for (const t of pending) {
    const found = t.attempted
      ? onContacts.get(t.contactId)?.find((x) => x.subject === t.subject && x.dueAtMs !== null && Math.abs(x.dueAtMs - t.dueAtMs) < DUE_TOLERANCE_MS)
      : undefined;
    if (found) {
      await recordTaskMade(deps.db, scope, t, found.id);
      deps.logger.info({ customerId: t.customerId, portalId: scope.portalId, taskId: found.id }, 'failed-payment task found after a lost answer');
    } else {
      left.push(t);
    }
  }
  return left;
}

function failure(err: unknown): Extract<ObjectOutcome, { ok: false }> {
  if (err instanceof AmbiguousWriteError) return { ok: false, permanent: false, message: err.message, category: 'ANSWER_LOST' };
  if (err instanceof RetryableHubSpotError) return { ok: false, permanent: false, message: err.message, category: retryCategory(err.reason) };
  const refused = asConnectionFailure(err);
  if (refused) throw refused;
  if (err instanceof PermanentHubSpotError) return { ok: false, permanent: true, message: err.message, category: err.category };
  throw err;
}

/** The customer's outcome with its task's: a failure that may pass outweighs one that will not. */
export function withTaskOutcome(objects: ObjectOutcome | undefined, task: ObjectOutcome | undefined): ObjectOutcome | undefined {
  if (!task || task.ok) return objects;
  if (!objects || objects.ok) return task;
  return {
    ok: false,
    permanent: objects.permanent && task.permanent,
    message: `${objects.message}; ${task.message}`,
    category: objects.permanent && !task.permanent ? task.category : objects.category,
  };
}
