import { AssociationStore } from './associations';
import { newObjectId, ObjectStore, publicObject } from './object-store';
import { CRM_OBJECT_TYPES, OBJECT_TYPES } from './object-types';
import { PIPELINE_FIELDS, PipelineStore } from './pipelines';
import { normalizeValues, type PropertyShape } from './property-values';
import type {
  AssociableType,
  CrmObjectType,
  FakeAssociation,
  FakeContact,
  FakeObject,
  FakePipeline,
  FakePortal,
  FakeTask,
  FakeTimelineEvent,
} from './types';

type Json = Record<string, unknown>;

export { newObjectId };

/**
 * One HubSpot account: a store per object type (records, property definitions, groups, search index; see
 * `object-store.ts`), its tasks, pipelines, associations and timeline events. The contact members predate the
 * other object types and are the contact store's own maps.
 */
export class Portal implements FakePortal {
  readonly stores: Record<CrmObjectType, ObjectStore>;
  tasks: FakeTask[] = [];
  readonly pipelineStore = new PipelineStore();
  readonly associationStore = new AssociationStore();
  readonly events: FakeTimelineEvent[] = [];

  constructor(readonly id: number) {
    this.stores = Object.fromEntries(CRM_OBJECT_TYPES.map((t) => [t, new ObjectStore(OBJECT_TYPES[t])])) as Record<CrmObjectType, ObjectStore>;
  }

  store(type: CrmObjectType): ObjectStore {
    return this.stores[type];
  }

  // --- contacts (the contact store's state, under the names the fake has always had) ---

  get contacts(): Map<string, FakeContact> {
    return this.stores.contacts.records;
  }

  get properties(): Map<string, Json> {
    return this.stores.contacts.properties;
  }

  get groups(): Map<string, Json> {
    return this.stores.contacts.groups;
  }

  /** Contact property names whose creation is refused, with the message HubSpot answers. */
  get refusedProperties(): Map<string, string> {
    return this.stores.contacts.refusedProperties;
  }

  shape(name: string): PropertyShape | undefined {
    return this.stores.contacts.shape(name);
  }

  /** email plus every contact property defined with hasUniqueValue. */
  uniqueProperties(): string[] {
    return this.stores.contacts.uniqueProperties();
  }

  isUnique(name: string): boolean {
    return this.stores.contacts.isUnique(name);
  }

  liveContacts(): FakeContact[] {
    return [...this.contacts.values()].filter((c) => !c.archived);
  }

  contactByEmail(email: string): FakeContact | undefined {
    return this.contactByProperty('email', email);
  }

  contactByProperty(name: string, value: string): FakeContact | undefined {
    return this.stores.contacts.byProperty(name, value);
  }

  /** Live contact addressed by id, or by the value of `idProperty` when given. */
  resolve(id: string, idProperty?: string): FakeContact | undefined {
    return this.stores.contacts.resolve(id, idProperty);
  }

  refusePropertyCreation(
    name: string,
    message = `You have reached the maximum number of custom properties; property "${name}" cannot be created.`,
    objectType: CrmObjectType = 'contacts',
  ): void {
    this.stores[objectType].refusedProperties.set(name, message);
  }

  allowPropertyCreation(name: string, objectType: CrmObjectType = 'contacts'): void {
    this.stores[objectType].refusedProperties.delete(name);
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
    return this.stores.contacts.create(values, now);
  }

  /** Applies values to a contact (empty string clears), bumping updatedAt/lastmodifieddate. */
  update(contact: FakeContact, values: Record<string, string>, now: Date): void {
    this.stores.contacts.update(contact, values, now);
  }

  archive(contact: FakeContact, now: Date): void {
    this.stores.contacts.archive(contact, now);
  }

  /** Records a write for search: visible `lagMs` after `now` (a removed contact when archived/deleted). */
  indexWrite(contact: FakeContact, now: number, lagMs: number, removed = false): void {
    this.stores.contacts.indexWrite(contact, now, lagMs, removed);
  }

  /** Contacts as the search index sees them at `now`, in id order. */
  searchable(now: number): FakeContact[] {
    return this.stores.contacts.searchable(now);
  }

  /** Forgets a contact entirely (GDPR delete). */
  purge(contact: FakeContact, now: number): void {
    this.stores.contacts.purge(contact, now);
  }

  // --- every other object type ---

  companies(): FakeObject[] {
    return this.stores.companies.live();
  }

  deals(): FakeObject[] {
    return this.stores.deals.live();
  }

  tickets(): FakeObject[] {
    return this.stores.tickets.live();
  }

  notes(): FakeObject[] {
    return this.stores.notes.live();
  }

  object(type: CrmObjectType, id: string): FakeObject | undefined {
    return this.stores[type].records.get(id);
  }

  objectByProperty(type: CrmObjectType, name: string, value: string): FakeObject | undefined {
    return this.stores[type].byProperty(name, value);
  }

  addObject(type: CrmObjectType, properties: Record<string, string>): FakeObject {
    const values = { ...properties };
    if (type === 'deals' || type === 'tickets') {
      const f = PIPELINE_FIELDS[type];
      values[f.pipeline] ??= f.defaultPipeline;
    }
    return this.stores[type].seed(values);
  }

  propertiesOf(type: CrmObjectType): Map<string, Json> {
    return this.stores[type].properties;
  }

  groupsOf(type: CrmObjectType): Map<string, Json> {
    return this.stores[type].groups;
  }

  pipelines(type: 'deals' | 'tickets'): FakePipeline[] {
    return this.pipelineStore.live(type);
  }

  /** A live record of any associable type (tasks included). */
  exists(type: AssociableType, id: string): boolean {
    if (type === 'tasks') return this.tasks.some((t) => t.id === id);
    return this.stores[type].resolve(id) !== undefined;
  }

  associations(from: AssociableType, to: AssociableType): FakeAssociation[] {
    return this.associationStore.between(from, to).filter((a) => this.exists(from, a.fromId) && this.exists(to, a.toId));
  }

  defineAssociationLabel(from: AssociableType, to: AssociableType, label: string, inverseLabel?: string): number {
    return this.associationStore.defineLabel(from, to, label, inverseLabel);
  }

  timelineEvents(): FakeTimelineEvent[] {
    return [...this.events];
  }
}

/**
 * The public form of a contact: the requested properties (null when defined but unset; unknown names
 * ignored) plus createdate/hs_object_id/lastmodifieddate, or HubSpot's defaults when none are asked.
 */
export function publicContact(portal: Portal, contact: FakeContact, requested?: string[], all = false): Json {
  return publicObject(portal.stores.contacts, contact, requested, all);
}
