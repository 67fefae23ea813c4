-- OAuth `state`s the backend handed out for a HubSpot connection (GET /hubspot/authorize-url): who started it (the
-- Stripe account, the mode and the Dashboard user of the verified signature), the PKCE S256 challenge, until when it
-- may come back, and when it did. Single use; only a SHA-256 of the state is kept.
CREATE TABLE hubspot_oauth_states (
  state_hash text PRIMARY KEY,
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  user_id text NOT NULL,
  code_challenge text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX hubspot_oauth_states_expires ON hubspot_oauth_states (expires_at);

-- A HubSpot authorization exchanged but not yet confirmed by the merchant who started it: which portal, and its
-- tokens (AES-256-GCM, like hubspot_installs). Nothing is written to HubSpot until it is confirmed and moves to
-- hubspot_installs; one per account and mode, a newer one replaces it.
CREATE TABLE hubspot_pending_connections (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  user_id text NOT NULL,
  portal_id bigint NOT NULL,
  hub_domain text,
  -- the HubSpot user who authorized (as HubSpot's token info names them)
  authorized_by text,
  scopes text[] NOT NULL DEFAULT '{}',
  access_token_enc text NOT NULL,
  refresh_token_enc text NOT NULL,
  token_expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  confirm_by timestamptz NOT NULL,
  PRIMARY KEY (account_key, livemode)
);
CREATE INDEX hubspot_pending_connections_confirm_by ON hubspot_pending_connections (confirm_by);
