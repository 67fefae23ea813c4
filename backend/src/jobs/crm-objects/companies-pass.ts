import type { BatchResult } from '../../adapters/hubspot/batch';
import {
  associateContactsWithCompanies,
  createCompanies,
  readCompaniesByProperty,
  searchCompaniesByDomain,
  updateCompanies,
} from '../../adapters/hubspot/companies';
import { BATCH_CONFLICT } from '../../adapters/hubspot/batch-conflict';
import { MISSING_PROPERTY } from '../../adapters/hubspot/errors';
import {
  forgetCompanies,
  keysOfCompanies,
  markAssociated,
  markMissed,
  recordCreating,
  saveCompanies,
  saveWritten,
  type CompanyMemberRow,
  type CompanyRow,
  type CompanyScope,
} from '../../adapters/store/companies-store';
import {
  COMPANY_ID_PROPERTY,
  changedProperties,
  companyCreateProperties,
  companyProperties,
  domainOfKey,
} from '../../domain/crm/companies';
import { byPrimary } from '../../domain/sync/contact-rollup';
import type { ObjectOutcome, WrittenContact } from '../../domain/sync/ports';
import { withProperties, writable, type CompanyProperties } from './companies-hubspot';
import type { ObjectWriterContext } from './stage';

/**
 * The HubSpot side of one companies pass, over the company rows the pass holds: find the companies without an id
 * (by the unique customer-id property those we may have created, then by domain: each one batch for the whole
 * pass), write each company's roll-up where it changed (updates first, then creates — with their associations to
 * this pass's contacts —: a customer moving between companies frees its id in the unique property before another
 * company takes it), associate the contact/company pairs still new (v4).
 */

export interface CompaniesPass {
  ctx: ObjectWriterContext;
  scope: CompanyScope;
  /** The company rows this pass holds, by key; kept up to date as companies are found, created or forgotten. */
  rows: Map<string, CompanyRow>;
  /** Every member of those companies (after this pass's moves). */
  members: Map<string, CompanyMemberRow[]>;
  props: CompanyProperties;
  /** This pass's contacts of the customers of each key (after the moves): associated when their company is created. */
  contactsOf: Map<string, { customerId: string; contactId: string }[]>;
  /** What became of each company's write (absent: nothing failed). */
  keyOutcomes: Map<string, ObjectOutcome>;
  createAllowed: boolean;
  missedRetryMs: number;
}

const membersOf = (pass: CompaniesPass, key: string) => pass.members.get(key) ?? [];

/** Members, primary (created first) first. */
function ordered(members: readonly CompanyMemberRow[]): CompanyMemberRow[] {
  return [...members].sort((a, b) => byPrimary(a.status, b.status));
}

function failure(r: Extract<BatchResult, { ok: false }>): ObjectOutcome {
  return { ok: false, permanent: r.permanent, message: r.message, category: r.category };
}

const GONE: ObjectOutcome = {
  ok: false,
  permanent: false,
  message: 'The HubSpot company was deleted; it is found or created again',
  category: 'OBJECT_NOT_FOUND',
};

/** Companies found in HubSpot for keys without an id, by key. */
type Found = Map<string, { companyId: string; uniqueValue: string | null; ours: boolean }>;

/**
 * Finds the companies of the held keys that have members but no HubSpot id; answers the rows still without one that
 * may be created (none when creating is turned off: those keys are not looked for again for a while).
 *
 * A key recorded as being created (a create of ours whose answer may have been lost) is read by its unique
 * customer id first; a key never sent is not: its create carries that unique value, so HubSpot refuses it (409)
 * when a company holds it, and only then is it read (`runCreates`). With creating turned off there is no create
 * to refuse: every key is read. Keys with a domain never resolved are searched by domain (a company of the
 * merchant's CRM): one search per 100 domains for the whole pass.
 */
export async function resolveCompanies(pass: CompaniesPass): Promise<CompanyRow[]> {
  const { ctx, scope } = pass;
  const now = Date.now();
  const lookFor = [...pass.rows.values()].filter(
    (r) =>
      !r.companyId &&
      membersOf(pass, r.key).length > 0 &&
      (pass.createAllowed || !r.missedAt || now - r.missedAt.getTime() >= pass.missedRetryMs),
  );
  if (lookFor.length === 0) return [];
  await pass.props.ensure();
  const found: Found = new Map();
  const taken = new Set<string>();

  // 1. By the unique customer-id property, for the keys a create of ours may have reached.
  await readByUniqueValue(
    pass,
    lookFor.filter((r) => !pass.createAllowed || r.createdByUs || r.uniqueValue !== null),
    found,
    taken,
  );
  // 2. By domain (search: one request per 100 domains for the whole pass).
  const byDomain = lookFor.filter((r) => !found.has(r.key) && domainOfKey(r.key));
  if (byDomain.length > 0) {
    const hits = await searchCompaniesByDomain(ctx.portal, byDomain.map((r) => domainOfKey(r.key)!));
    await adopt(pass, byDomain, found, taken, hits, (r) => [domainOfKey(r.key)!], false);
  }

  await saveFound(pass, found);
  const left = lookFor.filter((r) => !found.has(r.key));
  if (!pass.createAllowed) {
    await markMissed(ctx.db, scope, left.map((r) => r.key));
    return [];
  }
  return left;
}

