import { EXTERNAL_OPTION_PROPERTIES } from './builtins-objects';
import type { ObjectTypeDef } from './object-types';
import { shapeOf, type PropertyShape } from './property-values';
import type { FakeObject } from './types';

type Json = Record<string, unknown>;

/** Ids are unique across the whole fake (as HubSpot record ids are), so a wrong-portal id answers 404. */
let nextId = 101;
export function newObjectId(): string {
  return String(nextId++);
}

interface IndexVersion {
  visibleAt: number;
  snapshot: FakeObject | null;
}

/** Pipeline properties: their values are checked against the portal's pipelines, not stored options. */
const PIPELINE_PROPERTIES = new Set(['pipeline', 'dealstage', 'hs_pipeline', 'hs_pipeline_stage']);

/**
 * The records of one object type in one portal, with that type's property definitions, groups and search index.
 * Contacts, companies, deals, tickets and notes each have one (see `object-types.ts` for what differs).
 */
export class ObjectStore {
  records = new Map<string, FakeObject>();
  properties: Map<string, Json>;
  groups: Map<string, Json>;
  /** Property names whose creation is refused, with the message HubSpot answers. */
  refusedProperties = new Map<string, string>();
  /** Search sees, per record, the newest version whose visibleAt has passed (eventual consistency). */
  private index = new Map<string, IndexVersion[]>();

  constructor(readonly def: ObjectTypeDef) {
    this.properties = def.builtinProperties();
    this.groups = def.builtinGroups();
  }

  shape(name: string): PropertyShape | undefined {
    const def = this.properties.get(name);
    if (!def || def.archived === true) return undefined;
    if (def.hubspotDefined === true && (PIPELINE_PROPERTIES.has(name) || EXTERNAL_OPTION_PROPERTIES.has(name))) {
      return { type: 'string', options: [] };
    }
    return shapeOf(def);
  }

  /** The unique built-ins (contacts: email) plus every property defined with hasUniqueValue. */
  uniqueProperties(): string[] {
    const names = [...this.def.uniqueBuiltins];
    for (const [name, def] of this.properties) if (def.hasUniqueValue === true && def.archived !== true) names.push(name);
    return names;
  }

  isUnique(name: string): boolean {
    return this.uniqueProperties().includes(name);
  }

  /** How a value of that property compares (lower-cased for email). */
  key(name: string, value: string): string {
    return this.def.caseInsensitive.includes(name) ? value.trim().toLowerCase() : value;
  }

  live(): FakeObject[] {
    return [...this.records.values()].filter((r) => !r.archived).sort((a, b) => Number(a.id) - Number(b.id));
  }

  byProperty(name: string, value: string): FakeObject | undefined {
    const wanted = this.key(name, value);
    for (const r of this.records.values()) {
      if (r.archived) continue;
      const v = r.properties[name];
      if (v !== undefined && this.key(name, v) === wanted) return r;
    }
    return undefined;
  }

  /** Live record addressed by id, or by the value of `idProperty` when given. */
  resolve(id: string, idProperty?: string): FakeObject | undefined {
    if (!idProperty || idProperty === 'hs_object_id') {
      const r = this.records.get(id);
      return r && !r.archived ? r : undefined;
    }
    return this.byProperty(idProperty, id);
  }

  /** Values as HubSpot stores them: case-insensitive ones (email) lower-cased and trimmed. */
  normalize(values: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) out[k] = this.def.caseInsensitive.includes(k) ? v.trim().toLowerCase() : v;
    return out;
  }

  /** Creates a record (no checks: callers validated), maintaining the created/modified dates and hs_object_id. */
  create(values: Record<string, string>, now: Date): FakeObject {
    const id = newObjectId();
    const iso = now.toISOString();
    const properties: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (v !== '') properties[k] = v;
    properties[this.def.createdProperty] ??= iso;
    properties[this.def.modifiedProperty] = iso;
    properties.hs_object_id = id;
    const record: FakeObject = { id, properties, createdAt: iso, updatedAt: iso, archived: false };
    this.records.set(id, record);
    return record;
  }

  /** Applies values to a record (empty string clears), bumping updatedAt and the modified date. */
  update(record: FakeObject, values: Record<string, string>, now: Date): void {
    const iso = now.toISOString();
    for (const [k, v] of Object.entries(values)) {
      if (v === '') delete record.properties[k];
      else record.properties[k] = v;
    }
    record.properties[this.def.modifiedProperty] = iso;
    record.updatedAt = iso;
  }

  archive(record: FakeObject, now: Date): void {
    record.archived = true;
    record.archivedAt = now.toISOString();
  }

  /** Records a write for search: visible `lagMs` after `now` (a removed record when archived/deleted). */
  indexWrite(record: FakeObject, now: number, lagMs: number, removed = false): void {
    const versions = this.index.get(record.id) ?? [];
    const snapshot = removed || record.archived ? null : structuredClone(record);
    versions.push({ visibleAt: now + lagMs, snapshot });
    // Keep only the newest version already visible and the ones still pending.
    let lastVisible = -1;
    for (let i = 0; i < versions.length; i++) if (versions[i]!.visibleAt <= now) lastVisible = i;
    this.index.set(record.id, lastVisible > 0 ? versions.slice(lastVisible) : versions);
  }

  /** Records as the search index sees them at `now`, in id order. */
  searchable(now: number): FakeObject[] {
    const out: FakeObject[] = [];
    for (const versions of this.index.values()) {
      let visible: IndexVersion | undefined;
      for (const v of versions) if (v.visibleAt <= now) visible = v;
      if (visible?.snapshot) out.push(visible.snapshot);
    }
    return out.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Forgets a record entirely (GDPR delete). */
  purge(record: FakeObject, now: number): void {
    this.records.delete(record.id);
    this.indexWrite(record, now, 0, true);
  }

  /** Seeds a record: visible to search at once. Throws when a unique value is taken. */
  seed(properties: Record<string, string>): FakeObject {
    const values = this.normalize(properties);
    for (const name of this.uniqueProperties()) {
      const v = values[name];
      if (v && this.byProperty(name, v)) {
        throw new Error(`fake HubSpot: this portal already has a ${this.def.singular} with ${name} ${v}`);
      }
    }
    const record = this.create(values, new Date());
    this.indexWrite(record, 0, 0);
    return record;
  }
}

/**
 * The public form of a record: the requested properties (null when defined but unset; unknown names ignored)
 * plus the always-returned system ones, or the type's defaults when none are asked; every property with `all`.
 */
export function publicObject(store: ObjectStore, record: FakeObject, requested?: string[], all = false): Json {
  let properties: Record<string, string | null>;
  if (all) {
    properties = { ...record.properties };
  } else {
    const names =
      requested && requested.length > 0 ? [...new Set([...requested, ...store.def.alwaysReturned])] : store.def.defaultProperties;
    properties = {};
    for (const name of names) {
      if (record.properties[name] !== undefined) properties[name] = record.properties[name]!;
      else if (store.properties.has(name)) properties[name] = null;
    }
  }
  return {
    id: record.id,
    properties,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    archived: record.archived,
    ...(record.archivedAt ? { archivedAt: record.archivedAt } : {}),
  };
}
