import { createHash } from 'node:crypto';
import { ConnectionHubSpotError } from '../../adapters/hubspot/errors';
import { ensureDealPipeline, ensureDealProperties, readDealCurrencies } from '../../adapters/hubspot/deal-setup';
import { savePropertyProblems } from '../../adapters/store/connection-health';
import { loadDealSetup, saveDealSetup, type DealSetup } from '../../adapters/store/deals-store';
import { DEAL_STAGES, type DealStageKey } from '../../domain/crm/deal-stages';
import { DEAL_PROPERTIES, DEAL_PROPERTY_GROUP } from '../../domain/crm/deals';
import type { ObjectWriterContext } from './stage';

/**
 * What deals need in a portal — our deal properties, the pipeline and its stages, the currencies it has — kept in
 * the database (`hubspot_deal_setup`) so that a pass makes no call for it once the portal is provisioned. It is
 * provisioned again only when a write says something is gone (a deleted property, pipeline or stage: `reprovision`),
 * and the currencies are read again when a deal needs one the portal did not have (at most every 6 hours).
 *
 * When deals cannot be written in the portal — the install was not granted the deals scopes (installs made before
 * deals existed), or HubSpot refuses our properties or pipeline — that is recorded with the connection's property
 * problems (shown in the Stripe App, under the name `deals`) and tried again after an hour; contacts are written
 * meanwhile as usual.
 */

export interface UsableDealSetup {
  pipelineId: string;
  stageIds: Record<DealStageKey, string>;
  /** Upper-case codes the portal accepts as `deal_currency_code`. */
  currencies: Set<string>;
  currenciesCheckedAt: Date | null;
  fallback: boolean;
}

export type DealSetupResult = UsableDealSetup | { problem: string };

/** The problem's name among the connection's property problems. */
export const DEALS_PROBLEM = 'deals';
const PROBLEM_RETRY_MS = 60 * 60_000;
const CURRENCY_RECHECK_MS = 6 * 60 * 60_000;
const PROPERTIES_HASH = createHash('sha256').update(JSON.stringify({ group: DEAL_PROPERTY_GROUP, DEAL_PROPERTIES })).digest('hex').slice(0, 32);

export type Reprovision = 'properties' | 'pipeline';

/** The portal's deal setup: from the database when it is complete, else provisioned now (or its problem). */
export async function dealSetup(ctx: ObjectWriterContext, reprovision: ReadonlySet<Reprovision> = new Set()): Promise<DealSetupResult> {
  const portalId = ctx.portal.portalId;
  const row = await loadDealSetup(ctx.db, portalId);
  if (row && reprovision.size === 0) {
    if (row.problem === null && usable(row)) return toUsable(row);
    if (row.problem !== null && Date.now() - row.checkedAt.getTime() < PROBLEM_RETRY_MS) return { problem: row.problem };
  }
  const again = !row || row.problem !== null;
  const next: Omit<DealSetup, 'checkedAt'> = {
    portalId,
    propertiesHash: row?.propertiesHash ?? null,
    pipelineId: row?.pipelineId ?? null,
    stageIds: row?.stageIds ?? null,
    fallback: row?.fallback ?? false,
    currencies: row?.currencies ?? [],
    currenciesCheckedAt: row?.currenciesCheckedAt ?? null,
    problem: null,
  };
  try {
    if (again || reprovision.has('properties') || row.propertiesHash !== PROPERTIES_HASH) {
      const report = await ensureDealProperties(ctx.portal, DEAL_PROPERTY_GROUP, DEAL_PROPERTIES);
      next.currencies = report.currencies;
      next.currenciesCheckedAt = new Date();
      if (report.failed.length > 0) {
        next.problem = `HubSpot would not create the deal properties ${report.failed.map((f) => `${f.name} (${f.message})`).join(', ')}`;
      } else {
        next.propertiesHash = PROPERTIES_HASH;
      }
    }
    if (next.problem === null && (again || reprovision.has('pipeline') || !usable(next))) {
      const pipeline = await ensureDealPipeline(ctx.portal);
      if ('problem' in pipeline) next.problem = pipeline.problem;
      else Object.assign(next, { pipelineId: pipeline.pipelineId, stageIds: pipeline.stageIds, fallback: pipeline.fallback });
    }
  } catch (err) {
    if (!(err instanceof ConnectionHubSpotError) || err.category !== 'MISSING_SCOPES') throw err;
    next.problem = `HubSpot has not granted this connection the deals scopes (crm.objects.deals.read/write, crm.schemas.deals.read/write): reconnect HubSpot to sync deals (${err.message})`;
  }
  await saveDealSetup(ctx.db, next);
  await savePropertyProblems(ctx.db, portalId, [DEALS_PROBLEM], next.problem ? [{ name: DEALS_PROBLEM, category: null, message: next.problem }] : []);
  if (next.problem !== null) {
    ctx.logger.warn({ portalId, problem: next.problem }, 'deals cannot be written in this HubSpot portal');
    return { problem: next.problem };
  }
  if (next.fallback) ctx.logger.info({ portalId, pipelineId: next.pipelineId }, "deals use the portal's default pipeline");
  return toUsable({ ...next, checkedAt: new Date() });
}

/** Reads the portal's currencies again when a deal needs one it did not have and the last read is old. */
export async function refreshCurrencies(ctx: ObjectWriterContext, setup: UsableDealSetup, needed: Iterable<string>): Promise<UsableDealSetup> {
  const lacking = [...needed].some((c) => !setup.currencies.has(c));
  const stale = !setup.currenciesCheckedAt || Date.now() - setup.currenciesCheckedAt.getTime() > CURRENCY_RECHECK_MS;
  if (!lacking || !stale) return setup;
  const currencies = await readDealCurrencies(ctx.portal);
  const next = { ...setup, currencies: new Set(currencies), currenciesCheckedAt: new Date() };
  await saveCurrencies(ctx, next);
  return next;
}

/** HubSpot refused a currency we thought the portal had (removed since): deals go without it from now on. */
export async function forgetCurrency(ctx: ObjectWriterContext, setup: UsableDealSetup, code: string): Promise<UsableDealSetup> {
  const currencies = new Set(setup.currencies);
  currencies.delete(code);
  const next = { ...setup, currencies };
  await saveCurrencies(ctx, next);
  return next;
}

async function saveCurrencies(ctx: ObjectWriterContext, s: UsableDealSetup): Promise<void> {
  await saveDealSetup(ctx.db, {
    portalId: ctx.portal.portalId,
    propertiesHash: PROPERTIES_HASH,
    pipelineId: s.pipelineId,
    stageIds: s.stageIds,
    fallback: s.fallback,
    currencies: [...s.currencies].sort(),
    currenciesCheckedAt: s.currenciesCheckedAt,
    problem: null,
  });
}

function usable(s: Pick<DealSetup, 'propertiesHash' | 'pipelineId' | 'stageIds'>): boolean {
  return s.propertiesHash === PROPERTIES_HASH && s.pipelineId !== null && DEAL_STAGES.every((d) => !!s.stageIds?.[d.key]);
}

function toUsable(s: DealSetup): UsableDealSetup {
  return {
    pipelineId: s.pipelineId!,
    stageIds: s.stageIds as Record<DealStageKey, string>,
    currencies: new Set(s.currencies),
    currenciesCheckedAt: s.currenciesCheckedAt,
    fallback: s.fallback,
  };
}
