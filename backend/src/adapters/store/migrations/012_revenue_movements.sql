-- Revenue movements (new, upgrade, downgrade, churn, reactivation, trials, failed and recovered payments, refunds,
-- disputes): the history they are derived from, the ledger of derived movements, and which portal got which.
-- Deleted with the customer's other data on an uninstall and a privacy deletion (data-deletion.ts lists these tables;
-- no foreign key to `customers`: its per-row check would double the cost of the apply path's inserts).

-- Every applied version of a customer's subscriptions, invoices, charges and disputes (stripe_objects keeps only the
-- newest). `facts` is the record as of that version without personal fields, plus what the event says the object
-- was just before it (`before` of a subscription, `refundedBefore` of a charge; see domain/movements-history.ts).
-- `from_event` is false for objects read from the Stripe API (refresh, backfill): context, never a movement.
-- Inserted once per version (ON CONFLICT DO NOTHING: a duplicate delivery is a no-op). The primary key starts
-- with the customer: a customer's whole history is one index range.
CREATE TABLE stripe_object_versions (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  customer_id text NOT NULL,
  kind text NOT NULL,
  object_id text NOT NULL,
  version_event text COLLATE "C" NOT NULL,
  version_created bigint NOT NULL,
  version_rank integer NOT NULL,
  from_event boolean NOT NULL,
  facts jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_key, livemode, customer_id, kind, object_id, version_event)
);

-- What existing installs already hold becomes the start of the history, as snapshots (context only: no movement
-- is derived from what happened before this migration).
INSERT INTO stripe_object_versions
  (account_key, livemode, customer_id, kind, object_id, version_event, version_created, version_rank, from_event, facts)
SELECT o.account_key, o.livemode, o.customer_id, o.kind, o.object_id, o.version_event, o.version_created, o.version_rank, false,
       o.data - 'email' - 'name'
  FROM stripe_objects o
  JOIN customers c ON c.account_key = o.account_key AND c.livemode = o.livemode AND c.customer_id = o.customer_id
 WHERE o.kind IN ('subscription', 'invoice', 'charge', 'dispute')
ON CONFLICT DO NOTHING;

-- The ledger: one row per movement, keyed by its deterministic id (e.g. `sub_x:evt_y:upgrade`, `in_x:failed:2`).
-- Never deleted while the customer exists: a movement a fuller history no longer derives gets `retracted_at` (and
-- loses it if derived again). `source_*` is the version it was derived at: a new version only re-derives the
-- movements at or after it. Amounts in minor units of `currency` (numeric: a price times a quantity can exceed
-- bigint); `occurred_at` in unix seconds, like every Stripe time we keep (any value Stripe's `created` can hold).
CREATE TABLE revenue_movements (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  movement_id text COLLATE "C" NOT NULL,
  customer_id text NOT NULL,
  kind text NOT NULL,
  occurred_at bigint NOT NULL,
  currency text,
  amount numeric NOT NULL,
  mrr_before numeric,
  mrr_after numeric,
  subject_id text NOT NULL,
  source_created bigint NOT NULL,
  source_rank integer NOT NULL,
  source_event text COLLATE "C" NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  retracted_at timestamptz,
  PRIMARY KEY (account_key, livemode, movement_id)
);
-- "Movements of customers X" (newest first for the card; the pusher's unwritten ones).
CREATE INDEX revenue_movements_customer ON revenue_movements (account_key, livemode, customer_id, occurred_at DESC);

-- Which movement was written to which HubSpot portal (and as what), so each is written once per portal even when a
-- pusher crashes after writing: the writer also gives HubSpot a unique id derived from the movement id. Deleted
-- with its movement.
CREATE TABLE revenue_movements_written (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  portal_id bigint NOT NULL,
  movement_id text COLLATE "C" NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now(),
  hubspot_id text,
  PRIMARY KEY (account_key, livemode, movement_id, portal_id),
  FOREIGN KEY (account_key, livemode, movement_id) REFERENCES revenue_movements (account_key, livemode, movement_id) ON DELETE CASCADE
)
