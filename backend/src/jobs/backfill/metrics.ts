import { Counter, type Registry } from 'prom-client';

/** Metrics of the backfill, the recovery of missed events, the drift check and the privacy deletions. */
export interface BackfillMetrics {
  objects: Counter<'phase'>;
  skipped: Counter<'phase'>;
  recoveredEvents: Counter;
  driftChecked: Counter;
  driftRepairs: Counter<'reason'>;
  contactDeletions: Counter<'kind'>;
  accountDeletions: Counter;
}

const byRegistry = new WeakMap<Registry, BackfillMetrics>();

/** The metrics on `registry`, created once per registry (every caller gets the same counters). */
export function createBackfillMetrics(registry: Registry): BackfillMetrics {
  const known = byRegistry.get(registry);
  if (known) return known;
  const metrics = buildMetrics(registry);
  byRegistry.set(registry, metrics);
  return metrics;
}

function buildMetrics(registry: Registry): BackfillMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  return {
    objects: counter('backfill_objects_total', 'Stripe objects read and folded by backfills, by phase.', ['phase']),
    skipped: counter('backfill_objects_skipped_total', 'Backfilled objects that name no customer or could not be mapped.', ['phase']),
    recoveredEvents: counter('recovered_events_total', 'Stripe events that failed to deliver and were added to the inbox by the recovery job.'),
    driftChecked: counter('drift_contacts_checked_total', 'Linked HubSpot contacts read back by the drift check.'),
    driftRepairs: counter('drift_repairs_total', 'Contacts whose HubSpot values differed from what we wrote (queued for a write) or that were gone.', ['reason']),
    contactDeletions: counter('hubspot_contact_deletions_total', 'HubSpot contact deletions handled (deletion, privacy_deletion).', ['kind']),
    accountDeletions: counter('account_data_deletions_total', 'Stripe accounts (per mode) whose data was deleted after the app was uninstalled.'),
  };
}
