import { validationError } from './errors';
import type { Portal } from './portal';
import type { AssociableType } from './types';

/**
 * The `associations` array of a v3 create (`[{to: {id}, types: [{associationCategory, associationTypeId}]}]`):
 * the target's object type follows from the association type id (HUBSPOT_DEFINED or one of the portal's
 * USER_DEFINED labels from the created object's type). An unknown type or a missing target fails the request
 * with 400 before anything is written; the links are made once the record exists.
 */

export interface AssociationInput {
  to: { id: string };
  types: { associationCategory: string; associationTypeId: number }[];
}

export interface PlannedLink {
  to: AssociableType;
  toId: string;
  typeIds: number[];
}

const TARGETS: AssociableType[] = ['contacts', 'companies', 'deals', 'tickets', 'notes', 'tasks'];

export function planAssociations(portal: Portal, from: AssociableType, inputs: AssociationInput[] | undefined): PlannedLink[] {
  const links: PlannedLink[] = [];
  for (const a of inputs ?? []) {
    let to: AssociableType | undefined;
    const typeIds: number[] = [];
    for (const t of a.types) {
      const target = TARGETS.find((x) => portal.associationStore.typeDef(from, x, t.associationTypeId, t.associationCategory));
      if (!target || (to !== undefined && target !== to)) {
        throw validationError(
          `Association type ${t.associationCategory}/${t.associationTypeId} is not valid from ${from}${to ? ` to ${to}` : ''}.`,
          { context: { associationTypeId: [String(t.associationTypeId)] } },
        );
      }
      to = target;
      typeIds.push(t.associationTypeId);
    }
    if (!to) throw validationError(`Association to ${a.to.id} has no association types.`);
    if (!portal.exists(to, a.to.id)) {
      throw validationError(`Association target ${to} ${a.to.id} does not exist`, { context: { ids: [a.to.id] } });
    }
    links.push({ to, toId: a.to.id, typeIds });
  }
  return links;
}

export function applyAssociations(portal: Portal, from: AssociableType, fromId: string, links: PlannedLink[]): void {
  for (const l of links) portal.associationStore.add(from, fromId, l.to, l.toId, l.typeIds);
}
