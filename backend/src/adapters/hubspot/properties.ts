import type { PropertyCreate } from '@hubspot/api-client/lib/codegen/crm/properties';
import { PermanentHubSpotError } from './errors';
import type { HubSpotPortal } from './portal';

/**
 * Contact property provisioning (crm-properties-v3): our property group and every property we write. Reads what
 * exists first, so a second run creates nothing; a 409 (someone created it meanwhile) counts as existing.
 */

export interface PropertyDefinition {
  name: string;
  label: string;
  /** string | number | date | datetime | enumeration | bool */
  type: string;
  /** text | textarea | number | date | select | radio | checkbox | booleancheckbox */
  fieldType: string;
  description?: string;
  /** Defaults to the group being ensured. */
  groupName?: string;
  options?: { label: string; value: string; displayOrder?: number; hidden?: boolean }[];
  hasUniqueValue?: boolean;
}

export interface EnsurePropertiesReport {
  groupCreated: boolean;
  created: string[];
  /** Already there (found on read, or answered 409 on create). */
  existing: string[];
  /** Existing properties whose type, fieldType or uniqueness differ from ours: writes to them may fail. */
  mismatched: { name: string; expected: string; actual: string }[];
  /** HubSpot refused to create these (permanent errors), with its message. */
  failed: { name: string; category: string; message: string }[];
}

interface ExistingProperty {
  name: string;
  type: string;
  fieldType: string;
  hasUniqueValue?: boolean;
}

export async function ensurePropertyGroupAndProperties(
  portal: HubSpotPortal,
  group: { name: string; label: string },
  definitions: PropertyDefinition[],
): Promise<EnsurePropertiesReport> {
  const report: EnsurePropertiesReport = { groupCreated: false, created: [], existing: [], mismatched: [], failed: [] };

  const groups = await portal.call('crm', 'properties.groups.list', (c, sdk) =>
    c.crm.properties.groupsApi.getAll('contacts', sdk),
  );
  if (!groups.results.some((g) => g.name === group.name)) {
    report.groupCreated = await createIgnoringConflict(() =>
      portal.call('crm', 'properties.groups.create', (c, sdk) =>
        c.crm.properties.groupsApi.create('contacts', { name: group.name, label: group.label }, sdk),
      ),
    );
  }

  const all = await portal.call('crm', 'properties.list', (c, sdk) =>
    c.crm.properties.coreApi.getAll('contacts', false, undefined, sdk),
  );
  const existing = new Map<string, ExistingProperty>(all.results.map((p) => [p.name, p as ExistingProperty]));

  for (const def of definitions) {
    const found = existing.get(def.name);
    if (found) {
      report.existing.push(def.name);
      const mismatch = describeMismatch(def, found);
      if (mismatch) report.mismatched.push({ name: def.name, ...mismatch });
      continue;
    }
    try {
      const created = await createIgnoringConflict(() =>
        portal.call('crm', 'properties.create', (c, sdk) =>
          c.crm.properties.coreApi.create('contacts', toPropertyCreate(def, group.name), sdk),
        ),
      );
      (created ? report.created : report.existing).push(def.name);
    } catch (err) {
      if (!(err instanceof PermanentHubSpotError)) throw err;
      report.failed.push({ name: def.name, category: err.category, message: err.message });
    }
  }
  return report;
}

/** True when created, false when HubSpot answered 409 (it exists). */
async function createIgnoringConflict(create: () => Promise<unknown>): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (err) {
    if (err instanceof PermanentHubSpotError && err.status === 409) return false;
    throw err;
  }
}

function toPropertyCreate(def: PropertyDefinition, groupName: string): PropertyCreate {
  return {
    name: def.name,
    label: def.label,
    type: def.type,
    fieldType: def.fieldType,
    groupName: def.groupName ?? groupName,
    ...(def.description ? { description: def.description } : {}),
    ...(def.options
      ? {
          options: def.options.map((o, i) => ({
            label: o.label,
            value: o.value,
            displayOrder: o.displayOrder ?? i,
            hidden: o.hidden ?? false,
          })),
        }
      : {}),
    ...(def.hasUniqueValue ? { hasUniqueValue: true } : {}),
  } as unknown as PropertyCreate;
}

function describeMismatch(def: PropertyDefinition, found: ExistingProperty): { expected: string; actual: string } | null {
  const want = `${def.type}/${def.fieldType}${def.hasUniqueValue ? '/unique' : ''}`;
  const have = `${found.type}/${found.fieldType}${found.hasUniqueValue ? '/unique' : ''}`;
  const typeOk = def.type === found.type;
  const uniqueOk = !def.hasUniqueValue || found.hasUniqueValue === true;
  return typeOk && uniqueOk ? null : { expected: want, actual: have };
}
