import { conflict, fail, propertyValuesError, type PropertyProblem } from './errors';
import type { ObjectStore } from './object-store';
import type { Portal } from './portal';
import { checkProperties } from './property-values';
import type { CrmObjectType, FakeObject } from './types';

/**
 * Atomic writes of any object type: every input is validated (property values, the type's required properties,
 * deal/ticket pipelines and stages) and every unique value (email, hasUniqueValue properties) checked against
 * the portal and the rest of the batch before anything changes. Any problem fails the whole request, as
 * HubSpot's batch create/update/upsert do.
 */

export interface PlannedObjectWrite {
  /** Existing record to update; undefined creates one. */
  record?: FakeObject;
  values: Record<string, string>;
}

/** Problems particular to the type: required properties on create, pipeline and stage of deals and tickets. */
function typeProblems(portal: Portal, type: CrmObjectType, w: PlannedObjectWrite): PropertyProblem[] {
  const problems: PropertyProblem[] = [];
  if (type === 'deals' || type === 'tickets') problems.push(...portal.pipelineStore.check(type, w.values, w.record));
  if (!w.record) {
    for (const name of portal.store(type).def.requiredOnCreate) {
      if (!w.values[name]) {
        problems.push({ name, error: 'REQUIRED_PROPERTY', message: `${name} is required to create a ${portal.store(type).def.singular}` });
      }
    }
  }
  return problems;
}

/** Throws HubSpot's 400 listing every invalid property value across the writes. */
export function validateObjectWrites(portal: Portal, type: CrmObjectType, writes: PlannedObjectWrite[]): void {
  const store = portal.store(type);
  const problems: PropertyProblem[] = [];
  const seen = new Set<string>();
  for (const w of writes) {
    for (const p of [...checkProperties(w.values, (n) => store.shape(n)), ...typeProblems(portal, type, w)]) {
      const key = `${p.name}\u0000${p.error}\u0000${p.propertyValue ?? ''}`;
      if (!seen.has(key)) problems.push(p);
      seen.add(key);
    }
  }
  if (problems.length > 0) throw propertyValuesError(problems, portal.id);
}

/** Throws 409 CONFLICT when the writes would leave two live records sharing a unique value. */
export function checkObjectUnique(store: ObjectStore, writes: PlannedObjectWrite[]): void {
  const touched = new Set(writes.map((w) => w.record?.id).filter((id): id is string => id !== undefined));
  const singular = store.def.singular;
  for (const name of store.uniqueProperties()) {
    const owner = new Map<string, string>();
    for (const r of store.records.values()) {
      const v = r.properties[name];
      if (!r.archived && v !== undefined && !touched.has(r.id)) owner.set(store.key(name, v), r.id);
    }
    writes.forEach((w, i) => {
      const value = w.values[name] !== undefined ? w.values[name] : w.record?.properties[name];
      if (!value) return;
      const me = w.record?.id ?? `new:${i}`;
      const holder = owner.get(store.key(name, value));
      if (holder !== undefined && holder !== me) {
        if (holder.startsWith('new:')) {
          throw fail(409, 'CONFLICT', `Duplicate value "${value}" for unique property "${name}" in the batch input.`);
        }
        throw name === 'email' && store.def.name === 'contacts'
          ? conflict(holder)
          : conflict(holder, `A ${singular} with the value "${value}" for unique property "${name}" already exists. Existing ID: ${holder}`);
      }
      owner.set(store.key(name, value), me);
    });
  }
}

/** Validates, checks uniqueness, then applies every write; returns the records in input order. */
export function applyObjectWrites(
  portal: Portal,
  type: CrmObjectType,
  writes: PlannedObjectWrite[],
  now: Date,
  searchLagMs: number,
): FakeObject[] {
  const store = portal.store(type);
  for (const w of writes) w.values = store.normalize(w.values);
  validateObjectWrites(portal, type, writes);
  checkObjectUnique(store, writes);
  return writes.map((w) => {
    const record = w.record ?? store.create(w.values, now);
    if (w.record) store.update(w.record, w.values, now);
    store.indexWrite(record, now.getTime(), searchLagMs);
    return record;
  });
}
