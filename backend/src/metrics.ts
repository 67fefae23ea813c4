import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus metrics of one server instance, on its own registry (not prom-client's global one: tests
 * run several servers in one process). Other modules add their metrics to `registry`.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly eventsReceived: Counter<'type'>;
  readonly eventsDuplicate: Counter;
  readonly webhooksRejected: Counter<'reason'>;
  readonly jobs: Counter<'outcome'>;
  readonly queueDepth: Gauge;
  readonly ingestBatchSize: Histogram;
  readonly ingestFlushSeconds: Histogram;
  readonly workerDeferredSeconds: Counter;
  /** Sets how `queue_depth` is read at scrape time. */
  setQueueDepthSource(read: () => Promise<number>): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let readDepth: (() => Promise<number>) | undefined;

  const metrics: Metrics = {
    registry,
    eventsReceived: new Counter({
      name: 'stripe_events_received_total',
      help: 'Verified Stripe events stored for the first time, by event type.',
      labelNames: ['type'],
      registers: [registry],
    }),
    eventsDuplicate: new Counter({
      name: 'stripe_events_duplicate_total',
      help: 'Verified Stripe events whose id was already stored (redeliveries).',
      registers: [registry],
    }),
    webhooksRejected: new Counter({
      name: 'stripe_webhooks_rejected_total',
      help: 'Webhook requests answered with an error, by reason (error code).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'jobs_total',
      help: 'Event jobs finished by the worker, by outcome (completed, retried, dead_lettered).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'queue_depth',
      help: 'Event jobs waiting to run (created or retry), read from the queue at scrape time.',
      registers: [registry],
      async collect() {
        if (!readDepth) return;
        try {
          this.set(await readDepth());
        } catch {
          // The database is unavailable: keep the last value rather than failing the scrape.
        }
      },
    }),
    ingestBatchSize: new Histogram({
      name: 'ingest_batch_size',
      help: 'Events written per group-commit transaction.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [registry],
    }),
    ingestFlushSeconds: new Histogram({
      name: 'ingest_flush_duration_seconds',
      help: 'Duration of one group-commit transaction (insert events, enqueue jobs, commit).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    workerDeferredSeconds: new Counter({
      name: 'worker_deferred_seconds_total',
      help: 'Time the event worker waited before batches while the webhook route was flooded (acknowledgements first).',
      registers: [registry],
    }),
    setQueueDepthSource(read) {
      readDepth = read;
    },
  };
  return metrics;
}
