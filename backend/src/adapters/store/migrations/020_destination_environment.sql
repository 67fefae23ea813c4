-- The login environment of a destination that has one (Salesforce: production at login.salesforce.com, or sandbox at
-- test.salesforce.com). Its tokens are refreshed and revoked at the login host it was connected with.
ALTER TABLE destinations ADD COLUMN environment text;
-- The environment a destination OAuth state was issued for: `connect` exchanges the code at that login host.
ALTER TABLE destination_oauth_states ADD COLUMN environment text;
