import type { PropertyCreate } from '@hubspot/api-client/lib/codegen/crm/properties';
import { PermanentHubSpotError, asConnectionFailure } from './errors';
import type { HubSpotPortal } from './portal';
import type { PropertyDefinition } from './properties';

/**
 * Our properties on an object type other than contacts (companies, deals, tickets): the group, then every
 * property missing from the portal (crm-properties-v3). Reads first, so a second run only reads; a 409 (created
 * meanwhile) counts as existing. An existing property of another type, or without the unique values ours needs,
 * is reported failed: writes leave it out (and lookups by it are not made).
 */

export interface ObjectPropertiesReport {
  created: string[];
  failed: { name: string; category: string; message: string }[];
}

interface ExistingProperty {
  name: string;
  type: string;
  hasUniqueValue?: boolean;
}

export async function ensureObjectProperties(
  portal: HubSpotPortal,
  objectType: string,
  group: { name: string; label: string },
  definitions: PropertyDefinition[],
): Promise<ObjectPropertiesReport> {
  const report: ObjectPropertiesReport = { created: [], failed: [] };
  const groups = await portal.call('crm', `properties.groups.list.${objectType}`, (c, sdk) => c.crm.properties.groupsApi.getAll(objectType, sdk));
  if (!groups.results.some((g) => g.name === group.name)) {
    await ignoringConflict(() =>
      portal.call('crm', `properties.groups.create.${objectType}`, (c, sdk) =>
        c.crm.properties.groupsApi.create(objectType, { name: group.name, label: group.label }, sdk),
      ),
    );
  }
  const all = await portal.call('crm', `properties.list.${objectType}`, (c, sdk) => c.crm.properties.coreApi.getAll(objectType, false, undefined, sdk));
  const existing = new Map<string, ExistingProperty>(all.results.map((p) => [p.name, p as ExistingProperty]));

  const missing: PropertyDefinition[] = [];
  for (const def of definitions) {
    const found = existing.get(def.name);
    if (!found) {
      missing.push(def);
    } else if (found.type !== def.type || (def.hasUniqueValue && found.hasUniqueValue !== true)) {
      const want = `${def.type}${def.hasUniqueValue ? ' with unique values' : ''}`;
      report.failed.push({ name: def.name, category: 'PROPERTY_MISMATCH', message: `The ${objectType} property ${def.name} exists but is not ${want}` });
    }
  }
  if (missing.length > 0) await createMissing(portal, objectType, group.name, missing, report);
  return report;
}

/** One batch create for every missing property; when HubSpot refuses the whole batch, one create each. */
async function createMissing(portal: HubSpotPortal, objectType: string, groupName: string, defs: PropertyDefinition[], report: ObjectPropertiesReport) {
  let answer: BatchAnswer;
  try {
    answer = (await portal.call('crm', `properties.batch.create.${objectType}`, (c, sdk) =>
      c.crm.properties.batchApi.create(objectType, { inputs: defs.map((d) => toCreate(d, groupName)) }, sdk),
    )) as BatchAnswer;
  } catch (err) {
    if (!(err instanceof PermanentHubSpotError) || asConnectionFailure(err)) throw err;
    for (const def of defs) await createOne(portal, objectType, groupName, def, report);
    return;
  }
  const created = new Set((answer.results ?? []).map((r) => r.name));
  for (const def of defs) {
    if (created.has(def.name)) {
      report.created.push(def.name);
      continue;
    }
    const error = (answer.errors ?? []).find((e) => Object.values(e.context ?? {}).flat().includes(def.name) || (e.message ?? '').includes(def.name));
    if (error && (error.category === 'OBJECT_ALREADY_EXISTS' || error.status === '409')) continue;
    report.failed.push({ name: def.name, category: error?.category ?? 'NO_RESULT', message: error?.message ?? `HubSpot did not create ${def.name}` });
  }
}

async function createOne(portal: HubSpotPortal, objectType: string, groupName: string, def: PropertyDefinition, report: ObjectPropertiesReport) {
  try {
    const created = await ignoringConflict(() =>
      portal.call('crm', `properties.create.${objectType}`, (c, sdk) => c.crm.properties.coreApi.create(objectType, toCreate(def, groupName), sdk)),
    );
    if (created) report.created.push(def.name);
  } catch (err) {
    if (!(err instanceof PermanentHubSpotError) || asConnectionFailure(err)) throw err;
    report.failed.push({ name: def.name, category: err.category, message: err.message });
  }
}

interface BatchAnswer {
  results?: { name: string }[];
  errors?: { status?: string; category?: string; message?: string; context?: Record<string, string[]> }[];
}

/** True when created, false when HubSpot answered 409 (it exists). */
async function ignoringConflict(create: () => Promise<unknown>): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (err) {
    if (err instanceof PermanentHubSpotError && err.status === 409) return false;
    throw err;
  }
}

function toCreate(def: PropertyDefinition, groupName: string): PropertyCreate {
  return {
    name: def.name,
    label: def.label,
    type: def.type,
    fieldType: def.fieldType,
    groupName: def.groupName ?? groupName,
    ...(def.description ? { description: def.description } : {}),
    ...(def.options
      ? { options: def.options.map((o, i) => ({ label: o.label, value: o.value, displayOrder: o.displayOrder ?? i, hidden: o.hidden ?? false })) }
      : {}),
    ...(def.hasUniqueValue ? { hasUniqueValue: true } : {}),
  } as unknown as PropertyCreate;
}
