-- How each customer-to-contact link was made decides what we may write to the contact (README, "Who is who"):
--   created      we created the contact for this customer: it is the customer's own
--   customer_id  the contact held the customer's id in our unique property: the customer's own
--   email        the contact already had the customer's (unverified) email: we never write its email, and the link
--                holds only while the customer's email is still matched_email
-- Links made before this migration as 'conflict' (a create answered "already exists") or 'stored' count as
-- email matches: the cautious reading, under which the contact's email is never overwritten.
ALTER TABLE contact_links ADD COLUMN matched_email text;

UPDATE contact_links SET matched_by = 'email' WHERE matched_by NOT IN ('created', 'customer_id', 'email');

UPDATE contact_links l SET matched_email = lower(trim(COALESCE(c.email, c.status->>'email')))
  FROM customers c
 WHERE l.matched_by = 'email' AND c.account_key = l.account_key AND c.livemode = l.livemode AND c.customer_id = l.customer_id;

ALTER TABLE contact_links ADD CONSTRAINT contact_links_matched_by CHECK (matched_by IN ('created', 'customer_id', 'email'));

-- Contacts shared by several customers were written one customer at a time, so they may carry one customer's id
-- beside another's figures: queue their customers (at backfill priority) so each such contact is written again in
-- full, as the roll-up of its customers.
UPDATE customers c SET synced_properties = NULL, synced_version = LEAST(c.synced_version, c.version - 1),
       sync_state = 'pending', push_priority = 'backfill', dirty_since = now()
  FROM contact_links l
 WHERE c.account_key = l.account_key AND c.livemode = l.livemode AND c.customer_id = l.customer_id
   AND c.status IS NOT NULL AND c.version > 0
   AND EXISTS (SELECT 1 FROM contact_links o
                WHERE o.portal_id = l.portal_id AND o.contact_id = l.contact_id AND o.account_key = l.account_key
                  AND o.livemode = l.livemode AND o.customer_id <> l.customer_id);
