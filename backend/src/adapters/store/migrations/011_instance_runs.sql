-- One row per running backend process: written when it starts, its heartbeat moved while it runs, deleted when it
-- stops cleanly. A row whose heartbeat has gone stale is an unclean stop (kill -9, a crash, a power loss): webhooks
-- acknowledged shortly before it may be lost where the database cannot fsync (the embedded PGlite), and Stripe counts
-- them as delivered, so another (or the restarted) process lists Stripe's events from that heartbeat on. The
-- recovery columns are the lease of the process doing that, so a failed listing is taken up again later.
CREATE TABLE instance_runs (
  instance_id text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  recovery_owner text,
  recovery_until timestamptz
);
