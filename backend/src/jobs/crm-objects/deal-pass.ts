import { createDeals, readDealsByProperty, updateDeals, associateDeals, dissociateDeals, type DealAssociationTarget } from '../../adapters/hubspot/deals';
import type { BatchResult } from '../../adapters/hubspot/batch';
import { BATCH_CONFLICT } from '../../adapters/hubspot/batch-conflict';
import { MISSING_PROPERTY, PermanentHubSpotError, RetryableHubSpotError, isPortalWideCategory, missingProperties, type RetryReason } from '../../adapters/hubspot/errors';
import { forgetDeals, saveDeals, type StoredDeal } from '../../adapters/store/deals-store';
import type { ObjectOutcome } from '../../domain/sync/ports';
import { dealSetup, forgetCurrency, type Reprovision, type UsableDealSetup } from './deal-provisioning';
import { hashOf, hubspotProperties, keyPropertyOf, type DealPlan, type PlannedDeal } from './deal-plan';
import type { ObjectWriterContext } from './stage';

/**
 * The HubSpot calls of one pass's deals, and what they leave behind: the deals to record (`save`) and each
 * customer's outcome. A refusal that names something of ours gone missing in the portal (a deleted property,
 * pipeline or stage, a currency removed from the portal) is mended once in the pass and the refused deals sent
 * again; a deal deleted in HubSpot is forgotten and made again by the next pass; a create answered 409 (the deal
 * exists: a create whose answer was lost) takes the existing deal and updates it. A failure of the whole portal
 * (rate limit, outage) is thrown once what succeeded is recorded.
 */
export class DealPass {
  private readonly rows = new Map<string, StoredDeal>();
  private readonly gone = new Set<string>();
  private readonly results = new Map<string, ObjectOutcome>();
  private portalWide: { category: string; message: string } | null = null;
  /** Set when the portal's setup could not be mended: the deals left are not written in this pass. */
  private unavailable = false;

  constructor(
    private readonly ctx: ObjectWriterContext,
    private setup: UsableDealSetup,
  ) {}

  async run(plan: DealPlan): Promise<void> {
    // Deals we have no record of are created straight away: the unique key makes HubSpot refuse (409) one that
    // exists (a create whose answer was lost, a deal table that forgot its deals); only then are they read.
    const late = await this.create(plan.unknown, false, true);
    const updated = await this.update([...plan.changed, ...late], false);
    await this.link([...updated, ...plan.relink]);
    if (this.portalWide) {
      throw new RetryableHubSpotError({
        reason: this.portalWide.category.toLowerCase() as RetryReason,
        message: this.portalWide.message,
        operation: 'deals',
        attempts: 1,
      });
    }
  }

  async save(): Promise<void> {
    const { db, account, livemode, portal } = this.ctx;
    await forgetDeals(db, account, livemode, portal.portalId, [...this.gone]);
    await saveDeals(db, account, livemode, portal.portalId, [...this.rows.values()].filter((r) => !this.gone.has(r.dealKey)));
  }

  outcomes(): Map<string, ObjectOutcome> {
    return this.results;
  }

  /** Deals looked up by their unique key: those HubSpot has are taken (to be written in full), the rest answered missing. */
  private async lookup(unknown: PlannedDeal[]): Promise<{ found: PlannedDeal[]; missing: PlannedDeal[] }> {
    const found: PlannedDeal[] = [];
    const missing: PlannedDeal[] = [];
    const byProperty = new Map<string, PlannedDeal[]>();
    for (const p of unknown) byProperty.set(keyPropertyOf(p), [...(byProperty.get(keyPropertyOf(p)) ?? []), p]);
    for (const [property, group] of byProperty) {
      const ids = await this.readMending(() => readDealsByProperty(this.ctx.portal, property, group.map((p) => p.deal.key)));
      if (this.unavailable) return { found: [], missing: [] };
      for (const p of group) {
        const id = ids.get(p.deal.key);
        if (id) found.push(this.adopt(p, id));
        else missing.push(p);
      }
    }
    return { found, missing };
  }

