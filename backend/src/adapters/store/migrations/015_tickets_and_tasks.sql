-- Tickets on failed payments and idempotent failed-payment tasks (issue 13, part 4). Rows about a customer hang off
-- its `customers` row (ON DELETE CASCADE): an uninstall or a privacy deletion takes them along.

-- One HubSpot ticket per (portal, invoice). The row is written BEFORE a create is sent (`attempted_at`), so a pass
-- after a lost answer knows a ticket may exist; the create itself is an upsert by the ticket's unique
-- `stripe_invoice_id` property, so sending it again never makes a second ticket. `written` is what HubSpot last got
-- from us (a pass where nothing changed makes no call); `pipeline_id` the pipeline the ticket was created in (it
-- stays there when the merchant picks another one); `contact_id`/`company_id`/`deal_id` the associations made.
-- `gone_at`: HubSpot said the ticket no longer exists (deleted by a user): it is never written again.
CREATE TABLE crm_tickets (
  portal_id bigint NOT NULL,
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  invoice_id text COLLATE "C" NOT NULL,
  customer_id text NOT NULL,
  pipeline_id text NOT NULL,
  ticket_id text,
  state text NOT NULL CHECK (state IN ('open', 'closed')),
  written jsonb NOT NULL DEFAULT '{}'::jsonb,
  attempted_at timestamptz,
  contact_id text,
  company_id text,
  deal_id text,
  gone_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, account_key, livemode, invoice_id),
  FOREIGN KEY (account_key, livemode, customer_id) REFERENCES customers (account_key, livemode, customer_id) ON DELETE CASCADE
);
CREATE INDEX crm_tickets_customer ON crm_tickets (account_key, livemode, customer_id);

-- The open and closed stage of each ticket pipeline, read once per portal through the pipelines API.
CREATE TABLE crm_ticket_pipelines (
  portal_id bigint NOT NULL,
  pipeline_id text NOT NULL,
  open_stage text NOT NULL,
  closed_stage text NOT NULL,
  read_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, pipeline_id)
);

-- One failed-payment task per (portal, customer, failure): `failure_key` names the failure (the customer's n-th
-- failed payment). Recorded with the task's content BEFORE HubSpot is asked (`attempted_at` set just before the
-- call), so after a lost answer the next pass looks for the task on the contact (same subject and due time)
-- instead of creating a second one. `task_id` once HubSpot's answer (or the lookup) gave it; `refused` when HubSpot
-- refused it for good (never asked again).
CREATE TABLE failed_payment_tasks (
  portal_id bigint NOT NULL,
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  customer_id text NOT NULL,
  failure_key text COLLATE "C" NOT NULL,
  contact_id text NOT NULL,
  subject text NOT NULL,
  body text NOT NULL,
  due_at_ms bigint NOT NULL,
  task_id text,
  attempted_at timestamptz,
  refused text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, account_key, livemode, customer_id, failure_key),
  FOREIGN KEY (account_key, livemode, customer_id) REFERENCES customers (account_key, livemode, customer_id) ON DELETE CASCADE
);
CREATE INDEX failed_payment_tasks_pending ON failed_payment_tasks (account_key, livemode, customer_id) WHERE task_id IS NULL AND refused IS NULL;
