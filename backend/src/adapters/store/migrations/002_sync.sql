-- Sync engine state. Every table is keyed by (account_key, livemode): account_key is the Stripe account id
-- (`event.account`) or '' for the self-hosted single merchant; test and live data never share a row.

-- Settings of one account in one mode (SyncSettings JSON, validated by contracts/settings.ts).
CREATE TABLE sync_settings (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  settings jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_key, livemode)
);

-- The newest known facts of each Stripe object, folded from events. A row only ever moves to a greater
-- version (created, rank, event id) — an older or tied-but-lower event never overwrites it.
CREATE TABLE stripe_objects (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  kind text NOT NULL,
  object_id text NOT NULL,
  customer_id text,
  version_created bigint NOT NULL,
  version_rank integer NOT NULL,
  version_event text COLLATE "C" NOT NULL,
  data jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_key, livemode, kind, object_id)
);
CREATE INDEX stripe_objects_customer ON stripe_objects (account_key, livemode, customer_id);

-- Read model (what the HubSpot card shows) and the push bookkeeping of each customer.
-- `version` grows on every change of `status`; the pusher writes HubSpot until synced_version = version.
CREATE TABLE customers (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  customer_id text NOT NULL,
  email text,
  status jsonb,
  version bigint NOT NULL DEFAULT 0,
  synced_version bigint NOT NULL DEFAULT 0,
  -- pending | synced | failed | skipped
  sync_state text NOT NULL DEFAULT 'pending',
  sync_reason text,
  -- what HubSpot last received: properties we wrote and the status they came from
  synced_properties jsonb,
  synced_status jsonb,
  claimed_until timestamptz,
  claim_token text,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_synced_at timestamptz,
  PRIMARY KEY (account_key, livemode, customer_id)
);
CREATE INDEX customers_dirty ON customers (next_attempt_at NULLS FIRST, updated_at) WHERE version > synced_version;
CREATE INDEX customers_email ON customers (account_key, livemode, lower(email));

-- Which HubSpot contact a customer is linked to, in which portal.
CREATE TABLE contact_links (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  customer_id text NOT NULL,
  portal_id bigint NOT NULL,
  contact_id text NOT NULL,
  -- stored | customer_id | email | created
  matched_by text NOT NULL,
  linked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_key, livemode, customer_id)
);
CREATE INDEX contact_links_contact ON contact_links (portal_id, contact_id);

-- Permanent HubSpot failures the merchant sees and can replay.
CREATE TABLE dead_letters (
  id bigserial PRIMARY KEY,
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  customer_id text,
  event_id text,
  portal_id bigint,
  category text,
  message text NOT NULL,
  attempts integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  replayed_at timestamptz
);
CREATE INDEX dead_letters_open ON dead_letters (account_key, livemode, created_at DESC) WHERE replayed_at IS NULL;

-- Which property set (hash of the settings' property definitions) each portal has been provisioned with.
CREATE TABLE portal_provisioning (
  portal_id bigint NOT NULL,
  definitions_hash text NOT NULL,
  provisioned_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, definitions_hash)
);

-- The inbox learns which customer an event touched and which customer version carries it.
ALTER TABLE stripe_events ADD COLUMN customer_id text;
ALTER TABLE stripe_events ADD COLUMN customer_version bigint;
CREATE INDEX stripe_events_customer ON stripe_events (account_id, livemode, customer_id) WHERE customer_id IS NOT NULL;

-- When the customer last became out of date in HubSpot: the pusher waits a short settle time after it so a
-- burst of events for one customer becomes one write.
ALTER TABLE customers ADD COLUMN dirty_since timestamptz;