  /** A read naming our unique property when it was deleted: the properties are made again, the read repeated. */
  private async readMending<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof PermanentHubSpotError) || !missingProperties(err).missing) throw err;
      await this.mend(new Set(['properties']));
      if (this.unavailable) return new Map() as T;
      return read();
    }
  }

  /**
   * Creates deals with their contact and company; answers the deals found to exist already. `readOnConflict`: a
   * batch HubSpot refuses as a whole for a key that exists (409, atomic) is read by its keys, the deals found taken
   * and the rest created again (then a 409 is isolated to its deal, whose existing id it names).
   */
  private async create(plans: PlannedDeal[], resend: boolean, readOnConflict: boolean): Promise<PlannedDeal[]> {
    if (plans.length === 0 || this.unavailable) return [];
    const results = await createDeals(
      this.ctx.portal,
      plans.map((p) => ({
        key: p.deal.key,
        keyProperty: keyPropertyOf(p),
        properties: p.properties,
        associations: [{ to: 'contacts' as const, id: p.contactId }, ...(p.companyId ? [{ to: 'companies' as const, id: p.companyId }] : [])],
      })),
      { wholeBatchConflicts: readOnConflict },
    );
    const existing: PlannedDeal[] = [];
    const conflicted: PlannedDeal[] = [];
    const refused: [PlannedDeal, BatchResult][] = [];
    results.forEach((r, i) => {
      const p = plans[i]!;
      if (r.ok) this.rows.set(p.deal.key, this.stored(p, r.id, p.hash, p.contactId, p.companyId));
      else if (r.category === BATCH_CONFLICT) conflicted.push(p);
      else if (r.status === 409 && r.existingId) existing.push(this.adopt(p, r.existingId));
      else if (!resend && mendable(r)) refused.push([p, r]);
      else this.fail(p, r);
    });
    if (conflicted.length > 0) {
      const { found, missing } = await this.lookup(conflicted);
      existing.push(...found, ...(await this.create(missing, resend, false)));
    }
    const again = await this.mendAndReplan(refused);
    return [...existing, ...(await this.create(again, true, readOnConflict))];
  }

  /** Updates known deals by id; answers those updated. */
  private async update(plans: PlannedDeal[], resend: boolean): Promise<PlannedDeal[]> {
    if (plans.length === 0 || this.unavailable) return [];
    const results = await updateDeals(this.ctx.portal, plans.map((p) => ({ dealId: this.row(p).dealId, properties: p.properties })));
    const done: PlannedDeal[] = [];
    const refused: [PlannedDeal, BatchResult][] = [];
    results.forEach((r, i) => {
      const p = plans[i]!;
      if (r.ok) {
        this.rows.set(p.deal.key, { ...this.row(p), writtenHash: p.hash });
        done.push(p);
      } else if (r.category === 'OBJECT_NOT_FOUND') {
        this.gone.add(p.deal.key);
        this.fail(p, { ...r, permanent: false, message: `the deal ${this.row(p).dealId} was deleted in HubSpot; it is made again` });
      } else if (!resend && mendable(r)) refused.push([p, r]);
      else this.fail(p, r);
    });
    const again = await this.mendAndReplan(refused);
    return [...done, ...(await this.update(again, true))];
  }

  /** Associates deals with their contact and company where these differ from the ones we associated. */
  private async link(plans: PlannedDeal[]): Promise<void> {
    if (this.unavailable) return;
    const contacts = plans.filter((p) => this.row(p).contactId !== p.contactId);
    const companies = plans.filter((p) => p.companyId !== null && this.row(p).companyId !== p.companyId);
    await this.associate('contacts', contacts, (p) => p.contactId, (r) => r.contactId, (r, id) => ({ ...r, contactId: id }));
    await this.associate('companies', companies, (p) => p.companyId!, (r) => r.companyId, (r, id) => ({ ...r, companyId: id }));
  }

  private async associate(
    to: DealAssociationTarget,
    plans: PlannedDeal[],
    target: (p: PlannedDeal) => string,
    previous: (r: StoredDeal) => string | null,
    withTarget: (r: StoredDeal, id: string) => StoredDeal,
  ): Promise<void> {
    if (plans.length === 0) return;
    const refused = await associateDeals(this.ctx.portal, to, plans.map((p) => ({ dealId: this.row(p).dealId, toId: target(p) })));
    const stale: { dealId: string; toId: string }[] = [];
    for (const p of plans) {
      const row = this.row(p);
      const r = refused.get(row.dealId);
      if (r && !r.ok) {
        this.fail(p, { ok: false, permanent: true, category: r.category, message: `associating the deal with its ${to === 'contacts' ? 'contact' : 'company'}: ${r.message}` });
        continue;
      }
      const before = previous(row);
      if (before !== null && before !== target(p)) stale.push({ dealId: row.dealId, toId: before });
      this.rows.set(p.deal.key, withTarget(row, target(p)));
    }
    try {
      await dissociateDeals(this.ctx.portal, to, stale);
    } catch (err) {
      // The old contact or company may be gone already; the deal is linked to the right one either way.
      if (!(err instanceof PermanentHubSpotError)) throw err;
      this.ctx.logger.warn({ portalId: this.ctx.portal.portalId, err: err.message }, `could not remove old deal associations to ${to}`);
    }
  }

  /**
   * Mends what the refusals name (properties or pipeline provisioned again, a currency the portal lacks left out),
   * then answers the refused deals with their properties computed again, to be sent once more.
   */
  private async mendAndReplan(refused: [PlannedDeal, BatchResult][]): Promise<PlannedDeal[]> {
    if (refused.length === 0) return [];
    const needs = new Set<Reprovision>();
    for (const [p, r] of refused) {
      if (r.ok) continue;
      const invalid = invalidOptions(r.message);
      if (r.category === MISSING_PROPERTY) needs.add('properties');
      if (invalid.has('pipeline') || invalid.has('dealstage')) needs.add('pipeline');
      if (invalid.has('deal_currency_code') && p.deal.currency) this.setup = await forgetCurrency(this.ctx, this.setup, p.deal.currency);
    }
    if (needs.size > 0) await this.mend(needs);
    if (this.unavailable) return [];
    return refused.map(([p]) => {
      const properties = hubspotProperties(p.deal, this.setup);
      return { ...p, properties, hash: hashOf(properties) };
    });
  }

  private async mend(needs: Set<Reprovision>): Promise<void> {
    const setup = await dealSetup(this.ctx, needs);
    if ('problem' in setup) this.unavailable = true;
    else this.setup = setup;
  }

  /** A deal HubSpot already has, taken as ours: written again in full and associated. */
  private adopt(p: PlannedDeal, dealId: string): PlannedDeal {
    const stored = this.stored(p, dealId, null, null, null);
    this.rows.set(p.deal.key, stored);
    return { ...p, stored };
  }

  private stored(p: PlannedDeal, dealId: string, hash: string | null, contactId: string | null, companyId: string | null): StoredDeal {
    return { dealKey: p.deal.key, customerId: p.customerId, kind: p.deal.kind, dealId, writtenHash: hash, contactId, companyId };
  }

  /** The deal as recorded so far in this pass, else as stored. */
  private row(p: PlannedDeal): StoredDeal {
    return this.rows.get(p.deal.key) ?? p.stored!;
  }

  /** The customer's outcome: a failure that may pass outweighs a refusal (the customer is tried again). */
  private fail(p: PlannedDeal, r: BatchResult): void {
    if (r.ok) return;
    if (isPortalWideCategory(r.category)) this.portalWide ??= { category: r.category, message: r.message };
    const what = p.deal.kind === 'subscription' ? `subscription ${p.deal.key}` : `Checkout session ${p.deal.key}`;
    const mine: ObjectOutcome = { ok: false, permanent: r.permanent, message: `${what}: ${r.message}`, category: r.category };
    const before = this.results.get(p.customerId);
    if (!before || before.ok) {
      this.results.set(p.customerId, mine);
      return;
    }
    this.results.set(p.customerId, {
      ok: false,
      permanent: before.permanent && mine.permanent,
      message: `${before.message}; ${mine.message}`,
      category: before.permanent && !mine.permanent ? mine.category : before.category,
    });
  }
}

/** Whether a refusal names something of ours that a provisioning run (or leaving a currency out) mends. */
function mendable(r: BatchResult): boolean {
  if (r.ok) return false;
  if (r.category === MISSING_PROPERTY) return true;
  const invalid = invalidOptions(r.message);
  return invalid.has('pipeline') || invalid.has('dealstage') || invalid.has('deal_currency_code');
}

/** Properties an INVALID_OPTION refusal names (HubSpot's "Property values were not valid: [...]" list). */
export function invalidOptions(message: string): Set<string> {
  const out = new Set<string>();
  const list = /Property values were not valid: (\[.*\])\s*$/s.exec(message)?.[1];
  if (!list) return out;
  try {
    for (const p of JSON.parse(list) as { error?: unknown; name?: unknown }[]) {
      if (p && p.error === 'INVALID_OPTION' && typeof p.name === 'string') out.add(p.name);
    }
  } catch {
    // not the JSON list: nothing named
  }
  return out;
}
