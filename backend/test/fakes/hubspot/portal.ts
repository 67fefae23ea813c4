import { ALWAYS_RETURNED, DEFAULT_CONTACT_PROPERTIES, builtinGroups, builtinProperties } from './builtins';
import { normalizeValues, shapeOf, type PropertyShape } from './property-values';
import type { FakeContact, FakePortal, FakeTask } from './types';

type Json = Record<string, unknown>;

/** Ids are unique across the whole fake (as HubSpot record ids are), so a wrong-portal id answers 404. */
let nextId = 101;
export function newObjectId(): string {
  return String(nextId++);
}

interface IndexVersion {
  visibleAt: number;
  snapshot: FakeContact | null;
}

/** One HubSpot account: its contacts, property definitions, groups, tasks and search index. */
export class Portal implements FakePortal {
  contacts = new Map<string, FakeContact>();
  properties: Map<string, Json> = builtinProperties();
  groups: Map<string, Json> = builtinGroups();
  tasks: FakeTask[] = [];
  /** Property names whose creation is refused, with the message HubSpot answers. */
  refusedProperties = new Map<string, string>();
  /** Search sees, per contact, the newest version whose visibleAt has passed (eventual consistency). */
  private index = new Map<string, IndexVersion[]>();

  constructor(readonly id: number) {}

  shape(name: string): PropertyShape | undefined {
    const def = this.properties.get(name);
    return def && def.archived !== true ? shapeOf(def) : undefined;
  }

  /** email plus every property defined with hasUniqueValue. */
  uniqueProperties(): string[] {
    const names = ['email'];
    for (const [name, def] of this.properties) if (def.hasUniqueValue === true && def.archived !== true) names.push(name);
    return names;
  }

  isUnique(name: string): boolean {
    return this.uniqueProperties().includes(name);
  }

  liveContacts(): FakeContact[] {
    return [...this.contacts.values()].filter((c) => !c.archived);
  }

  contactByEmail(email: string): FakeContact | undefined {
    return this.contactByProperty('email', email);
  }

  contactByProperty(name: string, value: string): FakeContact | undefined {
    const wanted = name === 'email' ? value.trim().toLowerCase() : value;
    for (const c of this.contacts.values()) {
      if (c.archived) continue;
      const v = c.properties[name];
      if (v !== undefined && (name === 'email' ? v.toLowerCase() : v) === wanted) return c;
    }
    return undefined;
  }

  /** Live contact addressed by id, or by the value of `idProperty` when given. */
  resolve(id: string, idProperty?: string): FakeContact | undefined {
    if (!idProperty || idProperty === 'hs_object_id') {
      const c = this.contacts.get(id);
      return c && !c.archived ? c : undefined;
    }
    return this.contactByProperty(idProperty, id);
  }

  refusePropertyCreation(name: string, message = `You have reached the maximum number of custom properties; property "${name}" cannot be created.`): void {
    this.refusedProperties.set(name, message);
  }

  allowPropertyCreation(name: string): void {
    this.refusedProperties.delete(name);
  }

  addContact(properties: Record<string, string>): FakeContact {
    const values = normalizeValues(properties);
    if (values.email && this.contactByEmail(values.email)) {
      throw new Error(`fake HubSpot: portal ${this.id} already has a contact with email ${values.email}`);
    }
    const contact = this.create(values, new Date());
    this.indexWrite(contact, 0, 0);
    return contact;
  }

  /** Creates a contact (no checks: callers validated), maintaining createdate/lastmodifieddate/hs_object_id. */
  create(values: Record<string, string>, now: Date): FakeContact {
    const id = newObjectId();
    const iso = now.toISOString();
    const properties: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (v !== '') properties[k] = v;
    properties.createdate ??= iso;
    properties.lastmodifieddate = iso;
    properties.hs_object_id = id;
    const contact: FakeContact = { id, properties, createdAt: iso, updatedAt: iso, archived: false };
    this.contacts.set(id, contact);
    return contact;
  }

  /** Applies values to a contact (empty string clears), bumping updatedAt/lastmodifieddate. */
  update(contact: FakeContact, values: Record<string, string>, now: Date): void {
    const iso = now.toISOString();
    for (const [k, v] of Object.entries(values)) {
      if (v === '') delete contact.properties[k];
      else contact.properties[k] = v;
    }
    contact.properties.lastmodifieddate = iso;
    contact.updatedAt = iso;
  }

  archive(contact: FakeContact, now: Date): void {
    contact.archived = true;
    contact.archivedAt = now.toISOString();
  }

  /** Records a write for search: visible `lagMs` after `now` (a removed contact when archived/deleted). */
  indexWrite(contact: FakeContact, now: number, lagMs: number, removed = false): void {
    const versions = this.index.get(contact.id) ?? [];
    const snapshot = removed || contact.archived ? null : structuredClone(contact);
    versions.push({ visibleAt: now + lagMs, snapshot });
    // Keep only the newest version already visible and the ones still pending.
    let lastVisible = -1;
    for (let i = 0; i < versions.length; i++) if (versions[i]!.visibleAt <= now) lastVisible = i;
    this.index.set(contact.id, lastVisible > 0 ? versions.slice(lastVisible) : versions);
  }

  /** Contacts as the search index sees them at `now`, in id order. */
  searchable(now: number): FakeContact[] {
    const out: FakeContact[] = [];
    for (const versions of this.index.values()) {
      let visible: IndexVersion | undefined;
      for (const v of versions) if (v.visibleAt <= now) visible = v;
      if (visible?.snapshot) out.push(visible.snapshot);
    }
    return out.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Forgets a contact entirely (GDPR delete). */
  purge(contact: FakeContact, now: number): void {
    this.contacts.delete(contact.id);
    this.indexWrite(contact, now, 0, true);
  }
}

/**
 * The public form of a contact: the requested properties (null when defined but unset; unknown names
 * ignored) plus createdate/hs_object_id/lastmodifieddate, or HubSpot's defaults when none are asked.
 */
export function publicContact(portal: Portal, contact: FakeContact, requested?: string[], all = false): Json {
  let properties: Record<string, string | null>;
  if (all) {
    properties = { ...contact.properties };
  } else {
    const names = requested && requested.length > 0 ? [...new Set([...requested, ...ALWAYS_RETURNED])] : DEFAULT_CONTACT_PROPERTIES;
    properties = {};
    for (const name of names) {
      if (contact.properties[name] !== undefined) properties[name] = contact.properties[name]!;
      else if (portal.properties.has(name)) properties[name] = null;
    }
  }
  return {
    id: contact.id,
    properties,
    createdAt: contact.createdAt,
    updatedAt: contact.updatedAt,
    archived: contact.archived,
    ...(contact.archivedAt ? { archivedAt: contact.archivedAt } : {}),
  };
}

