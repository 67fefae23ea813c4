-- HubSpot failures that end: refresh leases, paused and broken connections, writes waiting out an outage, and
-- properties HubSpot would not let us (re)create.

-- An OAuth refresh in progress: the instance holding refresh_lease_token calls HubSpot outside any transaction;
-- others wait for the lease to end (or expire) and use the token it stored.
ALTER TABLE hubspot_installs ADD COLUMN refresh_lease_until timestamptz;
ALTER TABLE hubspot_installs ADD COLUMN refresh_lease_token text;

-- A connection (Stripe account, mode) HubSpot refuses: paused (401/403: the token or its scopes are refused) or
-- broken (the grant is gone: refresh token refused, app uninstalled). No row: healthy. Changes are kept while a
-- row exists; a successful check (next_check_at) deletes it and wakes the waiting customers.
CREATE TABLE hubspot_connection_health (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  portal_id bigint,
  -- paused | broken
  state text NOT NULL CHECK (state IN ('paused', 'broken')),
  -- HubSpot's category or OAuth code, e.g. INVALID_AUTHENTICATION, MISSING_SCOPES, BAD_REFRESH_TOKEN
  code text,
  message text NOT NULL,
  since timestamptz NOT NULL DEFAULT now(),
  checked_at timestamptz NOT NULL DEFAULT now(),
  next_check_at timestamptz NOT NULL,
  PRIMARY KEY (account_key, livemode)
);
CREATE INDEX hubspot_connection_health_due ON hubspot_connection_health (next_check_at);

-- The portal whose outage (5xx, network, 429, locks) a customer's retry is waiting out: a successful call to that
-- portal wakes it at once instead of after its own backoff.
ALTER TABLE customers ADD COLUMN waiting_on_portal bigint;
CREATE INDEX customers_waiting_on_portal ON customers (waiting_on_portal) WHERE waiting_on_portal IS NOT NULL;

-- Properties of ours that HubSpot would not create (e.g. deleted by a user and refused on re-creation): writes go
-- out without them until a later provisioning check creates them.
CREATE TABLE hubspot_property_problems (
  portal_id bigint NOT NULL,
  property text NOT NULL,
  category text,
  message text NOT NULL,
  since timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, property)
);
