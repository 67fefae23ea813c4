-- Every verified Stripe event, keyed by its id: the durable record the webhook acknowledges.
CREATE TABLE stripe_events (
  id text PRIMARY KEY,
  type text NOT NULL,
  account_id text,
  livemode boolean NOT NULL,
  created bigint NOT NULL,
  payload jsonb NOT NULL,
  -- received | ignored | processed | skipped | failed
  status text NOT NULL DEFAULT 'received',
  status_reason text,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);
CREATE INDEX stripe_events_account_received ON stripe_events (account_id, received_at DESC);
CREATE INDEX stripe_events_status ON stripe_events (status) WHERE status IN ('received', 'failed');
