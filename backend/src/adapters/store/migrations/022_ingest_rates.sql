-- Each (account, mode)'s recent webhook volume, for the priority of its event jobs (queue/job-queue.ts,
-- fairPriorities): `level` is the count of its events received, decayed exponentially with a 10-s time constant
-- (a steady r events/s holds it near 10·r), as of `at`. The ingest statement updates its merchants' rows as it
-- stores their events: one row per merchant and statement, where counting the events of the last seconds from the
-- inbox read up to thousands of index entries per statement during a flood (the ingest's acknowledgements fell
-- from 1,730/s to 517/s on PostgreSQL).
CREATE TABLE ingest_rates (
  account_key text NOT NULL,
  livemode boolean NOT NULL,
  level double precision NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (account_key, livemode)
);
