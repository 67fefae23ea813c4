/** Public types of the fake Stripe API server used by tests. */

export type StripeJson = Record<string, unknown>;

export interface FakeStripeOptions {
  /** Requests per rolling second per account+mode before 429 (default 100 live / 25 test). */
  ratePerSecond?: number;
  /** Delay before every answer, in milliseconds. */
  latencyMs?: number;
  /** Accepted secret keys (default ['sk_test_fake', 'sk_live_fake']); a key containing `_live_` reads live data. */
  apiKeys?: string[];
  /** Events older than this are neither listed nor retrievable, as at Stripe (default 30). */
  eventRetentionDays?: number;
}

export interface FakeStripeRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  account: string;
  livemode: boolean;
  status: number;
  at: number;
}

export interface FakeStripe {
  url: string;
  host: string;
  port: number;
  /** Data of one account (the `Stripe-Account` header; 'acct_platform' when absent) in one mode. */
  account(accountId: string, livemode: boolean): FakeStripeAccount;
  requests: FakeStripeRequest[];
  requestCount(filter?: { account?: string; pathPrefix?: string }): number;
  /** Highest number of requests seen in any rolling 1-second window for that account+mode. */
  peakRequestsPerSecond(account: string, livemode: boolean): number;
  setRatePerSecond(n: number): void;
  setLatency(ms: number): void;
  /** Down: every request answers 500 api_error (Stripe's shape). */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export interface FakeStripeAccount {
  readonly accountId: string;
  readonly livemode: boolean;
  customers: Map<string, StripeJson>;
  subscriptions: Map<string, StripeJson>;
  invoices: Map<string, StripeJson>;
  charges: Map<string, StripeJson>;
  events: Map<string, StripeJson>;
  /** Ids of events whose webhooks are not (all) delivered: what `delivery_success=false` lists. */
  undeliveredEvents: Set<string>;
  addCustomer(overrides?: StripeJson): StripeJson;
  addSubscription(customerId: string, overrides?: StripeJson): StripeJson;
  addInvoice(customerId: string, overrides?: StripeJson): StripeJson;
  addCharge(customerId: string, overrides?: StripeJson): StripeJson;
  addEvent(type: string, object: StripeJson, opts?: { delivered?: boolean; created?: number }): StripeJson;
  markUndelivered(eventId: string): void;
  markDelivered(eventId: string): void;
  /** Replaces the customer with Stripe's deleted shape `{id, object:'customer', deleted:true}`. */
  deleteCustomer(customerId: string): StripeJson;
}
