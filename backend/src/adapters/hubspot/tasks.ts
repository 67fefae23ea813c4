import type { SimplePublicObjectInputForCreate } from '@hubspot/api-client/lib/codegen/crm/objects/tasks';
import type { HubSpotPortal } from './portal';
import { writeOnce } from './write-once';

/**
 * A HubSpot task on a contact (crm-objects-v3 `POST /crm/v3/objects/tasks`), associated with the
 * HUBSPOT_DEFINED task→contact association type 204. HubSpot lists the contacts scopes
 * (`crm.objects.contacts.write`) for creating tasks; there is no separate tasks write scope.
 *
 * Creating a task is not idempotent, and tasks have no property we could make unique in every portal (HubSpot
 * documents custom unique properties for contacts, companies, deals, tickets and custom objects, not for
 * activities). So a create is sent at most once per call (`writeOnce`: after a 5xx or a network failure it
 * throws `AmbiguousWriteError` instead of being retried), and the caller, who recorded the task before asking,
 * finds it afterwards with `tasksOnContacts` (associations and batch reads: consistent, unlike search).
 */

export const TASK_TO_CONTACT_ASSOCIATION_TYPE = 204;

export interface TaskInput {
  subject: string;
  body: string;
  dueAt: Date;
  /** HIGH | MEDIUM | LOW; default HIGH. */
  priority?: 'HIGH' | 'MEDIUM' | 'LOW';
  ownerId?: string;
}

/** A task as found on a contact: enough to recognise one we created. */
export interface FoundTask {
  id: string;
  subject: string | null;
  /** `hs_timestamp` (the due time) in epoch ms, null when HubSpot gives none or an unreadable one. */
  dueAtMs: number | null;
}

/** Creates the task; throws `AmbiguousWriteError` when HubSpot may have made it without our hearing. */
export async function createTask(portal: HubSpotPortal, contactId: string, task: TaskInput): Promise<{ id: string }> {
  const input = {
    properties: {
      hs_timestamp: String(task.dueAt.getTime()),
      hs_task_subject: task.subject,
      hs_task_body: task.body,
      hs_task_status: 'NOT_STARTED',
      hs_task_priority: task.priority ?? 'HIGH',
      hs_task_type: 'TODO',
      ...(task.ownerId ? { hubspot_owner_id: task.ownerId } : {}),
    },
    associations: [
      {
        to: { id: contactId },
        types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: TASK_TO_CONTACT_ASSOCIATION_TYPE }],
      },
    ],
  } as unknown as SimplePublicObjectInputForCreate;
  const created = await portal.call(
    'crm',
    'tasks.create',
    writeOnce('tasks.create', (c, sdk) => c.crm.objects.tasks.basicApi.create(input, sdk)),
  );
  return { id: created.id };
}

const BATCH = 100;
/** Pages of one contact's task associations we follow (500 a page): enough for any contact a person works. */
const MAX_PAGES = 10;

/**
 * The tasks associated with each contact: contact id → tasks (subject and due time). Contacts without tasks (or
 * that no longer exist) are absent. Two batch calls per 100 contacts and per 100 tasks.
 */
export async function tasksOnContacts(portal: HubSpotPortal, contactIds: string[]): Promise<Map<string, FoundTask[]>> {
  const taskIdsOf = new Map<string, string[]>();
  let inputs = [...new Set(contactIds)].map((id) => ({ id }) as { id: string; after?: string });
  for (let page = 0; inputs.length > 0 && page < MAX_PAGES; page++) {
    const next: { id: string; after: string }[] = [];
    for (let i = 0; i < inputs.length; i += BATCH) {
      const chunk = inputs.slice(i, i + BATCH);
      const answer = await portal.call('crm', 'associations.contacts.tasks.batch.read', (c, sdk) =>
        c.crm.associations.v4.batchApi.getPage('contacts', 'tasks', { inputs: chunk }, sdk),
      );
      for (const r of answer.results) {
        const from = String(r._from.id);
        taskIdsOf.set(from, [...(taskIdsOf.get(from) ?? []), ...r.to.map((t) => String(t.toObjectId))]);
        if (r.paging?.next?.after) next.push({ id: from, after: r.paging.next.after });
      }
    }
    inputs = next;
  }

  const allIds = [...new Set([...taskIdsOf.values()].flat())];
  const tasks = new Map<string, FoundTask>();
  for (let i = 0; i < allIds.length; i += BATCH) {
    const chunk = allIds.slice(i, i + BATCH);
    const answer = await portal.call('crm', 'tasks.batch.read', (c, sdk) =>
      c.crm.objects.tasks.batchApi.read(
        { inputs: chunk.map((id) => ({ id })), properties: ['hs_task_subject', 'hs_timestamp'], propertiesWithHistory: [] },
        false,
        sdk,
      ),
    );
    for (const r of answer.results) {
      tasks.set(r.id, { id: r.id, subject: r.properties.hs_task_subject ?? null, dueAtMs: epochMs(r.properties.hs_timestamp) });
    }
  }
  const out = new Map<string, FoundTask[]>();
  for (const [contactId, ids] of taskIdsOf) {
    const found = ids.map((id) => tasks.get(id)).filter((t): t is FoundTask => t !== undefined);
    if (found.length > 0) out.set(contactId, found);
  }
  return out;
}

/** HubSpot answers datetimes as ISO 8601; what we sent was epoch ms. */
function epochMs(value: string | null | undefined): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
