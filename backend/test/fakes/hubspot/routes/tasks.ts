import { TASK_PROPERTIES, TASK_TO_CONTACT_TYPE_ID } from '../builtins';
import { notFound, propertyValuesError, validationError, type HandlerResult } from '../errors';
import { newObjectId } from '../portal';
import type { Context, Route } from '../router';
import { checkProperties } from '../property-values';
import type { FakeTask } from '../types';

/**
 * Tasks through the generic CRM objects v3 API (`POST /crm/v3/objects/tasks`), associated to contacts with
 * the HUBSPOT_DEFINED task→contact association type (204). `hs_timestamp` is required, as HubSpot requires it.
 */

interface Association {
  to: { id: string };
  types: { associationCategory: string; associationTypeId: number }[];
}

function publicTask(task: FakeTask): Record<string, unknown> {
  return { id: task.id, properties: task.properties, createdAt: task.createdAt, updatedAt: task.updatedAt, archived: false };
}

function create(ctx: Context): HandlerResult {
  const input = ctx.body as { properties: Record<string, string>; associations: Association[] };
  const problems = checkProperties(input.properties, (name) => {
    const t = TASK_PROPERTIES[name];
    return t ? { type: t.type, options: t.options ?? [] } : undefined;
  });
  if (!input.properties.hs_timestamp) {
    problems.push({ name: 'hs_timestamp', error: 'REQUIRED_PROPERTY', message: 'hs_timestamp is required to create a task' });
  }
  if (problems.length > 0) throw propertyValuesError(problems, ctx.portal.id);
  for (const a of input.associations) {
    for (const t of a.types) {
      if (t.associationCategory !== 'HUBSPOT_DEFINED' || t.associationTypeId !== TASK_TO_CONTACT_TYPE_ID) {
        throw validationError(
          `Association type ${t.associationCategory}/${t.associationTypeId} is not valid from task: this fake knows task→contact (HUBSPOT_DEFINED/${TASK_TO_CONTACT_TYPE_ID})`,
        );
      }
    }
    if (!ctx.portal.resolve(a.to.id)) {
      throw validationError(`Association target contact ${a.to.id} does not exist`, { context: { ids: [a.to.id] } });
    }
  }
  const iso = ctx.now.toISOString();
  const id = newObjectId();
  const task: FakeTask = {
    id,
    properties: { ...input.properties, hs_object_id: id, hs_createdate: iso, hs_lastmodifieddate: iso, hs_task_status: input.properties.hs_task_status ?? 'NOT_STARTED' },
    associations: input.associations,
    createdAt: iso,
    updatedAt: iso,
  };
  ctx.portal.tasks.push(task);
  for (const a of input.associations) ctx.portal.associationStore.add('tasks', id, 'contacts', a.to.id, [TASK_TO_CONTACT_TYPE_ID]);
  return { status: 201, body: publicTask(task) };
}

function getById(ctx: Context): HandlerResult {
  const task = ctx.portal.tasks.find((t) => t.id === ctx.params.taskId);
  if (!task) throw notFound();
  return { status: 200, body: publicTask(task) };
}

export const taskRoutes: Route[] = [
  {
    method: 'POST',
    path: '/crm/v3/objects/tasks',
    kind: 'crm',
    write: true,
    op: { file: 'crm-objects-v3', path: '/crm/v3/objects/{objectType}', method: 'post' },
    handler: create,
  },
  { method: 'GET', path: '/crm/v3/objects/tasks/:taskId', kind: 'crm', handler: getById },
];
