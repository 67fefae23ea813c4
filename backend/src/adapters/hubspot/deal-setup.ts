import type { PipelineInput } from '@hubspot/api-client/lib/codegen/crm/pipelines';
import type { PropertyCreate } from '@hubspot/api-client/lib/codegen/crm/properties';
import { ConnectionHubSpotError, PermanentHubSpotError } from './errors';
import type { HubSpotPortal } from './portal';
import {
  DEAL_PIPELINE_LABEL,
  DEAL_STAGES,
  fallbackStages,
  matchStages,
  type DealStageKey,
  type ExistingStage,
} from '../../domain/crm/deal-stages';
import type { DealPropertyDefinition } from '../../domain/crm/deals';

/**
 * What deals need in a portal, provisioned through HubSpot's APIs (properties v3 and pipelines v3 of deals), each
 * step reading first so that a second run creates nothing and a 409 (made meanwhile, or by a call whose answer was
 * lost) counts as existing.
 */

export interface DealPropertiesReport {
  /** Ours HubSpot refused to create (with its answer). */
  failed: { name: string; category: string; message: string }[];
  /** The codes (upper-case) of the `deal_currency_code` options: the currencies the portal has. */
  currencies: string[];
}

export async function ensureDealProperties(
  portal: HubSpotPortal,
  group: { name: string; label: string },
  definitions: readonly DealPropertyDefinition[],
): Promise<DealPropertiesReport> {
  const groups = await portal.call('crm', 'properties.deals.groups.list', (c, sdk) => c.crm.properties.groupsApi.getAll('deals', sdk));
  if (!groups.results.some((g) => g.name === group.name)) {
    await ignoringConflict(() =>
      portal.call('crm', 'properties.deals.groups.create', (c, sdk) =>
        c.crm.properties.groupsApi.create('deals', { name: group.name, label: group.label }, sdk),
      ),
    );
  }
  const all = await portal.call('crm', 'properties.deals.list', (c, sdk) => c.crm.properties.coreApi.getAll('deals', false, undefined, sdk));
  const existing = new Map(all.results.map((p) => [p.name, p as { type: string; hasUniqueValue?: boolean }]));
  const report: DealPropertiesReport = { failed: [], currencies: currencyOptions(all.results.find((p) => p.name === 'deal_currency_code')) };
  const missing: DealPropertyDefinition[] = [];
  for (const def of definitions) {
    const found = existing.get(def.name);
    if (!found) missing.push(def);
    // Someone else's property of that name: our writes and lookups by it would be refused.
    else if (found.type !== def.type || (def.hasUniqueValue && found.hasUniqueValue !== true)) {
      report.failed.push({ name: def.name, category: 'PROPERTY_MISMATCH', message: `an existing deal property ${def.name} is not a ${def.hasUniqueValue ? 'unique ' : ''}${def.type}` });
    }
  }
  if (missing.length > 0) report.failed.push(...(await createProperties(portal, group.name, missing)));
  return report;
}

/**
 * Creates the properties in one batch call (HubSpot answers 207 naming the ones it refused); when it refuses the
 * whole batch, one by one, so that each refusal is known (a 409 counts as created).
 */
async function createProperties(
  portal: HubSpotPortal,
  groupName: string,
  defs: DealPropertyDefinition[],
): Promise<DealPropertiesReport['failed']> {
  const inputs = defs.map((def) => toCreate(def, groupName));
  try {
    const answer = (await portal.call('crm', 'properties.deals.batch.create', (c, sdk) => c.crm.properties.batchApi.create('deals', { inputs }, sdk))) as {
      results?: { name: string }[];
      errors?: { category?: string; message?: string; context?: Record<string, string[]> }[];
    };
    const made = new Set((answer.results ?? []).map((r) => r.name));
    const failed: DealPropertiesReport['failed'] = [];
    for (const def of defs) {
      if (made.has(def.name)) continue;
      const e = (answer.errors ?? []).find((x) => Object.values(x.context ?? {}).some((v) => v.includes(def.name)));
      if (e?.category === 'OBJECT_ALREADY_EXISTS' || e?.category === 'CONFLICT') continue;
      failed.push({ name: def.name, category: e?.category ?? 'UNKNOWN', message: e?.message ?? 'HubSpot did not create it' });
    }
    return failed;
  } catch (err) {
    if (!(err instanceof PermanentHubSpotError)) throw err;
  }
  const failed: DealPropertiesReport['failed'] = [];
  for (const input of inputs) {
    try {
      await ignoringConflict(() => portal.call('crm', 'properties.deals.create', (c, sdk) => c.crm.properties.coreApi.create('deals', input, sdk)));
    } catch (err) {
      if (!(err instanceof PermanentHubSpotError)) throw err;
      failed.push({ name: input.name, category: err.category, message: err.message });
    }
  }
  return failed;
}

function toCreate(def: DealPropertyDefinition, groupName: string): PropertyCreate {
  return {
    name: def.name,
    label: def.label,
    description: def.description,
    type: def.type,
    fieldType: def.fieldType,
    groupName,
    ...(def.hasUniqueValue ? { hasUniqueValue: true } : {}),
  } as unknown as PropertyCreate;
}

