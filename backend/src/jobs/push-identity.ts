import type { Db } from '../adapters/store/db';
import { linksOf, saveLink, type ContactLink, type DirtyCustomer } from '../adapters/store/push-store';
import type { CrmGateway, WriteResult } from '../domain/sync/ports';
import { byPrimary } from '../domain/sync/contact-rollup';
import { contactProperties } from '../domain/sync/contact-write';
import { normalEmail } from '../domain/sync/identity';
import type { SyncSettings } from '@stripe-hubspot-sync/contracts';

/**
 * Which contact is a customer's (README, "Who is who"): the stored link; else the contact holding the customer's id
 * in our unique property; else the contact with the customer's email (case-insensitive); else a new contact. Each
 * link records how it was made. Lookups are batch reads (consistent), never search (eventually consistent).
 */

/** What a pass of the pusher works with for one account, mode and portal. */
export interface PushContext {
  db: Db;
  gw: CrmGateway;
  settings: SyncSettings;
  /** The pass's lease token. */
  token: string;
  leaseSeconds: number;
  outcomes: PushOutcomes;
}

/** How the pusher records what became of a customer's write (push-contacts.ts). */
export interface PushOutcomes {
  /** HubSpot holds this customer's version on that contact, with these properties. */
  done(c: DirtyCustomer, contactId: string, properties: Record<string, string>): Promise<void>;
  /** The write was refused or failed (permanent: dead letter; else tried again later). */
  failed(c: DirtyCustomer, result: WriteResult | undefined): Promise<void>;
  /**
   * Writes what hangs off the contacts `done` reported so far (companies, deals, …) in one batch and records every
   * one of those customers. Called before the leases of the customers it records can be released.
   */
  flush(): Promise<void>;
}

/** The customers' contacts as far as links, the customer-id property and emails tell; new links are stored. */
export async function resolveLinks(ctx: PushContext, customers: readonly DirtyCustomer[]): Promise<Map<string, ContactLink>> {
  const { db, gw, settings } = ctx;
  if (customers.length === 0) return new Map();
  const { account, livemode } = customers[0]!.key;
  const links = await linksOf(db, account, livemode, gw.portalId, customers.map((c) => c.key.customerId));
  const unlinked = customers.filter((c) => !links.has(c.key.customerId));
  if (unlinked.length === 0) return links;

  const byId = await gw.findByProperty(settings.fields.customerId.property, unlinked.map((c) => c.key.customerId));
  for (const c of unlinked) {
    const contactId = byId.get(c.key.customerId);
    if (contactId) await link(db, links, c, gw.portalId, { contactId, matchedBy: 'customer_id', matchedEmail: null });
  }
  const byEmailWanted = unlinked.filter((c) => !links.has(c.key.customerId) && normalEmail(c.status.email));
  if (byEmailWanted.length === 0) return links;
  const byEmail = await gw.findByEmail(byEmailWanted.map((c) => normalEmail(c.status.email)!));
  for (const c of byEmailWanted) {
    const email = normalEmail(c.status.email)!;
    const contactId = byEmail.get(email);
    if (contactId) await link(db, links, c, gw.portalId, { contactId, matchedBy: 'email', matchedEmail: email });
  }
  return links;
}

async function link(db: Db, links: Map<string, ContactLink>, c: DirtyCustomer, portalId: number, l: ContactLink): Promise<void> {
  await saveLink(db, c.key, portalId, l.contactId, l.matchedBy, l.matchedEmail);
  links.set(c.key.customerId, l);
}

/**
 * Creates one contact per email for customers no contact matches (customers sharing an email share it: the first
 * created in Stripe is linked as its creator, the others by email) and records them written. A create HubSpot
 * refuses because the contact appeared meanwhile links to that contact instead; those links are answered, to be
 * written like any linked contact.
 */
export async function createContacts(ctx: PushContext, customers: readonly DirtyCustomer[]): Promise<Map<string, ContactLink>> {
  const { db, gw, settings, outcomes } = ctx;
  const conflicts = new Map<string, ContactLink>();
  if (customers.length === 0) return conflicts;
  const byEmail = new Map<string, DirtyCustomer[]>();
  for (const c of customers) {
    const email = normalEmail(c.status.email)!;
    byEmail.set(email, [...(byEmail.get(email) ?? []), c]);
  }
  const groups = [...byEmail].map(([email, cs]) => {
    const members = [...cs].sort((a, b) => byPrimary(a.status, b.status));
    return { email, members, properties: contactProperties(members.map((m) => m.status), email, settings) };
  });
  const results = await gw.create(groups.map((g) => ({ key: g.members[0]!.key.customerId, properties: g.properties })));

  const existing: { email: string; members: DirtyCustomer[]; contactId: string }[] = [];
  for (const g of groups) {
    const r = results.get(g.members[0]!.key.customerId);
    if (r?.ok) {
      for (const [i, m] of g.members.entries()) {
        await saveLink(db, m.key, gw.portalId, r.contactId, i === 0 ? 'created' : 'email', g.email);
        await outcomes.done(m, r.contactId, g.properties);
      }
    } else if (r && !r.ok && r.existingContactId) {
      existing.push({ email: g.email, members: g.members, contactId: r.existingContactId });
    } else {
      for (const m of g.members) await outcomes.failed(m, r);
    }
  }
  if (existing.length === 0) return conflicts;
  // Someone created the contact meanwhile (or HubSpot applied our create and its answer was lost): it is the
  // customer's own when it holds the customer's id, else it was matched by email.
  const ids = existing.flatMap((e) => e.members.map((m) => m.key.customerId));
  const holders = await gw.findByProperty(settings.fields.customerId.property, ids);
  for (const e of existing) {
    for (const m of e.members) {
      const own = holders.get(m.key.customerId) === e.contactId;
      const l: ContactLink = { contactId: e.contactId, matchedBy: own ? 'customer_id' : 'email', matchedEmail: own ? null : e.email };
      await saveLink(db, m.key, gw.portalId, l.contactId, l.matchedBy, l.matchedEmail);
      conflicts.set(m.key.customerId, l);
    }
  }
  return conflicts;
}
