import { linksOf, type ContactLink, type DirtyCustomer } from '../adapters/store/push-store';
import {
  deferLeases,
  leaseGroups,
  linksOfContacts,
  releaseLeases,
  unlinkAndRequeue,
  type LeasedCustomer,
} from '../adapters/store/contact-groups';
import type { CustomerKey } from '../adapters/store/sync-store';
import { changedProperties, contactProperties } from '../domain/sync/contact-write';
import { membership, type LinkedCustomer } from '../domain/sync/identity';
import type { PushContext } from './push-identity';

/**
 * Writes linked contacts, each as the roll-up of all its customers (README, "Who is who"): every customer linked to
 * the contact is leased first (all or none: a contact one of whose customers another pusher holds waits for it),
 * email-matched customers whose email moved on leave the contact, and only what differs from what the contact last
 * received from us is sent.
 */

type Member = LeasedCustomer & LinkedCustomer & { link: ContactLink };

const CONTACT_GONE = 'The linked HubSpot contact no longer exists; matching again';
const EMAIL_MOVED = 'The customer’s email changed and its contact was matched only by email; matching again';

/**
 * Contacts each pass of this process is writing right now. Two groups of one pass (live and backfill customers of
 * one account) share the pass's lease token, so the database lease cannot tell them apart; this does.
 */
const inFlight = new Set<string>();

export async function writeLinkedContacts(
  ctx: PushContext,
  customers: readonly DirtyCustomer[],
  links: ReadonlyMap<string, ContactLink>,
): Promise<void> {
  const { db, gw, token } = ctx;
  if (customers.length === 0) return;
  const { account, livemode } = customers[0]!.key;
  const flightKey = (contactId: string) => `${token}|${gw.portalId}|${contactId}`;

  const byContact = new Map<string, DirtyCustomer[]>();
  const busy: DirtyCustomer[] = [];
  for (const c of customers) {
    const contactId = links.get(c.key.customerId)!.contactId;
    if (inFlight.has(flightKey(contactId))) busy.push(c);
    else byContact.set(contactId, [...(byContact.get(contactId) ?? []), c]);
  }
  const contactIds = [...byContact.keys()];
  contactIds.forEach((id) => inFlight.add(flightKey(id)));

  const claimed = new Set(customers.map((c) => c.key.customerId));
  const leasedKeys: CustomerKey[] = [];
  try {
    await deferLeases(db, busy.map((c) => c.key), token);
    if (contactIds.length === 0) return;
    const linked = await linksOfContacts(db, account, livemode, gw.portalId, contactIds);
    const groups = contactIds.map((id) => ({
      id,
      members: [...new Set([...(linked.get(id)?.keys() ?? []), ...byContact.get(id)!.map((c) => c.key.customerId)])].map(
        (customerId) => ({ account, livemode, customerId }),
      ),
    }));
    const leased = await leaseGroups(db, token, ctx.leaseSeconds, groups);
    for (const members of leased.values()) leasedKeys.push(...members.map((m) => m.key));
    await deferLeases(db, contactIds.filter((id) => !leased.has(id)).flatMap((id) => byContact.get(id)!.map((c) => c.key)), token);

    // Links change only under their customer's lease: read now, they hold until we are done.
    const current = await linksOf(db, account, livemode, gw.portalId, leasedKeys.map((k) => k.customerId));
    const plans = [...leased].map(([contactId, rows]) => plan(ctx, contactId, rows, current)).filter((p) => p.stay.length + p.leave.length > 0);
    const toWrite = plans.filter((p) => Object.keys(p.send).length > 0);
    const results = toWrite.length > 0 ? await gw.update(toWrite.map((p) => ({ key: p.contactId, contactId: p.contactId, properties: p.send }))) : new Map();
    for (const p of plans) {
      const r = Object.keys(p.send).length > 0 ? results.get(p.contactId) : { ok: true as const, contactId: p.contactId };
      if (r?.ok) {
        for (const m of p.stay) await ctx.outcomes.done(m, p.contactId, p.desired);
        await unlinkAndRequeue(db, p.leave.map((m) => m.key), token, EMAIL_MOVED);
      } else if (r && !r.ok && r.category === 'OBJECT_NOT_FOUND') {
        await unlinkAndRequeue(db, [...p.stay, ...p.leave].map((m) => m.key), token, CONTACT_GONE);
      } else {
        for (const m of [...p.stay, ...p.leave]) {
          if (m.dirty || claimed.has(m.key.customerId)) await ctx.outcomes.failed(m, r);
        }
      }
    }
    // Before the leases below go back: the written customers are recorded while this pass still holds them.
    await ctx.outcomes.flush();
  } finally {
    contactIds.forEach((id) => inFlight.delete(flightKey(id)));
    // Customers leased only because they share a contact go back, whatever happened (no-op for those written).
    await releaseLeases(db, leasedKeys.filter((k) => !claimed.has(k.customerId)), token);
  }
}

interface Plan {
  contactId: string;
  stay: Member[];
  leave: Member[];
  /** Everything the contact should carry now. */
  desired: Record<string, string>;
  /** What of it the contact does not have yet. */
  send: Record<string, string>;
}

function plan(ctx: PushContext, contactId: string, rows: LeasedCustomer[], current: ReadonlyMap<string, ContactLink>): Plan {
  const members: Member[] = [];
  for (const r of rows) {
    const link = current.get(r.key.customerId);
    if (link?.contactId === contactId) members.push({ ...r, link, matchedBy: link.matchedBy, matchedEmail: link.matchedEmail });
  }
  const { stay, leave, email } = membership(members);
  const desired = contactProperties(stay.map((m) => m.status), email, ctx.settings);
  return { contactId, stay, leave, desired, send: changedProperties(desired, lastWritten(members)) };
}

/**
 * What the contact last received from us: every customer on it was written with the contact's whole property set,
 * so the newest of theirs; nothing (write everything) when one of them never was (a newcomer, a full rewrite).
 */
function lastWritten(members: readonly Member[]): Record<string, string> | null {
  if (members.length === 0 || members.some((m) => m.syncedProperties === null)) return null;
  const newest = [...members].sort((a, b) => (b.lastSyncedAt?.getTime() ?? 0) - (a.lastSyncedAt?.getTime() ?? 0))[0]!;
  return newest.syncedProperties;
}
