import { TASK_PROPERTIES } from '../builtins';
import { validationError, type HandlerResult } from '../errors';
import type { Context, Route } from '../router';
import type { FakeTask } from '../types';
import { batchBody, inputsOf } from './contacts-batch';

/**
 * Tasks batch read (`POST /crm/v3/objects/tasks/batch/read`, crm-objects-v3) by task id: the requested task
 * properties (null when known but unset) plus `hs_object_id`, `hs_createdate` and `hs_lastmodifieddate`; missing
 * ids answer 207 with OBJECT_NOT_FOUND, as for the other object types. Tasks have no unique property, so an
 * `idProperty` other than `hs_object_id` is refused.
 */

type Json = Record<string, unknown>;

const ALWAYS = ['hs_object_id', 'hs_createdate', 'hs_lastmodifieddate'];

function publicTask(task: FakeTask, requested: string[]): Json {
  const properties: Record<string, string | null> = {};
  for (const name of [...new Set([...requested, ...ALWAYS])]) {
    if (task.properties[name] !== undefined) properties[name] = task.properties[name]!;
    else if (TASK_PROPERTIES[name] || ALWAYS.includes(name)) properties[name] = null;
  }
  return { id: task.id, properties, createdAt: task.createdAt, updatedAt: task.updatedAt, archived: false };
}

function read(ctx: Context): HandlerResult {
  const body = ctx.body as { inputs: { id: string }[]; properties: string[]; idProperty?: string };
  const inputs = inputsOf<{ id: string }>(body);
  if (body.idProperty && body.idProperty !== 'hs_object_id') {
    throw validationError(`Unable to perform batch read by non-unique 0-27 property: ${body.idProperty}`);
  }
  const results: Json[] = [];
  const missing: string[] = [];
  for (const id of [...new Set(inputs.map((i) => i.id))]) {
    const task = ctx.portal.tasks.find((t) => t.id === id);
    if (task) results.push(publicTask(task, body.properties));
    else missing.push(id);
  }
  return batchBody(results, ctx.now, missing, [], 'TASK');
}

export const taskBatchRoutes: Route[] = [
  {
    method: 'POST',
    path: '/crm/v3/objects/tasks/batch/read',
    kind: 'crm',
    op: { file: 'crm-objects-v3', path: '/crm/v3/objects/{objectType}/batch/read', method: 'post' },
    handler: read,
  },
];
