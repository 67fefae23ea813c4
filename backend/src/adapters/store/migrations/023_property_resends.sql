-- Contact properties the sync created again in a portal (a HubSpot user deleted them, and their values with them),
-- not yet followed by the rewrite of the contacts linked before then (push-store.ts, resendProperties). Written
-- with the creation and cleared by the pass that created them once it queued the rewrite; a row a stopped process
-- left behind is taken over by a later pass of the portal, so the values are never silently left out.
CREATE TABLE property_resends (
  portal_id bigint NOT NULL,
  name text NOT NULL,
  -- when the property was created (contacts linked before then lack its values), and when the rewrite became owed
  created_at timestamptz NOT NULL,
  owed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, name)
);
