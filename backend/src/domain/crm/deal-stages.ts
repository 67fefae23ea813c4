import type { SubscriptionStatusValue } from '@stripe-hubspot-sync/contracts';

/**
 * The deal pipeline "Stripe subscriptions" and its stages: one stage per subscription status, plus one for the
 * optional one-off Checkout payments.
 *
 * HubSpot's deal stages carry `probability` (0.0–1.0 in steps of 0.1) and `isClosed`; HubSpot treats probability
 * 1.0 as closed won and 0.0 as closed lost. The model:
 *
 * | stage          | Stripe status                     | probability | closed        |
 * |----------------|-----------------------------------|-------------|---------------|
 * | Trialing       | trialing                          | 0.5         | no            |
 * | Active         | active                            | 1.0         | yes: won      |
 * | Past due       | past_due                          | 0.8         | no            |
 * | Unpaid/Paused  | unpaid, paused                    | 0.3         | no            |
 * | Canceled       | canceled, incomplete_expired      | 0.0         | yes: lost     |
 * | One-off payment| (a paid one-off Checkout session) | 1.0         | yes: won      |
 *
 * `incomplete` (the first payment of a new subscription not made yet, at most 23 hours) makes no deal: there is
 * nothing sold yet; the deal appears when it becomes active or trialing. A past-due or unpaid subscription leaves
 * "closed won" again: HubSpot lets a deal move from a closed stage back to an open one.
 */

export type DealStageKey = 'trialing' | 'active' | 'past_due' | 'unpaid_paused' | 'canceled' | 'one_off_paid';

export interface DealStageDef {
  key: DealStageKey;
  label: string;
  /** HubSpot's probability metadata, as the string it stores ("0.5"). */
  probability: string;
  closed: boolean;
}

export const DEAL_PIPELINE_LABEL = 'Stripe subscriptions';

export const DEAL_STAGES: readonly DealStageDef[] = [
  { key: 'trialing', label: 'Trialing', probability: '0.5', closed: false },
  { key: 'active', label: 'Active', probability: '1.0', closed: true },
  { key: 'past_due', label: 'Past due', probability: '0.8', closed: false },
  { key: 'unpaid_paused', label: 'Unpaid or paused', probability: '0.3', closed: false },
  { key: 'canceled', label: 'Canceled', probability: '0.0', closed: true },
  { key: 'one_off_paid', label: 'One-off payment', probability: '1.0', closed: true },
];

/** The stage of a subscription in a status; null: no deal for it (yet). */
export function stageOfStatus(status: SubscriptionStatusValue): DealStageKey | null {
  switch (status) {
    case 'trialing':
      return 'trialing';
    case 'active':
      return 'active';
    case 'past_due':
      return 'past_due';
    case 'unpaid':
    case 'paused':
      return 'unpaid_paused';
    case 'canceled':
    case 'incomplete_expired':
      return 'canceled';
    case 'incomplete':
    case 'none':
      return null;
  }
}

/** A stage of an existing HubSpot pipeline, as the pipelines API answers it. */
export interface ExistingStage {
  id: string;
  label: string;
  displayOrder: number;
  metadata: Record<string, string | undefined>;
}

/**
 * Our stages in an existing pipeline of ours, matched by label (case-insensitive): stage key → stage id, and the
 * stages it lacks (to be created).
 */
export function matchStages(stages: readonly ExistingStage[]): { ids: Partial<Record<DealStageKey, string>>; missing: DealStageDef[] } {
  const byLabel = new Map(stages.map((s) => [s.label.trim().toLowerCase(), s.id]));
  const ids: Partial<Record<DealStageKey, string>> = {};
  const missing: DealStageDef[] = [];
  for (const def of DEAL_STAGES) {
    const id = byLabel.get(def.label.toLowerCase());
    if (id) ids[def.key] = id;
    else missing.push(def);
  }
  return { ids, missing };
}

/**
 * When the portal cannot have a pipeline of ours (HubSpot's free CRM has one deal pipeline), the stages of its
 * default pipeline stand in: closed won for our won stages (probability 1.0 and closed), closed lost for canceled
 * (probability 0.0 and closed), and for each open stage of ours the open stage nearest in probability (the first
 * in display order on a tie). Null when the pipeline has no closed won or no closed lost stage.
 */
export function fallbackStages(stages: readonly ExistingStage[]): Record<DealStageKey, string> | null {
  const sorted = [...stages].sort((a, b) => a.displayOrder - b.displayOrder);
  const prob = (s: ExistingStage) => Number(s.metadata.probability ?? 'NaN');
  const closed = (s: ExistingStage) => s.metadata.isClosed === 'true' || prob(s) === 0 || prob(s) === 1;
  const won = sorted.find((s) => closed(s) && prob(s) === 1);
  const lost = sorted.find((s) => closed(s) && prob(s) === 0);
  const open = sorted.filter((s) => !closed(s) && Number.isFinite(prob(s)));
  if (!won || !lost) return null;
  const out = {} as Record<DealStageKey, string>;
  for (const def of DEAL_STAGES) {
    const p = Number(def.probability);
    if (def.closed) {
      out[def.key] = p === 1 ? won.id : lost.id;
      continue;
    }
    const nearest = open.reduce<ExistingStage | null>((best, s) => (best === null || Math.abs(prob(s) - p) < Math.abs(prob(best) - p) - 1e-9 ? s : best), null);
    out[def.key] = (nearest ?? won).id;
  }
  return out;
}
