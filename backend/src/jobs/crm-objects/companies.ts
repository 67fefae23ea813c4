import { randomUUID } from 'node:crypto';
import type { ObjectOutcome, WrittenContact } from '../../domain/sync/ports';
import { companyTargetOf, type CompanyTarget } from '../../domain/crm/companies';
import {
  businessNames,
  claimCompanies,
  membershipsOf,
  membersOf,
  releaseCompanies,
  saveMemberships,
  type CompanyScope,
} from '../../adapters/store/companies-store';
import { companyPropertySet, isMissingScopes, recordScopesRefused, scopesRecentlyRefused } from './companies-hubspot';
import { associateMembers, resolveCompanies, writeCompanies, type CompaniesPass } from './companies-pass';
import type { CrmObjectWriter, ObjectWriterContext } from './stage';

/**
 * The companies writer (issue 13, part 1): each customer with a business name or an email on a company domain is
 * associated with a HubSpot company — found by domain (or, for one we may have created, by the unique customer-id
 * company property), else created (when the settings allow; HubSpot refuses a second company with that unique id) —
 * whose Stripe properties are the roll-up of its customers (ids, MRR, subscription status). Runs first in the
 * stage: it fills `ctx.companyOf` for the deals and tickets writers.
 *
 * A pass: the customers' company keys (domain/crm/companies.ts) → lease those companies' rows (another pass writing
 * one: its customers are tried again shortly) → move customers between companies → find or create the companies
 * without an id (companies-pass.ts; a new company carries its associations with this pass's contacts) → write what
 * changed in each company's roll-up → associate the contact/company pairs still new. Every HubSpot call is a batch
 * of ≤ 100 for the whole pass; a pass where nothing changed makes none.
 */

export interface CompaniesWriterOptions {
  /** How long a pass holds the company rows it writes (a crashed pass's lease expires). Default 120 s, as the pusher's. */
  leaseSeconds?: number;
  /** With creating turned off, how long a key found nowhere waits before it is looked for again. Default 1 h. */
  missedRetryMs?: number;
  /** After HubSpot refused the companies API (scopes not granted), how long before it is tried again. Default 1 h. */
  scopesRecheckMs?: number;
}

export function companiesWriter(opts: CompaniesWriterOptions = {}): CrmObjectWriter {
  return {
    name: 'companies',
    enabled: (settings) => settings.crm.companies.enabled,
    write: (ctx, contacts) => writeCustomersCompanies(ctx, contacts, opts),
  };
}

const BUSY: ObjectOutcome = {
  ok: false,
  permanent: false,
  message: "Another pass is writing this customer's HubSpot company; it is tried again shortly",
  category: 'COMPANY_BUSY',
};

async function writeCustomersCompanies(
  ctx: ObjectWriterContext,
  contacts: WrittenContact[],
  opts: CompaniesWriterOptions,
): Promise<Map<string, ObjectOutcome>> {
  const out = new Map<string, ObjectOutcome>();
  const scope: CompanyScope = { account: ctx.account, livemode: ctx.livemode, portalId: ctx.portal.portalId };
  const ids = contacts.map((c) => c.customerId);
  const names = await businessNames(ctx.db, ctx.account, ctx.livemode, ids);
  const current = await membershipsOf(ctx.db, scope, ids);
  const targets = new Map<string, CompanyTarget | null>();
  for (const c of contacts) {
    targets.set(
      c.customerId,
      companyTargetOf({ customerId: c.customerId, email: c.status.email, businessName: names.get(c.customerId) ?? null, deleted: c.status.deleted }),
    );
  }
  const keysOf = (customerId: string) =>
    [targets.get(customerId)?.key, current.get(customerId)?.key].filter((k): k is string => k !== undefined);
  const touched = new Set(ids.flatMap(keysOf));
  if (touched.size === 0) return out;
  if (await scopesRecentlyRefused(ctx, opts.scopesRecheckMs ?? 3_600_000)) return out;

  const token = randomUUID();
  const rows = await claimCompanies(ctx.db, scope, [...touched], token, opts.leaseSeconds ?? 120);
  try {
    const active: WrittenContact[] = [];
    for (const c of contacts) {
      if (keysOf(c.customerId).every((k) => rows.has(k))) active.push(c);
      else out.set(c.customerId, BUSY);
    }
    const moves = active
      .map((c) => ({ customerId: c.customerId, key: targets.get(c.customerId)?.key ?? null }))
      .filter((m) => m.key !== (current.get(m.customerId)?.key ?? null));
    if (moves.length > 0) await saveMemberships(ctx.db, scope, moves);

    const pass: CompaniesPass = {
      ctx,
      scope,
      rows,
      members: await membersOf(ctx.db, scope, [...rows.keys()]),
      props: companyPropertySet(ctx),
      contactsOf: contactsByKey(active, targets),
      keyOutcomes: new Map(),
      createAllowed: ctx.settings.crm.companies.create,
      missedRetryMs: opts.missedRetryMs ?? 3_600_000,
    };
    const toCreate = await resolveCompanies(pass);
    await writeCompanies(pass, toCreate);
    const associations = await associateMembers(
      pass,
      active.flatMap((contact) => {
        const key = targets.get(contact.customerId)?.key;
        return key ? [{ contact, key }] : [];
      }),
    );

    for (const c of active) {
      const target = targets.get(c.customerId)?.key;
      const previous = current.get(c.customerId)?.key;
      const outcomes = [target, previous]
        .filter((k): k is string => k !== undefined)
        .map((k) => pass.keyOutcomes.get(k))
        .concat(associations.get(c.customerId));
      const worst = worstOf(outcomes);
      if (worst) out.set(c.customerId, worst);
      const companyId = target ? pass.rows.get(target)?.companyId : null;
      if (companyId) ctx.companyOf.set(c.customerId, companyId);
    }
  } catch (err) {
    // Scopes not granted (an install older than companies): contacts go on without companies; see companies-hubspot.ts.
    if (!isMissingScopes(err)) throw err;
    await recordScopesRefused(ctx, err);
    return new Map();
  } finally {
    await releaseCompanies(ctx.db, scope, token);
  }
  return out;
}

/** This pass's contacts by the key of the company their customer belongs to. */
function contactsByKey(active: WrittenContact[], targets: Map<string, CompanyTarget | null>): Map<string, { customerId: string; contactId: string }[]> {
  const out = new Map<string, { customerId: string; contactId: string }[]>();
  for (const c of active) {
    const key = targets.get(c.customerId)?.key;
    if (key) out.set(key, [...(out.get(key) ?? []), { customerId: c.customerId, contactId: c.contactId }]);
  }
  return out;
}

/** A failure that may pass outweighs a refusal (the customer is tried again); none: undefined. */
function worstOf(outcomes: (ObjectOutcome | undefined)[]): ObjectOutcome | undefined {
  const failed = outcomes.filter((o): o is Extract<ObjectOutcome, { ok: false }> => !!o && !o.ok);
  return failed.find((o) => !o.permanent) ?? failed[0];
}