/**
 * Reads companies by the unique customer-id property (one batch read per 100 values): the value a create of ours
 * carried, then the members' ids (a company that already holds one of our customers).
 */
async function readByUniqueValue(pass: CompaniesPass, rows: CompanyRow[], found: Found, taken: Set<string>): Promise<void> {
  if (rows.length === 0 || !pass.props.uniqueAvailable()) return;
  const candidatesOf = (r: CompanyRow) => [
    ...new Set([r.uniqueValue, ...ordered(membersOf(pass, r.key)).map((m) => m.customerId)].filter((v): v is string => !!v)),
  ];
  const values = [...new Set(rows.flatMap(candidatesOf))];
  if (values.length === 0) return;
  const hits = await withProperties(pass.props, () => readCompaniesByProperty(pass.ctx.portal, COMPANY_ID_PROPERTY, values), new Map<string, string>());
  await adopt(pass, rows, found, taken, hits, candidatesOf, true);
}

/** Takes, for each row not found yet, the first candidate HubSpot has that no other key of ours holds. */
async function adopt(
  pass: CompaniesPass,
  rows: CompanyRow[],
  found: Found,
  taken: Set<string>,
  hits: Map<string, string>,
  candidatesOf: (r: CompanyRow) => string[],
  viaUnique: boolean,
): Promise<void> {
  if (hits.size === 0) return;
  const owners = await keysOfCompanies(pass.ctx.db, pass.scope, [...new Set(hits.values())]);
  for (const r of rows) {
    if (found.has(r.key)) continue;
    for (const value of candidatesOf(r)) {
      const id = hits.get(value);
      if (!id || taken.has(id) || (owners.get(id) ?? r.key) !== r.key) continue;
      const pending = viaUnique && value === r.uniqueValue;
      found.set(r.key, { companyId: id, uniqueValue: viaUnique ? value : null, ours: pending && r.createdByUs });
      taken.add(id);
      break;
    }
  }
}

async function saveFound(pass: CompaniesPass, found: Found): Promise<void> {
  const saved = [...found].map(([key, f]) => ({ key, companyId: f.companyId, createdByUs: f.ours, uniqueValue: f.uniqueValue, written: null }));
  await saveCompanies(pass.ctx.db, pass.scope, saved);
  for (const s of saved) {
    const row = pass.rows.get(s.key)!;
    Object.assign(row, { companyId: s.companyId, createdByUs: s.createdByUs, uniqueValue: s.uniqueValue, written: null, missedAt: null });
  }
}

interface Update {
  row: CompanyRow;
  desired: Record<string, string>;
  changed: Record<string, string>;
}

interface Create {
  row: CompanyRow;
  desired: Record<string, string>;
  uniqueValue: string | null;
}

function desiredOf(pass: CompaniesPass, row: CompanyRow): Record<string, string> {
  return writable(pass.props, companyProperties(row.key, membersOf(pass, row.key), row.createdByUs));
}

/** Writes the roll-up of every held company with an id whose roll-up changed, then creates `toCreate`. */
export async function writeCompanies(pass: CompaniesPass, toCreate: CompanyRow[]): Promise<void> {
  const updates: Update[] = [];
  for (const row of pass.rows.values()) {
    if (!row.companyId) continue;
    const desired = desiredOf(pass, row);
    const changed = changedProperties(desired, row.written);
    if (Object.keys(changed).length > 0) updates.push({ row, desired, changed });
  }
  if (updates.length === 0 && toCreate.length === 0) return;
  await pass.props.ensure();
  const creates: Create[] = toCreate.map((row) => {
    const desired = writable(pass.props, companyCreateProperties(row.key, membersOf(pass, row.key)));
    return { row, desired, uniqueValue: desired[COMPANY_ID_PROPERTY] || null };
  });
  // A company giving up a customer id that another company of this pass takes is written first.
  const taken = new Set([...updates.map((u) => u.desired[COMPANY_ID_PROPERTY]), ...creates.map((c) => c.uniqueValue)].filter((v): v is string => !!v));
  const releasing = updates.filter((u) => u.row.uniqueValue && taken.has(u.row.uniqueValue) && u.desired[COMPANY_ID_PROPERTY] !== u.row.uniqueValue);
  await runUpdates(pass, releasing);
  await runUpdates(pass, updates.filter((u) => !releasing.includes(u)));
  await runCreates(pass, creates);
}

