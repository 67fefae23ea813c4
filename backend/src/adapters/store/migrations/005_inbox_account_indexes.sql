-- The inbox is read per account as `COALESCE(account_id, '') = $1` (the platform account has no id), which the
-- plain `account_id` indexes cannot serve: every per-customer settle and every activity read scanned the whole
-- inbox. Index the expression the queries use.
DROP INDEX stripe_events_customer;
CREATE INDEX stripe_events_customer ON stripe_events ((COALESCE(account_id, '')), livemode, customer_id)
  WHERE customer_id IS NOT NULL;
DROP INDEX stripe_events_account_received;
CREATE INDEX stripe_events_account_received ON stripe_events ((COALESCE(account_id, '')), livemode, received_at DESC);
