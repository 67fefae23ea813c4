import type { Db } from '../adapters/store/db';
import { runInLane } from '../adapters/store/db-gate';
import { jsonbSafe, storeInboxEvents, type NewInboxEvent } from '../adapters/store/inbox';
import { isSyncEventType } from '@stripe-hubspot-sync/contracts';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { JobQueue } from '../queue/job-queue';
import { GroupCommitter } from './group-commit';
import type { IngestPressure } from './pressure';
import type { VerifiedEvent } from './verify';

/** Event types the processor is given: the synced types and the app's install lifecycle. */
export const LIFECYCLE_EVENT_TYPES = ['account.application.authorized', 'account.application.deauthorized'] as const;

export function isHandledEventType(type: string): boolean {
  return isSyncEventType(type) || (LIFECYCLE_EVENT_TYPES as readonly string[]).includes(type);
}

export const UNHANDLED_REASON = 'unhandled event type';

export interface IngestResult {
  /** The id was already stored (by an earlier delivery or by another copy in the same batch). */
  duplicate: boolean;
  /**
   * Not stored: the app was uninstalled from the event's account (in its mode) after the event was created, and
   * not installed again since. Acknowledged all the same (Stripe would retry it for days).
   */
  discarded?: true;
}

export interface IngestorOptions {
  /** Most events one statement writes (default 200). */
  maxBatch?: number;
  /** Transactions in flight at once (default 1). */
  maxInFlight?: number;
}

export interface Ingestor {
  /** Resolves once the event is committed to the inbox (and its job enqueued); rejects if the write failed. */
  ingest(event: VerifiedEvent): Promise<IngestResult>;
  /** Refuses new events and waits for the ones being written. */
  close(): Promise<void>;
}

/**
 * The durable side of the webhook: verified events go through a group commit that, per batch, inserts the new
 * ids into the inbox (`ON CONFLICT DO NOTHING`), enqueues one job per new handled event in the same statement,
 * commits, and wakes the local worker.
 */
export function createIngestor(
  deps: { db: Db; queue: JobQueue; metrics: Metrics; logger: Logger; pressure?: IngestPressure },
  options: IngestorOptions = {},
): Ingestor {
  const { db, queue, metrics, logger } = deps;

  async function writeBatch(events: VerifiedEvent[]): Promise<IngestResult[]> {
    const firstOf = new Map<string, VerifiedEvent>();
    for (const e of events) if (!firstOf.has(e.id)) firstOf.set(e.id, e);
    const unique = [...firstOf.values()];

    // One statement stores the new events and enqueues a job for each handled one: atomic on its own, and one
    // round trip (under load every round trip waits behind the requests being parsed).
    // A client (Stripe) waits on this write: it goes before background work on the embedded database (db-gate.ts),
    // whichever request's turn started it.
    const { inserted, refused } = await runInLane('interactive', () =>
      storeInboxEvents(db, unique.map(toInboxRow), (source) => queue.eventJobsFrom(source)),
    );
    if (unique.some((e) => inserted.has(e.id) && isHandledEventType(e.type))) queue.notifyWorker();

    return events.map((e): IngestResult => {
      if (refused.has(e.id)) {
        logger.info({ eventId: e.id, eventType: e.type, account: e.accountId, livemode: e.livemode }, 'stripe event of an uninstalled account discarded');
        return { duplicate: false, discarded: true };
      }
      const isNew = inserted.has(e.id) && firstOf.get(e.id) === e;
      if (isNew) {
        metrics.eventsReceived.inc({ type: e.type });
        logger.info(
          { eventId: e.id, eventType: e.type, account: e.accountId, livemode: e.livemode, handled: isHandledEventType(e.type) },
          'stripe event stored',
        );
      } else {
        metrics.eventsDuplicate.inc();
        logger.debug({ eventId: e.id, eventType: e.type, account: e.accountId }, 'stripe event already stored');
      }
      return { duplicate: !isNew };
    });
  }

  const committer = new GroupCommitter<VerifiedEvent, IngestResult>(writeBatch, {
    maxBatch: options.maxBatch ?? 200,
    maxInFlight: options.maxInFlight ?? 1,
    isolate: isDataError,
    onWrite: (size, seconds) => {
      deps.pressure?.record(size);
      metrics.ingestBatchSize.observe(size);
      metrics.ingestFlushSeconds.observe(seconds);
    },
  });

  return {
    ingest: (event) => committer.submit(event),
    close: () => committer.close(),
  };
}

function toInboxRow(e: VerifiedEvent): NewInboxEvent {
  const handled = isHandledEventType(e.type);
  return {
    id: e.id,
    type: e.type,
    accountId: e.accountId,
    livemode: e.livemode,
    created: e.created,
    rawPayload: jsonbSafe(e.raw),
    status: handled ? 'received' : 'ignored',
    statusReason: handled ? null : UNHANDLED_REASON,
  };
}

/** A PostgreSQL error caused by the data of one row (class 22 data exception, 23 integrity, 54 limits). */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}
