-- Deals: a HubSpot deal per Stripe subscription (and, as an option, per paid one-off Checkout session).

-- Each deal we made or found, per portal: the Stripe object it stands for (`deal_key`: sub_… or cs_…), its HubSpot
-- id, a hash of the properties we last wrote (null: not known, e.g. a deal found after a lost answer: it is
-- written again), and the contact and company we associated it with. It hangs off the customer row: uninstalling
-- an account or a privacy deletion (both delete `customers` rows) takes it along.
CREATE TABLE hubspot_deals (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  portal_id bigint NOT NULL,
  deal_key text COLLATE "C" NOT NULL,
  customer_id text NOT NULL,
  kind text NOT NULL,
  deal_id text NOT NULL,
  written_hash text,
  contact_id text,
  company_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_key, livemode, portal_id, deal_key),
  FOREIGN KEY (account_key, livemode, customer_id) REFERENCES customers (account_key, livemode, customer_id) ON DELETE CASCADE
);
CREATE INDEX hubspot_deals_customer ON hubspot_deals (account_key, livemode, customer_id);

-- What each portal was provisioned with for deals: our deal properties (hash of their definitions), the pipeline
-- "Stripe subscriptions" and its stage ids by our stage key (or HubSpot's default pipeline standing in, when the
-- portal cannot have a second one), the currencies the portal accepts as deal_currency_code, and, when deals
-- cannot be written there (scopes not granted, a refusal), why and since when (tried again after a while).
CREATE TABLE hubspot_deal_setup (
  portal_id bigint PRIMARY KEY,
  properties_hash text,
  pipeline_id text,
  stage_ids jsonb,
  fallback boolean NOT NULL DEFAULT false,
  currencies text[] NOT NULL DEFAULT '{}',
  currencies_checked_at timestamptz,
  problem text,
  checked_at timestamptz NOT NULL DEFAULT now()
);
