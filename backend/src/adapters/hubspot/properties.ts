import type { PropertyCreate, PropertyUpdate } from '@hubspot/api-client/lib/codegen/crm/properties';
import { PermanentHubSpotError } from './errors';
import type { HubSpotPortal } from './portal';

/**
 * Contact property provisioning (crm-properties-v3): our property group and every property we write. Reads what
 * exists first, so a second run creates nothing; a 409 (someone created it meanwhile) counts as existing.
 *
 * An existing enumeration missing some of our options (products bought gains one per new product) is updated.
 * HubSpot's PATCH replaces the whole option list, so the update sends every option the property has (kept as
 * they are, hidden ones too) plus ours appended; an option we know under another label is relabelled (a product
 * renamed in Stripe), unless our label is just its value (we do not know the name: HubSpot's label stays).
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
  /** Existing enumerations whose options were completed or relabelled (present only when there were some). */
  optionsUpdated?: string[];
}

type Option = { label: string; value: string; displayOrder?: number; hidden?: boolean };

interface ExistingProperty {
  name: string;
  type: string;
  fieldType: string;
  hasUniqueValue?: boolean;
  options?: Option[];
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
      else await completeOptions(portal, def, found, report);
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

/**
 * The option list an existing enumeration should have to hold ours, or null when it already does: its options as
 * they are (order, hidden), relabelled where we know a new name, then ours it lacks, after them.
 */
export function completedOptions(ours: readonly Option[], theirs: readonly Option[]): Option[] | null {
  const wanted = new Map(ours.map((o) => [o.value, o]));
  let changed = false;
  const out: Option[] = theirs.map((t, i) => {
    const o = wanted.get(t.value);
    const relabel = o !== undefined && o.label !== o.value && o.label !== t.label;
    if (relabel) changed = true;
    return { label: relabel ? o.label : t.label, value: t.value, displayOrder: t.displayOrder ?? i, hidden: t.hidden ?? false };
  });
  const have = new Set(theirs.map((t) => t.value));
  let order = out.reduce((max, o) => Math.max(max, o.displayOrder ?? 0), -1);
  for (const o of ours) {
    if (have.has(o.value)) continue;
    have.add(o.value);
    changed = true;
    out.push({ label: o.label, value: o.value, displayOrder: ++order, hidden: false });
  }
  return changed ? out : null;
}

async function completeOptions(portal: HubSpotPortal, def: PropertyDefinition, found: ExistingProperty, report: EnsurePropertiesReport) {
  if (def.type !== 'enumeration' || !def.options || def.options.length === 0) return;
  const options = completedOptions(def.options, found.options ?? []);
  if (!options) return;
  try {
    await portal.call('crm', 'properties.update', (c, sdk) =>
      c.crm.properties.coreApi.update('contacts', def.name, { options } as unknown as PropertyUpdate, sdk),
    );
    (report.optionsUpdated ??= []).push(def.name);
  } catch (err) {
    if (!(err instanceof PermanentHubSpotError)) throw err;
    // A value that is not an option would be refused: leave the property out of writes until a later check.
    report.failed.push({ name: def.name, category: err.category, message: err.message });
  }
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
