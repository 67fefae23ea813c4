import { recordsForCustomers, customerKeyId } from '../../adapters/store/sync-store';
import { loadDeals, saveDealSetup } from '../../adapters/store/deals-store';
import { savePropertyProblems } from '../../adapters/store/connection-health';
import { ConnectionHubSpotError } from '../../adapters/hubspot/errors';
import { desiredDeals } from '../../domain/crm/deals';
import type { ObjectOutcome, WrittenContact } from '../../domain/sync/ports';
import { DEALS_PROBLEM, dealSetup, refreshCurrencies } from './deal-provisioning';
import { planDeals } from './deal-plan';
import { DealPass } from './deal-pass';
import type { CrmObjectWriter, ObjectWriterContext } from './stage';

/**
 * A HubSpot deal per Stripe subscription (and per paid one-off Checkout session when the merchant turns it on),
 * in the pipeline "Stripe subscriptions", associated with the customer's contact and company. Per pass, for all
 * its customers at once: their records are read in one query, the deals they call for are derived
 * (domain/crm/deals.ts) and compared with what we last wrote (`hubspot_deals`), and only what differs is sent:
 * unknown deals are created with their contact and company associations in the same call, without a read first —
 * their unique key makes HubSpot refuse (409) a deal that exists (created by a call whose answer was lost, or
 * before a reinstall); such a batch is then read by its keys (one batch read), the deals found taken and updated,
 * the rest created, so none is made twice; changed deals are updated by id; new contacts or companies of known
 * deals are associated in v4 batch calls.
 */
export const dealsWriter: CrmObjectWriter = {
  name: 'deals',
  enabled: (settings) => settings.crm.deals.enabled,
  write: writeDeals,
};

async function writeDeals(ctx: ObjectWriterContext, contacts: WrittenContact[]): Promise<Map<string, ObjectOutcome>> {
  const wanted = await wantedDeals(ctx, contacts);
  if (wanted.length === 0) return new Map();
  const customerIds = [...new Set(wanted.map((w) => w.customerId))];
  const stored = await loadDeals(ctx.db, ctx.account, ctx.livemode, ctx.portal.portalId, customerIds);
  let setup = await dealSetup(ctx);
  if ('problem' in setup) return new Map();
  let plan = planDeals(wanted, stored, setup);
  if (plan.unknown.length + plan.changed.length + plan.relink.length === 0) return new Map();

  const currencies = [...plan.unknown, ...plan.changed].map((p) => p.deal.currency).filter((c): c is string => c !== null);
  const refreshed = await refreshCurrencies(ctx, setup, currencies);
  if (refreshed !== setup) {
    setup = refreshed;
    plan = planDeals(wanted, stored, setup);
  }

  const pass = new DealPass(ctx, setup);
  try {
    await pass.run(plan);
  } catch (err) {
    if (!(err instanceof ConnectionHubSpotError) || err.category !== 'MISSING_SCOPES') throw err;
    // Deals only lack a scope (an install made before deals existed): contacts go on; the problem is shown.
    await recordScopeProblem(ctx, err);
  } finally {
    await pass.save();
  }
  return pass.outcomes();
}

/** The deals each written customer calls for, from its records (one query for the pass). */
async function wantedDeals(ctx: ObjectWriterContext, contacts: WrittenContact[]) {
  const keys = contacts.map((c) => ({ account: ctx.account, livemode: ctx.livemode, customerId: c.customerId }));
  const records = await recordsForCustomers(ctx.db, keys);
  return contacts.flatMap((c, i) =>
    desiredDeals({ customerId: c.customerId, customerName: c.status.name, records: records.get(customerKeyId(keys[i]!)) ?? [] }, ctx.settings.crm.deals).map(
      (deal) => ({ customerId: c.customerId, contactId: c.contactId, companyId: ctx.companyOf.get(c.customerId) ?? null, deal }),
    ),
  );
}

async function recordScopeProblem(ctx: ObjectWriterContext, err: ConnectionHubSpotError): Promise<void> {
  const problem = `HubSpot has not granted this connection the deals scopes (crm.objects.deals.read/write): reconnect HubSpot to sync deals (${err.message})`;
  await saveDealSetup(ctx.db, {
    portalId: ctx.portal.portalId,
    propertiesHash: null,
    pipelineId: null,
    stageIds: null,
    fallback: false,
    currencies: [],
    currenciesCheckedAt: null,
    problem,
  });
  await savePropertyProblems(ctx.db, ctx.portal.portalId, [DEALS_PROBLEM], [{ name: DEALS_PROBLEM, category: err.category, message: problem }]);
  ctx.logger.warn({ portalId: ctx.portal.portalId }, 'deals cannot be written in this HubSpot portal: scopes missing');
}
