import type { BatchInputTimelineEvent } from '@hubspot/api-client/lib/codegen/crm/timeline';
import type { BatchInputSimplePublicObjectBatchInputForCreate } from '@hubspot/api-client/lib/codegen/crm/objects/notes';
import { runBatch, toItems, type BatchResult, type RawBatchAnswer } from './batch';
import type { HubSpotPortal } from './portal';
import { writeOnce } from './write-once';

/**
 * Revenue movements on a contact, through the batch endpoints (at most 100 inputs a call):
 *
 * - Timeline events (crm-timeline-v3 `POST /integrators/timeline/v3/events/batch/create`) of the app's event
 *   template. HubSpot accepts events only from the app that owns the template, with a portal's OAuth access token
 *   holding the `timeline` scope (a private-app token has no templates). Each event's `id` is unique per app and
 *   template, so sending one again is safe: HubSpot refuses the second (answered as `duplicate`).
 * - Notes (crm-notes-v3 `POST /crm/v3/objects/notes/batch/create`) associated with the contact (note→contact type
 *   202), for every install: notes need only the contacts scopes. Notes have no property we could make unique in
 *   every portal (HubSpot documents unique custom properties for contacts, companies, deals, tickets and custom
 *   objects, not for activities), so a create is sent at most once per call (`writeOnce`: after a 5xx or a
 *   network failure it throws `AmbiguousWriteError`), and the caller finds a note whose answer was lost with
 *   `notesOnContacts` (associations and batch reads: consistent, unlike search).
 */

export type { BatchResult } from './batch';

export const NOTE_TO_CONTACT_ASSOCIATION_TYPE = 202;

export interface TimelineEventInput {
  eventTemplateId: string;
  /** Unique per app and template: the movement id. */
  id: string;
  /** The contact. */
  objectId: string;
  /** ISO 8601. */
  timestamp: string;
  tokens: Record<string, string>;
}

/** A result that says HubSpot already holds an event with this id (sent before, its answer lost). */
export function isDuplicateEvent(r: BatchResult): boolean {
  return !r.ok && (r.category === 'CONFLICT' || r.status === 409);
}

/** Creates the events: one result per input, in input order (a duplicate id: see `isDuplicateEvent`). */
export function createTimelineEvents(portal: HubSpotPortal, events: TimelineEventInput[]): Promise<BatchResult[]> {
  const items = toItems(events, (e) => [e.id]);
  return runBatch(items, async (chunk) => {
    const body = { inputs: chunk.map((i) => ({ ...i.input, timestamp: new Date(i.input.timestamp) })) } as unknown as BatchInputTimelineEvent;
    const answer = (await portal.call('crm', 'timeline.events.batch.create', (c, sdk) => c.crm.timeline.eventsApi.createBatch(body, sdk))) as {
      results?: { id: string }[];
      errors?: RawBatchAnswer['errors'];
    } | void;
    return {
      results: (answer?.results ?? []).map((r) => ({ id: r.id, keys: [r.id] })),
      errors: answer?.errors ?? [],
    };
  });
}

export interface NoteInput {
  /** What the note is found by in its answer (the movement id its body carries). */
  key: string;
  contactId: string;
  properties: { hs_timestamp: string; hs_note_body: string };
}

/**
 * Creates the notes, each associated with its contact: one result per input, in input order. Never sent twice by
 * our retries: throws `AmbiguousWriteError` when HubSpot may have made them without our hearing. `keyOf` reads an
 * input's key back from a created note's body.
 */
export function createNotes(portal: HubSpotPortal, notes: NoteInput[], keyOf: (body: string) => string | null): Promise<BatchResult[]> {
  const items = toItems(notes, (n) => [n.key]);
  return runBatch(items, async (chunk) => {
    const body = {
      inputs: chunk.map((i) => ({
        properties: i.input.properties,
        associations: [
          { to: { id: i.input.contactId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: NOTE_TO_CONTACT_ASSOCIATION_TYPE }] },
        ],
      })),
    } as unknown as BatchInputSimplePublicObjectBatchInputForCreate;
    const answer = (await portal.call(
      'crm',
      'notes.batch.create',
      writeOnce('notes.batch.create', (c, sdk) => c.crm.objects.notes.batchApi.create(body, sdk)),
    )) as { results?: { id: string; properties?: Record<string, string | null> }[]; errors?: RawBatchAnswer['errors'] };
    return {
      results: (answer.results ?? []).map((r) => {
        const key = keyOf(r.properties?.hs_note_body ?? '');
        return { id: r.id, keys: key ? [key] : [] };
      }),
      errors: answer.errors ?? [],
    };
  });
}

export interface FoundNote {
  id: string;
  body: string | null;
}

const BATCH = 100;
/** Pages of one contact's note associations we follow (500 a page). */
const MAX_PAGES = 10;

/**
 * The notes associated with each contact: contact id → notes (id and body). Contacts without notes (or that no
 * longer exist) are absent. Two batch calls per 100 contacts and per 100 notes.
 */
export async function notesOnContacts(portal: HubSpotPortal, contactIds: string[]): Promise<Map<string, FoundNote[]>> {
  const noteIdsOf = new Map<string, string[]>();
  let inputs = [...new Set(contactIds)].map((id) => ({ id }) as { id: string; after?: string });
  for (let page = 0; inputs.length > 0 && page < MAX_PAGES; page++) {
    const next: { id: string; after: string }[] = [];
    for (let i = 0; i < inputs.length; i += BATCH) {
      const chunk = inputs.slice(i, i + BATCH);
      const answer = await portal.call('crm', 'associations.contacts.notes.batch.read', (c, sdk) =>
        c.crm.associations.v4.batchApi.getPage('contacts', 'notes', { inputs: chunk }, sdk),
      );
      for (const r of answer.results) {
        const from = String(r._from.id);
        noteIdsOf.set(from, [...(noteIdsOf.get(from) ?? []), ...r.to.map((t) => String(t.toObjectId))]);
        if (r.paging?.next?.after) next.push({ id: from, after: r.paging.next.after });
      }
    }
    inputs = next;
  }

  const allIds = [...new Set([...noteIdsOf.values()].flat())];
  const notes = new Map<string, FoundNote>();
  for (let i = 0; i < allIds.length; i += BATCH) {
    const chunk = allIds.slice(i, i + BATCH);
    const answer = await portal.call('crm', 'notes.batch.read', (c, sdk) =>
      c.crm.objects.notes.batchApi.read({ inputs: chunk.map((id) => ({ id })), properties: ['hs_note_body'], propertiesWithHistory: [] }, false, sdk),
    );
    for (const r of answer.results) notes.set(r.id, { id: r.id, body: r.properties.hs_note_body ?? null });
  }
  const out = new Map<string, FoundNote[]>();
  for (const [contactId, ids] of noteIdsOf) {
    const found = ids.map((id) => notes.get(id)).filter((n): n is FoundNote => n !== undefined);
    if (found.length > 0) out.set(contactId, found);
  }
  return out;
}
