-- Backfill runs: one account in one mode read from the Stripe API page by page (customers, subscriptions,
-- invoices, charges). The checkpoint (phase, cursor, progress) is committed with each page's fold; a runner
-- holds a run through a lease (lease_owner, lease_until) that another instance takes over once it expires.
CREATE TABLE backfills (
  id text PRIMARY KEY,
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  -- running | completed | canceled | failed
  status text NOT NULL DEFAULT 'running',
  -- customers | subscriptions | invoices | charges | done
  phase text NOT NULL DEFAULT 'customers',
  -- Stripe's `starting_after` for the next page of `phase` (the last object id of the last committed page)
  cursor text,
  -- counts per phase, estimates, time axis and list filter of the phase (see jobs/backfill/progress.ts)
  progress jsonb NOT NULL DEFAULT '{}',
  cancel_requested boolean NOT NULL DEFAULT false,
  lease_owner text,
  lease_until timestamptz,
  error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
-- At most one running backfill per account and mode.
CREATE UNIQUE INDEX backfills_one_running ON backfills (account_key, livemode) WHERE status = 'running';
CREATE INDEX backfills_account ON backfills (account_key, livemode, started_at DESC);

-- Who asked for the customer's pending HubSpot write: 'live' (webhooks, sync now) or 'backfill'. The pusher
-- serves live writes first and writes backfill ones with at most half of the portal's rate budget.
ALTER TABLE customers ADD COLUMN push_priority text NOT NULL DEFAULT 'live';

-- Jobs that one instance at a time runs on a schedule (recovery of missed events, drift check).
CREATE TABLE scheduled_jobs (
  name text PRIMARY KEY,
  lease_owner text,
  lease_until timestamptz,
  last_started_at timestamptz,
  last_finished_at timestamptz,
  last_result jsonb
);

-- Customers whose HubSpot contact was deleted for privacy (GDPR): never written to HubSpot again.
-- Holds Stripe ids only, no personal data.
CREATE TABLE privacy_suppressions (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  customer_id text NOT NULL,
  portal_id bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_key, livemode, customer_id)
);

-- Links removed because the HubSpot contact was deleted, kept (Stripe and HubSpot ids only) so that a privacy
-- deletion of that contact arriving afterwards still finds the customers to forget. Purged after 30 days.
CREATE TABLE deleted_contact_links (
  portal_id bigint NOT NULL,
  contact_id text NOT NULL,
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  customer_id text NOT NULL,
  deleted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, contact_id, account_key, livemode, customer_id)
);
