import { ConnectionHubSpotError, RetryableHubSpotError, asConnectionFailure, isPortalWideCategory, type RetryReason } from '../../adapters/hubspot/errors';
import { createNotes, createTimelineEvents, isDuplicateEvent, notesOnContacts, type BatchResult, type FoundNote } from '../../adapters/hubspot/timeline';
import { AmbiguousWriteError } from '../../adapters/hubspot/write-once';
import { savePropertyProblems } from '../../adapters/store/connection-health';
import { unwrittenMovements } from '../../adapters/store/movements-store-read';
import { forgetSends, pendingSends, recordSending, recordWritten, type MovementChannel, type MovementSendScope, type PendingSend } from '../../adapters/store/timeline-store';
import { movementNote, noteIsFor, noteMarker, timelineEvent } from '../../domain/crm/timeline';
import type { Movement } from '../../domain/movements';
import type { ObjectOutcome, WrittenContact } from '../../domain/sync/ports';
import type { CrmObjectWriter, ObjectWriterContext } from './stage';

/**
 * Revenue movements on the contact (settings `crm.timeline`, on by default): every movement of the pass's customers
 * that the portal does not have yet (the ledger's per-portal marker, movements-store-read.ts) is written once —
 *
 * - as a timeline event of our app's template when the portal is connected through the marketplace app (OAuth) with
 *   the `timeline` scope and the template is configured (`ctx.timelineTemplateId`); HubSpot takes timeline events
 *   from the template's app only, so private apps cannot have them;
 * - else as a note associated with the contact (private apps; OAuth installs without the scope or the template).
 *
 * Exactly once, also after a lost answer: each movement is recorded as being sent (with its channel and contact)
 * BEFORE the call, and marked written in the ledger when HubSpot's answer comes. An event sent again keeps its id
 * (the movement id): HubSpot refuses the second, which counts as written. A note is never sent twice blindly: its
 * body names the movement, and a note left pending is first looked for on its contact (associations and batch
 * reads), marked written when found and sent again only when not there. One batch call per 100 movements, for
 * all the pass's customers; a pass where no movement is new makes no call.
 *
 * Outcomes: a movement HubSpot refuses is a dead letter for its customer (tried again with the customer's next
 * write); a lost answer or a failure that may pass keeps the customer to be tried again; a portal-wide failure (an
 * outage, rate limits past our retries) is thrown after what was written is recorded, as is a refused connection.
 */
export const timelineWriter: CrmObjectWriter = {
  name: 'timeline',
  enabled: (settings) => settings.crm.timeline.enabled,
  write: writeMovements,
};

/** The name timeline problems are shown under with the connection (`hubspot_property_problems`). */
const PROBLEM = 'timeline';

interface Pass {
  ctx: ObjectWriterContext;
  scope: MovementSendScope;
  contactOf: Map<string, WrittenContact>;
  out: Map<string, ObjectOutcome>;
  portalWide: { category: string; message: string } | null;
}

async function writeMovements(ctx: ObjectWriterContext, contacts: WrittenContact[]): Promise<Map<string, ObjectOutcome>> {
  const pass: Pass = {
    ctx,
    scope: { account: ctx.account, livemode: ctx.livemode, portalId: ctx.portal.portalId },
    contactOf: new Map(contacts.map((c) => [c.customerId, c])),
    out: new Map(),
    portalWide: null,
  };
  const movements = await unwrittenMovements(ctx.db, ctx.account, ctx.livemode, ctx.portal.portalId, [...pass.contactOf.keys()]);
  if (movements.length === 0) return pass.out;
  const pending = await pendingSends(ctx.db, pass.scope, movements.map((m) => m.id));
  let todo = await withoutFoundNotes(pass, movements, pending);
  if (ctx.timelineTemplateId) todo = await sendEvents(pass, ctx.timelineTemplateId, todo);
  await sendNotes(pass, todo);
  if (pass.portalWide) {
    throw new RetryableHubSpotError({
      reason: pass.portalWide.category.toLowerCase() as RetryReason,
      message: pass.portalWide.message,
      operation: 'timeline',
      attempts: 1,
    });
  }
  return pass.out;
}

/**
 * Movements sent as notes whose answers were lost: looked for on the contacts they were sent to. Those found are
 * marked written; the rest are answered with the movements never sent. When the look-up itself fails, those
 * movements wait for the customer's next try (never sent blindly).
 */
async function withoutFoundNotes(pass: Pass, movements: Movement[], pending: Map<string, PendingSend>): Promise<Movement[]> {
  const lost = movements.filter((m) => pending.get(m.id)?.channel === 'note');
  if (lost.length === 0) return movements;
  let onContacts: Map<string, FoundNote[]>;
  try {
    onContacts = await notesOnContacts(pass.ctx.portal, [...new Set(lost.map((m) => pending.get(m.id)!.contactId))]);
  } catch (err) {
    const f = failureOf(err);
    for (const m of lost) fail(pass, m, { ...f, message: `looking for the note of a movement whose answer was lost: ${f.message}` });
    const skipped = new Set(lost.map((m) => m.id));
    return movements.filter((m) => !skipped.has(m.id));
  }
  const found: { movementId: string; hubspotId: string }[] = [];
  for (const m of lost) {
    const note = onContacts.get(pending.get(m.id)!.contactId)?.find((n) => noteIsFor(n.body, m.id));
    if (note) found.push({ movementId: m.id, hubspotId: note.id });
  }
  await recordWritten(pass.ctx.db, pass.scope, found);
  if (found.length > 0) pass.ctx.logger.info({ portalId: pass.scope.portalId, found: found.length }, 'revenue movement notes found after a lost answer');
  const done = new Set(found.map((f) => f.movementId));
  return movements.filter((m) => !done.has(m.id));
}

