-- Every event ends somewhere, nothing comes back after an uninstall, the activity filter is indexed, payloads
-- are kept for a limited time.

-- When the sweeper enqueued a job again for an event left `received` with none (a crash between steps). An
-- event the sweeper finds stuck a second time is marked failed instead, so nothing waits forever.
ALTER TABLE stripe_events ADD COLUMN requeued_at timestamptz;

-- When the event's payload was replaced by a stub (retention, or its customer was deleted): id, type, account,
-- created and outcome stay for the activity log.
ALTER TABLE stripe_events ADD COLUMN payload_purged_at timestamptz;
CREATE INDEX stripe_events_payload_kept ON stripe_events (received_at) WHERE payload_purged_at IS NULL;

-- The activity drawer's outcome filter: the outcome the merchant sees (activity-store.ts OUTCOME_SQL, the same
-- expression) after the account and mode, newest first, so a filtered page reads only its own rows.
CREATE INDEX stripe_events_account_outcome ON stripe_events (
  (COALESCE(account_id, '')),
  livemode,
  (CASE status WHEN 'received' THEN 'pending' WHEN 'applied' THEN 'pending' WHEN 'processed' THEN 'synced' ELSE status END),
  received_at DESC
);

-- The app was uninstalled from an account in one mode (`account.application.deauthorized`): its data was deleted,
-- and nothing of it created up to that moment may come back (late retries, batches in flight, backfills,
-- refreshes) until the app is installed again (`account.application.authorized` created after it). Stripe ids
-- and times only.
CREATE TABLE account_tombstones (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  -- `created` of the newest uninstall event applied (unix seconds), and when we applied it
  uninstalled_created bigint NOT NULL,
  uninstalled_at timestamptz NOT NULL DEFAULT now(),
  -- `created` of the newest install event seen since; the tombstone holds while it is null or not newer
  reinstalled_created bigint,
  PRIMARY KEY (account_key, livemode)
);

-- When the HubSpot card last read a customer from the Stripe API: a refresh of the same customer within the
-- minimum interval answers the stored state instead (shared by every instance).
CREATE TABLE card_refreshes (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  customer_id text NOT NULL,
  refreshed_at timestamptz NOT NULL,
  PRIMARY KEY (account_key, livemode, customer_id)
);

-- Customers deleted in Stripe before this release keep no personal data either: their stored objects lose email
-- and name (versions kept, so the order rule still holds) and so does their read model.
UPDATE stripe_objects o
   SET data = o.data || (SELECT jsonb_object_agg(k, NULL) FROM jsonb_object_keys(o.data) AS k WHERE k IN ('email', 'name'))
 WHERE (o.data->>'email' IS NOT NULL OR o.data->>'name' IS NOT NULL)
   AND EXISTS (SELECT 1 FROM stripe_objects c
                WHERE c.account_key = o.account_key AND c.livemode = o.livemode AND c.kind = 'customer'
                  AND c.object_id = o.customer_id AND c.data->>'deleted' = 'true');
UPDATE customers
   SET email = NULL,
       status = status || '{"email": null, "name": null}'::jsonb,
       synced_properties = synced_properties - 'email',
       synced_status = CASE WHEN synced_status IS NULL THEN NULL ELSE synced_status || '{"email": null, "name": null}'::jsonb END
 WHERE status->>'deleted' = 'true';