/** The currencies the portal has (the options of `deal_currency_code`), upper-case. */
export async function readDealCurrencies(portal: HubSpotPortal): Promise<string[]> {
  const p = await portal.call('crm', 'properties.deals.get', (c, sdk) => c.crm.properties.coreApi.getByName('deals', 'deal_currency_code', false, undefined, sdk));
  return currencyOptions(p);
}

function currencyOptions(p: { options?: { value: string; hidden?: boolean }[] } | undefined): string[] {
  return [...new Set((p?.options ?? []).filter((o) => !o.hidden).map((o) => o.value.toUpperCase()))].sort();
}

export type DealPipelineSetup =
  | { pipelineId: string; stageIds: Record<DealStageKey, string>; fallback: boolean }
  | { problem: string };

/**
 * Our pipeline "Stripe subscriptions" with every stage of ours: found by label (and its missing stages added), or
 * created. When HubSpot will not create it (HubSpot's free CRM has a single deal pipeline; the refusal's wording is
 * not documented, so any refusal other than a missing scope counts), HubSpot's default deal pipeline stands in
 * (`fallbackStages`); without a usable one, the problem is answered.
 */
export async function ensureDealPipeline(portal: HubSpotPortal): Promise<DealPipelineSetup> {
  const ours = await findOurs(portal);
  if (ours) return completeStages(portal, ours);
  const input: PipelineInput = {
    label: DEAL_PIPELINE_LABEL,
    displayOrder: 1,
    stages: DEAL_STAGES.map((s, i) => ({ label: s.label, displayOrder: i, metadata: { probability: s.probability, isClosed: String(s.closed) } })),
  };
  try {
    const created = await portal.call('crm', 'pipelines.deals.create', (c, sdk) => c.crm.pipelines.pipelinesApi.create('deals', input, sdk));
    return completeStages(portal, { id: created.id, stages: created.stages as ExistingStage[] });
  } catch (err) {
    const refusal = refusalOf(err);
    if (!refusal) throw err;
    if (refusal.status === 409) {
      const again = await findOurs(portal);
      if (again) return completeStages(portal, again);
    }
    return fallback(portal, `HubSpot would not create the deal pipeline "${DEAL_PIPELINE_LABEL}" (${refusal.message})`);
  }
}

/** A refusal of the pipeline itself (not of the connection, nor a missing scope, which the caller handles). */
function refusalOf(err: unknown): { status: number; message: string } | null {
  if (err instanceof PermanentHubSpotError) return { status: err.status, message: err.message };
  if (err instanceof ConnectionHubSpotError && err.status === 403 && err.category !== 'MISSING_SCOPES') {
    return { status: 403, message: err.message };
  }
  return null;
}

interface FoundPipeline {
  id: string;
  stages: ExistingStage[];
}

async function listPipelines(portal: HubSpotPortal): Promise<{ id: string; label: string; stages: ExistingStage[] }[]> {
  const all = await portal.call('crm', 'pipelines.deals.list', (c, sdk) => c.crm.pipelines.pipelinesApi.getAll('deals', sdk));
  return all.results.map((p) => ({ id: p.id, label: p.label, stages: p.stages as ExistingStage[] }));
}

async function findOurs(portal: HubSpotPortal): Promise<FoundPipeline | null> {
  const found = (await listPipelines(portal)).find((p) => p.label.trim().toLowerCase() === DEAL_PIPELINE_LABEL.toLowerCase());
  return found ? { id: found.id, stages: found.stages } : null;
}

async function completeStages(portal: HubSpotPortal, p: FoundPipeline): Promise<DealPipelineSetup> {
  const { ids, missing } = matchStages(p.stages);
  for (const def of missing) {
    const order = DEAL_STAGES.indexOf(def);
    try {
      const stage = await portal.call('crm', 'pipelines.deals.stages.create', (c, sdk) =>
        c.crm.pipelines.pipelineStagesApi.create(
          'deals',
          p.id,
          { label: def.label, displayOrder: order, metadata: { probability: def.probability, isClosed: String(def.closed) } },
          sdk,
        ),
      );
      ids[def.key] = stage.id;
    } catch (err) {
      const refusal = refusalOf(err);
      if (!refusal) throw err;
      return { problem: `HubSpot would not add the stage "${def.label}" to the deal pipeline "${DEAL_PIPELINE_LABEL}" (${refusal.message})` };
    }
  }
  return { pipelineId: p.id, stageIds: ids as Record<DealStageKey, string>, fallback: false };
}

async function fallback(portal: HubSpotPortal, why: string): Promise<DealPipelineSetup> {
  const pipelines = await listPipelines(portal);
  const base = pipelines.find((p) => p.id === 'default') ?? pipelines[0];
  const stageIds = base ? fallbackStages(base.stages) : null;
  if (!base || !stageIds) return { problem: `${why}, and the portal's default deal pipeline has no closed won and closed lost stages to use instead` };
  return { pipelineId: base.id, stageIds, fallback: true };
}

async function ignoringConflict(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (err instanceof PermanentHubSpotError && err.status === 409) return;
    throw err;
  }
}
