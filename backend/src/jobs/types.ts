import type Stripe from 'stripe';

/** One verified Stripe event as stored in the inbox (`stripe_events`). */
export interface StoredEvent {
  id: string;
  type: string;
  /** `event.account`: the connected (installing) account, null for the platform's own events. */
  accountId: string | null;
  livemode: boolean;
  /** `event.created`, unix seconds. */
  created: number;
  /** The event as Stripe sent it (parsed JSON). */
  payload: Stripe.Event;
  /** When we stored it (ISO). */
  receivedAt: string;
}

/**
 * What the queue worker hands stored events to. Must be idempotent (a batch may run again after a crash or a
 * retry) and throw only for retryable failures: a throw fails every job of the batch, which pg-boss retries with
 * backoff and finally dead-letters.
 */
export interface EventProcessor {
  process(events: StoredEvent[]): Promise<void>;
}
