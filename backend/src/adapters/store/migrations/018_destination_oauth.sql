-- Destinations connected through OAuth (Klaviyo's "Connect with Klaviyo", authorization code with PKCE) beside the
-- ones connected with an API key.
--
-- `key_sealed` now holds a sealed credentials document that says which kind it is: {"kind":"api_key","apiKey":…} or
-- {"kind":"oauth","accessToken":…,"refreshToken":…,"expiresAt":…,"scope":…} (a bare key, as stored before this
-- migration, reads as an API key). `auth_kind` repeats the kind in the clear, for the app and for disconnection.
ALTER TABLE destinations ADD COLUMN auth_kind text NOT NULL DEFAULT 'api_key';
-- One instance at a time refreshes a destination's OAuth tokens: it holds this lease while it asks for new tokens,
-- and saves them only while it still holds it and the row still has the tokens it refreshed (compare-and-set), so a
-- rotated refresh token is never lost to a concurrent refresh.
ALTER TABLE destinations ADD COLUMN refresh_lease_until timestamptz;
ALTER TABLE destinations ADD COLUMN refresh_lease_token text;

-- OAuth `state`s the backend issued for a destination connection (GET /destinations/klaviyo/authorize-url): who
-- started it (the Stripe account, the mode and the Dashboard user of the verified signature), the PKCE verifier
-- (generated here, sealed with TOKEN_ENCRYPTION_KEY bound to the state's hash, never sent anywhere but the token
-- endpoint), until when it may come back, and when it did. Single use; only a SHA-256 of the state is kept.
CREATE TABLE destination_oauth_states (
  state_hash text PRIMARY KEY,
  kind text NOT NULL,
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  user_id text NOT NULL,
  verifier_sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX destination_oauth_states_expires ON destination_oauth_states (expires_at);