/**
 * Timeline events, one batch per 100. Answers the movements left for notes: all of them when HubSpot refuses the
 * timeline API to this connection (a scope it does not grant), none otherwise.
 */
async function sendEvents(pass: Pass, templateId: string, movements: Movement[]): Promise<Movement[]> {
  if (movements.length === 0) return [];
  const { ctx, scope } = pass;
  await recordSending(ctx.db, scope, sends(pass, movements, 'timeline'));
  let results: BatchResult[];
  try {
    results = await createTimelineEvents(
      ctx.portal,
      movements.map((m) => timelineEvent(m, contactIdOf(pass, m), templateId, { dashboardUrl: pass.contactOf.get(m.customerId)!.status.dashboardUrl })),
    );
  } catch (err) {
    const refused = asConnectionFailure(err);
    if (!(refused instanceof ConnectionHubSpotError) || refused.status !== 403) throw err;
    // The timeline API refused to this connection (e.g. the `timeline` scope is not granted): notes instead.
    ctx.logger.warn({ portalId: scope.portalId, category: refused.category }, 'HubSpot refuses timeline events to this connection; revenue movements go to notes');
    await savePropertyProblems(ctx.db, scope.portalId, [], [
      { name: PROBLEM, category: refused.category, message: `Revenue movements are written as notes: HubSpot refuses timeline events to this connection (${refused.message})` },
    ]);
    return movements;
  }
  await record(pass, movements, results, (r) => isDuplicateEvent(r));
  if (results.some((r) => r.ok || isDuplicateEvent(r))) await savePropertyProblems(ctx.db, scope.portalId, [PROBLEM], []);
  return [];
}

/** Notes, one batch per 100, each sent once: a lost answer leaves the batch pending, looked for next time. */
async function sendNotes(pass: Pass, movements: Movement[]): Promise<void> {
  const { ctx, scope } = pass;
  for (let i = 0; i < movements.length; i += 100) {
    const chunk = movements.slice(i, i + 100);
    await recordSending(ctx.db, scope, sends(pass, chunk, 'note'));
    let results: BatchResult[];
    try {
      results = await createNotes(
        ctx.portal,
        chunk.map((m) => ({
          key: m.id,
          contactId: contactIdOf(pass, m),
          properties: movementNote(m, { dashboardUrl: pass.contactOf.get(m.customerId)!.status.dashboardUrl }),
        })),
        (body) => chunk.find((m) => body.includes(noteMarker(m.id)))?.id ?? null,
      );
    } catch (err) {
      const f = failureOf(err);
      for (const m of chunk) fail(pass, m, f);
      continue;
    }
    await record(pass, chunk, results, () => false);
  }
}

/** Written ones marked in the ledger, refused ones forgotten (dead letters), the rest left pending. */
async function record(pass: Pass, movements: Movement[], results: BatchResult[], alreadyThere: (r: BatchResult) => boolean): Promise<void> {
  const written: { movementId: string; hubspotId: string | null }[] = [];
  const refused: string[] = [];
  movements.forEach((m, i) => {
    const r = results[i] ?? { ok: false, permanent: false, message: 'HubSpot answered nothing for this movement', category: 'NO_RESULT' };
    if (r.ok) written.push({ movementId: m.id, hubspotId: r.id });
    else if (alreadyThere(r)) written.push({ movementId: m.id, hubspotId: m.id });
    else {
      if (r.permanent) refused.push(m.id);
      fail(pass, m, r);
    }
  });
  await recordWritten(pass.ctx.db, pass.scope, written);
  await forgetSends(pass.ctx.db, pass.scope, refused);
}

function sends(pass: Pass, movements: Movement[], channel: MovementChannel) {
  return movements.map((m) => ({ movementId: m.id, customerId: m.customerId, channel, contactId: contactIdOf(pass, m) }));
}

function contactIdOf(pass: Pass, m: Movement): string {
  return pass.contactOf.get(m.customerId)!.contactId;
}

type Failure = { permanent: boolean; message: string; category: string | null };

function failureOf(err: unknown): Failure {
  if (err instanceof AmbiguousWriteError) return { permanent: false, message: err.message, category: 'ANSWER_LOST' };
  if (err instanceof RetryableHubSpotError) return { permanent: false, message: err.message, category: err.reason.toUpperCase() };
  throw err;
}

/** A movement's failure on its customer: a failure that may pass outweighs one that will not. */
function fail(pass: Pass, m: Movement, f: Failure): void {
  if (!f.permanent && isPortalWideCategory(f.category)) pass.portalWide ??= { category: f.category!, message: f.message };
  const message = `movement ${m.id}: ${f.message}`;
  const prior = pass.out.get(m.customerId);
  if (!prior || prior.ok) {
    pass.out.set(m.customerId, { ok: false, permanent: f.permanent, message, category: f.category });
    return;
  }
  pass.out.set(m.customerId, {
    ok: false,
    permanent: prior.permanent && f.permanent,
    message: `${prior.message}; ${message}`,
    category: prior.permanent && !f.permanent ? f.category : prior.category,
  });
}
