import { Counter, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of HubSpot calls. Labels never carry portal ids, tokens or record data. */
export interface HubSpotMetrics {
  /** Every HTTP attempt, by operation and HTTP status (or `network`). */
  requests: Counter<'operation' | 'status'>;
  /** Attempts that were retried, by reason (rate_limit, server, locked, network, unauthorized). */
  retries: Counter<'operation' | 'reason'>;
  /** How each call ended: ok, permanent, retry_exhausted, daily_limit, budget_timeout. */
  outcomes: Counter<'operation' | 'outcome'>;
  /** Time spent waiting for the rate budget. */
  budgetWait: Histogram<'kind'>;
}

/** Registers the metrics in `registry`, or reuses them when something registered them there already. */
export function createHubSpotMetrics(registry: Registry): HubSpotMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const waitName = 'hubspot_rate_budget_wait_seconds';
  return {
    requests: counter('hubspot_requests_total', 'HTTP requests sent to HubSpot', ['operation', 'status']),
    retries: counter('hubspot_retries_total', 'HubSpot requests retried', ['operation', 'reason']),
    outcomes: counter('hubspot_call_outcomes_total', 'HubSpot calls by final outcome', ['operation', 'outcome']),
    budgetWait:
      (registry.getSingleMetric(waitName) as Histogram<'kind'> | undefined) ??
      new Histogram({
        name: waitName,
        help: 'Time spent waiting for the per-portal HubSpot rate budget',
        labelNames: ['kind'],
        buckets: [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
  };
}
