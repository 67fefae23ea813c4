-- Revenue movements on the contact's timeline (issue 13, part 3): what was sent to a portal before HubSpot answered.
-- A movement is written to a portal once: `revenue_movements_written` (migration 012) marks it once HubSpot has it.
-- This row is written BEFORE the call that sends it (state 'sending', with how it was sent and on which contact), so
-- a pass after a lost answer knows the movement may already be in HubSpot: a timeline event is sent again under the
-- same unique id (HubSpot refuses a second event with it: written), a note is first looked for on that contact (its
-- body carries the movement id) and only sent again when it is not there. The row is deleted once the movement is
-- marked written, or when HubSpot refused it (a 4xx applied nothing; the movement is tried again with the customer's
-- next write). Deleted with its movement (uninstall, privacy deletion: data-deletion.ts deletes the ledger).
CREATE TABLE revenue_movement_sends (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  portal_id bigint NOT NULL,
  movement_id text COLLATE "C" NOT NULL,
  customer_id text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('timeline', 'note')),
  contact_id text NOT NULL,
  attempts integer NOT NULL DEFAULT 1,
  first_sent_at timestamptz NOT NULL DEFAULT now(),
  last_sent_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_key, livemode, portal_id, movement_id),
  FOREIGN KEY (account_key, livemode, movement_id) REFERENCES revenue_movements (account_key, livemode, movement_id) ON DELETE CASCADE
)
