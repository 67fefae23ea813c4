import type { SimplePublicObjectInputForCreate } from '@hubspot/api-client/lib/codegen/crm/objects/tasks';
import type { HubSpotPortal } from './portal';

/**
 * A HubSpot task on a contact (crm-objects-v3 `POST /crm/v3/objects/tasks`), associated with the
 * HUBSPOT_DEFINED task→contact association type 204. HubSpot lists the contacts scopes
 * (`crm.objects.contacts.write`) for creating tasks; there is no separate tasks write scope.
 *
 * Creating is not idempotent: a retried network failure can leave two tasks. The caller records that it
 * created the task for an event before asking again.
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
  const created = await portal.call('crm', 'tasks.create', (c, sdk) => c.crm.objects.tasks.basicApi.create(input, sdk));
  return { id: created.id };
}
