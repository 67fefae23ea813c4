-- Companies (issue 13, part 1). A company key is what makes customers one company: `domain:<email domain>` (an
-- email on a company domain) or `customer:<customer id>` (a business name without a company domain). Per account,
-- mode and HubSpot portal: which HubSpot company the key is, and what we last wrote to it, so a pass where nothing
-- changed makes no call and a domain once found or created is never searched again (search lags behind writes).

CREATE TABLE crm_companies (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  portal_id bigint NOT NULL,
  company_key text NOT NULL,
  -- HubSpot's id; null while unknown (not yet found or created, or deleted in HubSpot)
  company_id text,
  -- the value of the unique stripe_customer_id property the company holds, or was being created with: a create
  -- whose answer was lost is found again by it
  unique_value text,
  -- we created it: its name follows the business name (a company a HubSpot user made keeps its own)
  created_by_us boolean NOT NULL DEFAULT false,
  -- the properties we last wrote (null: write them all at the next write)
  written jsonb,
  -- looked for and not found while creating companies is turned off: not looked for again for a while
  missed_at timestamptz,
  -- one pass at a time writes a company (instances share the work)
  lease_token text,
  lease_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_key, livemode, portal_id, company_key)
);
-- A HubSpot company stands for one key.
CREATE UNIQUE INDEX crm_companies_company ON crm_companies (account_key, livemode, portal_id, company_id) WHERE company_id IS NOT NULL;

-- Which company key each customer belongs to in a portal, and the contact we associated with that company for it
-- (null: not yet). Goes with the customer (uninstall, privacy deletion) and with the company row.
CREATE TABLE crm_company_members (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  customer_id text NOT NULL,
  portal_id bigint NOT NULL,
  company_key text NOT NULL,
  associated_contact_id text,
  PRIMARY KEY (account_key, livemode, customer_id, portal_id),
  FOREIGN KEY (account_key, livemode, customer_id) REFERENCES customers (account_key, livemode, customer_id) ON DELETE CASCADE,
  FOREIGN KEY (account_key, livemode, portal_id, company_key)
    REFERENCES crm_companies (account_key, livemode, portal_id, company_key) ON DELETE CASCADE
);
CREATE INDEX crm_company_members_company ON crm_company_members (account_key, livemode, portal_id, company_key);
