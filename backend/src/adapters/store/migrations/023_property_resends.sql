-- Contact properties the sync created again in a portal (a HubSpot user deleted them, and their values with them),
-- not yet followed by the rewrite of the contacts linked before then (push-store.ts, resendProperties). Written
-- with the creation (only when contacts were linked in the portal before then) and cleared by the pass that created
-- them once it settled its customers and queued the rewrite; a row whose pass holds no customer any more (it
-- settled, or it stopped and its leases ran out) is taken by the next pass of the portal, so the values are never
-- silently left out.
CREATE TABLE property_resends (
  portal_id bigint NOT NULL,
  name text NOT NULL,
  -- when the property was created (contacts linked before then lack its values), and when the rewrite became owed
  created_at timestamptz NOT NULL,
  owed_at timestamptz NOT NULL DEFAULT now(),
  -- the claim token of the pass that created them (customers.claim_token while it holds its customers)
  pass_token text NOT NULL,
  PRIMARY KEY (portal_id, name)
);