async function runUpdates(pass: CompaniesPass, updates: Update[], mayReprovision = true): Promise<void> {
  if (updates.length === 0) return;
  const { ctx, scope } = pass;
  const results = await updateCompanies(ctx.portal, updates.map((u) => ({ id: u.row.companyId!, properties: u.changed })));
  const saved: { key: string; written: Record<string, string>; uniqueValue: string | null }[] = [];
  const missingProperty: Update[] = [];
  const gone: string[] = [];
  updates.forEach((u, i) => {
    const r = results[i]!;
    if (r.ok) {
      saved.push({ key: u.row.key, written: u.desired, uniqueValue: u.desired[COMPANY_ID_PROPERTY] ?? u.row.uniqueValue });
    } else if (r.category === MISSING_PROPERTY && mayReprovision) {
      missingProperty.push(u);
    } else if (r.category === 'OBJECT_NOT_FOUND') {
      gone.push(u.row.key);
    } else {
      pass.keyOutcomes.set(u.row.key, failure(r));
    }
  });
  await saveWritten(ctx.db, scope, saved);
  for (const s of saved) Object.assign(pass.rows.get(s.key)!, { written: s.written, uniqueValue: s.uniqueValue });
  await forget(pass, gone);
  if (missingProperty.length > 0) {
    await pass.props.reprovision();
    // Values went with the deleted property: write everything again.
    const again = missingProperty.map((u) => {
      const desired = desiredOf(pass, u.row);
      return { row: u.row, desired, changed: desired };
    });
    await runUpdates(pass, again, false);
  }
}

interface CreateRound {
  /** A refusal naming a missing property may provision again (once a pass). */
  mayReprovision: boolean;
  /** A 409 on the whole batch is answered for every input, then they are read (the first create of a pass). */
  readOnConflict: boolean;
  /** The pass's contacts are associated in the create itself. */
  withContacts: boolean;
}

const FIRST_ROUND: CreateRound = { mayReprovision: true, readOnConflict: true, withContacts: true };

/** This pass's contacts of a company's customers, to associate on create (a contact once). */
function contactsToLink(pass: CompaniesPass, key: string): { customerId: string; contactId: string }[] {
  const members = new Set(membersOf(pass, key).map((m) => m.customerId));
  return (pass.contactsOf.get(key) ?? []).filter((c) => members.has(c.customerId));
}

