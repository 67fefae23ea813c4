-- Destinations beside HubSpot (Klaviyo, Loops, …): each a connection of one Stripe account in one mode, with its
-- own settings, push state, dead letters and rate budget. One folded customer state is pushed to each destination
-- independently: a destination's outage or rate limit never holds back another one (or HubSpot).

CREATE TABLE destinations (
  id text PRIMARY KEY,
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  kind text NOT NULL,
  label text NOT NULL,
  -- The API key, sealed with TOKEN_ENCRYPTION_KEY (AES-256-GCM, bound to the destination id); never logged.
  key_sealed text NOT NULL,
  key_hint text NOT NULL,
  settings jsonb NOT NULL,
  -- ok | broken | unknown; `broken`: the key was refused, nothing is sent until it is replaced or tests good again.
  health text NOT NULL DEFAULT 'unknown',
  health_message text,
  health_checked_at timestamptz,
  -- Custom properties the destination needs declared before use (Loops): the names already ensured.
  properties_ensured jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_key, livemode, kind)
);

-- Per destination and customer: what the destination holds. A customer is out of date in a destination while
-- customers.version > synced_version (no row: never written). Leased like customers (claimed_until, claim_token).
CREATE TABLE destination_customers (
  destination_id text NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
  customer_id text NOT NULL,
  synced_version bigint NOT NULL DEFAULT 0,
  -- The destination's id of the profile or contact, and the email it last received.
  external_id text,
  synced_email text,
  synced_at timestamptz,
  claimed_until timestamptz,
  claim_token text,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  last_error text,
  -- Refused for good at this version: a dead letter until replayed (or until a newer version is applied).
  dead_version bigint,
  dead_at timestamptz,
  removed_at timestamptz,
  PRIMARY KEY (destination_id, customer_id)
);
CREATE INDEX destination_customers_dead ON destination_customers (destination_id, dead_at) WHERE dead_at IS NOT NULL;

-- Which events each destination received (or was sent before it answered): each at most once per destination.
CREATE TABLE destination_event_sends (
  destination_id text NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
  event_key text COLLATE "C" NOT NULL,
  customer_id text NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (destination_id, event_key)
);

-- The shared rate budget of each destination bucket (e.g. `dst_x:profiles`): one row per request in the window.
CREATE TABLE destination_rate_calls (
  bucket text NOT NULL,
  at_ms bigint NOT NULL
);
CREATE INDEX destination_rate_calls_bucket_at ON destination_rate_calls (bucket, at_ms);

CREATE TABLE destination_rate_penalties (
  bucket text PRIMARY KEY,
  until_ms bigint NOT NULL
);
