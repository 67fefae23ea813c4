import type { AssociableType, FakeAssociation, FakeAssociationType } from './types';

/**
 * Record associations of one portal (v4 model): every association between two records carries one or more
 * association types; each is stored in both directions (a type and its inverse, e.g. contact→company 279 and
 * company→contact 280). A labelled type always comes with the pair's unlabeled default type, as in HubSpot.
 */

interface TypeDef {
  from: AssociableType;
  to: AssociableType;
  typeId: number;
  category: 'HUBSPOT_DEFINED' | 'USER_DEFINED';
  label: string | null;
  inverse: number;
}

/** HubSpot-defined association types (v4 ids): [from, to, id, label, inverse id]. The first of a pair is its default. */
const HUBSPOT_DEFINED: [AssociableType, AssociableType, number, string | null, number][] = [
  ['contacts', 'companies', 279, null, 280],
  ['contacts', 'companies', 1, 'Primary', 2],
  ['contacts', 'deals', 4, null, 3],
  ['contacts', 'tickets', 15, null, 16],
  ['contacts', 'notes', 201, null, 202],
  ['contacts', 'tasks', 203, null, 204],
  ['contacts', 'contacts', 449, null, 449],
  ['companies', 'deals', 342, null, 341],
  ['companies', 'deals', 6, 'Primary', 5],
  ['companies', 'tickets', 340, null, 339],
  ['companies', 'tickets', 25, 'Primary', 26],
  ['companies', 'notes', 189, null, 190],
  ['companies', 'tasks', 191, null, 192],
  ['deals', 'tickets', 27, null, 28],
  ['deals', 'notes', 213, null, 214],
  ['deals', 'tasks', 215, null, 216],
  ['tickets', 'notes', 227, null, 228],
  ['tickets', 'tasks', 229, null, 230],
];

function hubspotDefinedTypes(): TypeDef[] {
  const out: TypeDef[] = [];
  for (const [from, to, typeId, label, inverse] of HUBSPOT_DEFINED) {
    out.push({ from, to, typeId, category: 'HUBSPOT_DEFINED', label, inverse });
    if (inverse !== typeId || from !== to) out.push({ from: to, to: from, typeId: inverse, category: 'HUBSPOT_DEFINED', label, inverse: typeId });
  }
  return out;
}

const BUILTIN_TYPES = hubspotDefinedTypes();

export class AssociationStore {
  private userTypes: TypeDef[] = [];
  private nextUserTypeId = 1001;
  /** `${from}:${fromId}>${to}:${toId}` → type ids (in that direction). */
  private links = new Map<string, Set<number>>();

  private types(): TypeDef[] {
    return [...BUILTIN_TYPES, ...this.userTypes];
  }

  /** The definition of a type id between two object types, or undefined. */
  typeDef(from: AssociableType, to: AssociableType, typeId: number, category?: string): TypeDef | undefined {
    return this.types().find((t) => t.from === from && t.to === to && t.typeId === typeId && (category === undefined || t.category === category));
  }

  /** The unlabeled default type between two object types (undefined when they cannot be associated). */
  defaultType(from: AssociableType, to: AssociableType): TypeDef | undefined {
    return BUILTIN_TYPES.find((t) => t.from === from && t.to === to && t.label === null);
  }

  defineLabel(from: AssociableType, to: AssociableType, label: string, inverseLabel?: string): number {
    const id = this.nextUserTypeId++;
    if (from === to && inverseLabel === undefined) {
      this.userTypes.push({ from, to, typeId: id, category: 'USER_DEFINED', label, inverse: id });
      return id;
    }
    const inverse = this.nextUserTypeId++;
    this.userTypes.push({ from, to, typeId: id, category: 'USER_DEFINED', label, inverse });
    this.userTypes.push({ from: to, to: from, typeId: inverse, category: 'USER_DEFINED', label: inverseLabel ?? label, inverse: id });
    return id;
  }

  private key(from: AssociableType, fromId: string, to: AssociableType, toId: string): string {
    return `${from}:${fromId}>${to}:${toId}`;
  }

  /** Adds the types (already validated) in both directions, with the pair's default type alongside. */
  add(from: AssociableType, fromId: string, to: AssociableType, toId: string, typeIds: number[]): void {
    const forward = this.links.get(this.key(from, fromId, to, toId)) ?? new Set<number>();
    const backward = this.links.get(this.key(to, toId, from, fromId)) ?? new Set<number>();
    const base = this.defaultType(from, to);
    for (const typeId of base ? [base.typeId, ...typeIds] : typeIds) {
      const def = this.typeDef(from, to, typeId);
      if (!def) continue;
      forward.add(def.typeId);
      backward.add(def.inverse);
    }
    this.links.set(this.key(from, fromId, to, toId), forward);
    this.links.set(this.key(to, toId, from, fromId), backward);
  }

  /** Removes every association between the two records (both directions). */
  removeAll(from: AssociableType, fromId: string, to: AssociableType, toId: string): void {
    this.links.delete(this.key(from, fromId, to, toId));
    this.links.delete(this.key(to, toId, from, fromId));
  }

  /** Removes the given types (and their inverses); the pair disappears when no type is left. */
  remove(from: AssociableType, fromId: string, to: AssociableType, toId: string, typeIds: number[]): void {
    const forward = this.links.get(this.key(from, fromId, to, toId));
    const backward = this.links.get(this.key(to, toId, from, fromId));
    if (!forward || !backward) return;
    for (const typeId of typeIds) {
      const def = this.typeDef(from, to, typeId);
      if (!def) continue;
      forward.delete(def.typeId);
      backward.delete(def.inverse);
    }
    if (forward.size === 0 || backward.size === 0) this.removeAll(from, fromId, to, toId);
  }

  /** The types of one record's associations to another (direction from → to). */
  describe(from: AssociableType, to: AssociableType, typeIds: Iterable<number>): FakeAssociationType[] {
    return [...typeIds]
      .map((id) => this.typeDef(from, to, id))
      .filter((d): d is TypeDef => d !== undefined)
      .sort((a, b) => (a.label === null ? -1 : b.label === null ? 1 : a.typeId - b.typeId))
      .map((d) => ({ category: d.category, typeId: d.typeId, label: d.label }));
  }

  /** Associations of one record to records of `to` (ids as stored; callers filter out archived ends). */
  from(from: AssociableType, fromId: string, to: AssociableType): FakeAssociation[] {
    const prefix = `${from}:${fromId}>${to}:`;
    const out: FakeAssociation[] = [];
    for (const [k, ids] of this.links) {
      if (!k.startsWith(prefix) || ids.size === 0) continue;
      out.push({ fromId, toId: k.slice(prefix.length), types: this.describe(from, to, ids) });
    }
    return out.sort((a, b) => Number(a.toId) - Number(b.toId));
  }

  /** Every association from `from` records to `to` records. */
  between(from: AssociableType, to: AssociableType): FakeAssociation[] {
    const out: FakeAssociation[] = [];
    const re = new RegExp(`^${from}:([^>]+)>${to}:(.+)$`);
    for (const [k, ids] of this.links) {
      const m = re.exec(k);
      if (!m || ids.size === 0) continue;
      out.push({ fromId: m[1]!, toId: m[2]!, types: this.describe(from, to, ids) });
    }
    return out.sort((a, b) => Number(a.fromId) - Number(b.fromId) || Number(a.toId) - Number(b.toId));
  }
}