async function runCreates(pass: CompaniesPass, creates: Create[], round: CreateRound = FIRST_ROUND): Promise<void> {
  if (creates.length === 0) return;
  const { ctx, scope } = pass;
  // Remembered before the call: a create HubSpot applied but whose answer was lost is found by this value next time.
  await recordCreating(ctx.db, scope, creates.map((c) => ({ key: c.row.key, uniqueValue: c.uniqueValue })));
  for (const c of creates) Object.assign(c.row, { uniqueValue: c.uniqueValue, createdByUs: true });
  const links = new Map(creates.map((c) => [c.row.key, round.withContacts ? contactsToLink(pass, c.row.key) : []]));
  const results = await createCompanies(
    ctx.portal,
    COMPANY_ID_PROPERTY,
    creates.map((c) => ({ key: c.uniqueValue ?? c.row.key, properties: c.desired, contactIds: links.get(c.row.key)!.map((l) => l.contactId) })),
    { wholeBatchConflicts: round.readOnConflict },
  );
  const saved: { key: string; companyId: string; createdByUs: boolean; uniqueValue: string | null; written: Record<string, string> | null }[] = [];
  const linked: { customerId: string; contactId: string }[] = [];
  const conflicts: { create: Create; existingId: string }[] = [];
  const batchConflicts: Create[] = [];
  const missingProperty: Create[] = [];
  const withoutContacts: Create[] = [];
  creates.forEach((c, i) => {
    const r = results[i]!;
    if (r.ok) {
      saved.push({ key: c.row.key, companyId: r.id, createdByUs: true, uniqueValue: c.uniqueValue, written: c.desired });
      linked.push(...links.get(c.row.key)!);
    } else if (r.category === BATCH_CONFLICT) batchConflicts.push(c);
    else if (r.status === 409 && r.existingId) conflicts.push({ create: c, existingId: r.existingId });
    else if (r.category === MISSING_PROPERTY && round.mayReprovision) missingProperty.push(c);
    // A refused create that carried contacts (one deleted meanwhile?): sent again without them, associated after.
    else if (r.permanent && links.get(c.row.key)!.length > 0) withoutContacts.push(c);
    else pass.keyOutcomes.set(c.row.key, failure(r));
  });

  // 409: a company already holds that customer id — ours whose answer was lost (adopted, then written in full),
  // or another key's that has not given it up yet (tried again).
  const owners = await keysOfCompanies(ctx.db, scope, conflicts.map((c) => c.existingId));
  const adopted: CompanyRow[] = [];
  for (const { create, existingId } of conflicts) {
    const owner = owners.get(existingId);
    if (owner && owner !== create.row.key) {
      pass.keyOutcomes.set(create.row.key, {
        ok: false,
        permanent: false,
        message: `HubSpot company ${existingId} still holds customer id ${create.uniqueValue}`,
        category: 'CONFLICT',
      });
      continue;
    }
    saved.push({ key: create.row.key, companyId: existingId, createdByUs: true, uniqueValue: create.uniqueValue, written: null });
    adopted.push(create.row);
  }
  await saveCompanies(ctx.db, scope, saved);
  for (const s of saved) Object.assign(pass.rows.get(s.key)!, { companyId: s.companyId, createdByUs: s.createdByUs, uniqueValue: s.uniqueValue, written: s.written });
  await markAssociated(ctx.db, scope, linked);
  const contactOf = new Map(linked.map((l) => [l.customerId, l.contactId]));
  for (const members of pass.members.values()) {
    for (const m of members) m.associatedContactId = contactOf.get(m.customerId) ?? m.associatedContactId;
  }

  // The whole batch refused for a customer id a company holds: read its keys, take what is found, create the rest.
  if (batchConflicts.length > 0) {
    const found: Found = new Map();
    await readByUniqueValue(pass, batchConflicts.map((c) => c.row), found, new Set());
    await saveFound(pass, found);
    adopted.push(...batchConflicts.filter((c) => found.has(c.row.key)).map((c) => c.row));
  }
  await runUpdates(
    pass,
    adopted.map((row) => {
      const desired = desiredOf(pass, row);
      return { row, desired, changed: desired };
    }),
  );
  await runCreates(
    pass,
    batchConflicts.filter((c) => !pass.rows.get(c.row.key)!.companyId),
    { ...round, readOnConflict: false },
  );
  if (missingProperty.length > 0) {
    await pass.props.reprovision();
    await runCreates(
      pass,
      missingProperty.map((c) => {
        const desired = writable(pass.props, c.desired);
        return { row: c.row, desired, uniqueValue: desired[COMPANY_ID_PROPERTY] || null };
      }),
      { ...round, mayReprovision: false },
    );
  }
  await runCreates(pass, withoutContacts, { ...round, withContacts: false });
}

async function forget(pass: CompaniesPass, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await forgetCompanies(pass.ctx.db, pass.scope, keys);
  for (const key of keys) {
    Object.assign(pass.rows.get(key)!, { companyId: null, uniqueValue: null, createdByUs: false, written: null });
    for (const m of membersOf(pass, key)) m.associatedContactId = null;
    pass.keyOutcomes.set(key, GONE);
  }
}

/**
 * Associates each customer's contact with its company where that pair is new — not made by the company's create —
 * (one v4 batch per 100 pairs for the pass); answers the customers whose association failed.
 */
export async function associateMembers(
  pass: CompaniesPass,
  customers: { contact: WrittenContact; key: string }[],
): Promise<Map<string, ObjectOutcome>> {
  const out = new Map<string, ObjectOutcome>();
  const pairs = new Map<string, { contactId: string; companyId: string; key: string; customerIds: string[] }>();
  for (const { contact, key } of customers) {
    const companyId = pass.rows.get(key)?.companyId;
    if (!companyId) continue;
    const member = membersOf(pass, key).find((m) => m.customerId === contact.customerId);
    if (member?.associatedContactId === contact.contactId) continue;
    const id = `${contact.contactId}>${companyId}`;
    const pair = pairs.get(id) ?? { contactId: contact.contactId, companyId, key, customerIds: [] };
    pair.customerIds.push(contact.customerId);
    pairs.set(id, pair);
  }
  if (pairs.size === 0) return out;
  const list = [...pairs.values()];
  const results = await associateContactsWithCompanies(pass.ctx.portal, list);
  const associated: { customerId: string; contactId: string }[] = [];
  const gone = new Set<string>();
  list.forEach((p, i) => {
    const r = results[i]!;
    if (r.ok) {
      for (const customerId of p.customerIds) associated.push({ customerId, contactId: p.contactId });
      return;
    }
    if (r.missing === 'company') gone.add(p.key);
    for (const customerId of p.customerIds) out.set(customerId, { ok: false, permanent: r.permanent, message: r.message, category: r.category });
  });
  await markAssociated(pass.ctx.db, pass.scope, associated);
  await forget(pass, [...gone]);
  return out;
}
