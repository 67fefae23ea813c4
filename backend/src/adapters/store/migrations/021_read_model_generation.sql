-- The read model's generation on PostgreSQL, shared by every instance: the sum of `n` over these rows grows by one at
-- the commit of each transaction that wrote a read-model table (db.ts READ_MODEL_TABLES: what the HubSpot card reads).
-- A reader that read the sum before reading the read model may keep what it read for as long as the sum has not
-- moved (http/card-api/read-cache.ts): the sum is read in the reader's own snapshot, so it moves exactly when a
-- commit it could not see has since become visible.
--
-- 64 rows, not one: a transaction bumps the row of its connection (backend pid % 64), so writers on different
-- connections rarely wait for each other. The bump is a deferred constraint trigger: it runs at COMMIT, after the
-- transaction's own writes, so the row lock is held only through the commit itself and never before a lock on data
-- (no deadlock through it), and once per transaction (a transaction-local setting marks it done).
--
-- The embedded database (PGlite: one process, the only writer) counts its writes in that process instead
-- (Db.readModelGeneration) and gets no triggers: the table stays at zero there.
CREATE TABLE read_model_generation (
  shard smallint PRIMARY KEY,
  n bigint NOT NULL DEFAULT 0
);

INSERT INTO read_model_generation (shard) SELECT generate_series(0, 63);

-- One line per statement inside the body: migrate.ts splits scripts on a semicolon at the end of a line.
CREATE FUNCTION bump_read_model_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('shs.read_model_bumped', true) IS DISTINCT FROM '1' THEN
    UPDATE read_model_generation SET n = n + 1 WHERE shard = pg_backend_pid() % 64; PERFORM set_config('shs.read_model_bumped', '1', true); END IF; RETURN NULL; END $$;

DO $$
DECLARE t text; BEGIN
  IF version() LIKE '%PGlite%' THEN RETURN; END IF; FOREACH t IN ARRAY ARRAY['customers', 'contact_links', 'hubspot_installs', 'stripe_objects', 'hubspot_deals', 'crm_companies', 'crm_company_members', 'revenue_movements'] LOOP EXECUTE format('CREATE CONSTRAINT TRIGGER read_model_generation AFTER INSERT OR UPDATE OR DELETE ON %I DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_read_model_generation()', t); EXECUTE format('CREATE TRIGGER read_model_generation_truncate AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION bump_read_model_generation()', t); END LOOP; END $$;
