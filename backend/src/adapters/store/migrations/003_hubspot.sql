-- HubSpot connection of one Stripe account in one mode (test or live). Tokens are AES-256-GCM encrypted.
CREATE TABLE hubspot_installs (
  stripe_account_id text NOT NULL,
  livemode boolean NOT NULL,
  portal_id bigint NOT NULL,
  hub_domain text,
  -- oauth | private_app
  kind text NOT NULL CHECK (kind IN ('oauth', 'private_app')),
  access_token_enc text NOT NULL,
  refresh_token_enc text,
  expires_at timestamptz,
  scopes text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  disconnected_at timestamptz,
  PRIMARY KEY (stripe_account_id, livemode)
);
CREATE INDEX hubspot_installs_portal ON hubspot_installs (portal_id) WHERE disconnected_at IS NULL;

-- The shared per-portal rate budget: one row per HubSpot request started in the last window.
CREATE TABLE hubspot_rate_calls (
  portal_id bigint NOT NULL,
  -- crm | search (a search request counts in both budgets)
  kind text NOT NULL,
  at_ms bigint NOT NULL
);
CREATE INDEX hubspot_rate_calls_portal_at ON hubspot_rate_calls (portal_id, at_ms);

-- A portal told us to slow down (429, RateLimit-Remaining 0): no request of that scope before until_ms.
CREATE TABLE hubspot_rate_penalties (
  portal_id bigint NOT NULL,
  -- crm (every request) | search (search requests only)
  scope text NOT NULL,
  until_ms bigint NOT NULL,
  PRIMARY KEY (portal_id, scope)
);
