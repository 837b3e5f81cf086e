-- The console's state that every hub process must see (tabadol serve --processes N): failed sign-ins counted per
-- operator and per client address (the sign-in limit), and the "verify the chain" job with its progress.

-- One row per throttled key (a SHA-256 of `operator:<id>` or `address:<ip>`): failures in the window that started at
-- window_start. A row whose window is over counts for nothing and is reused or pruned.
CREATE TABLE console_sign_in_failures (
  key_hash text PRIMARY KEY,
  failures integer NOT NULL,
  window_start timestamptz NOT NULL
);
CREATE INDEX console_sign_in_failures_window ON console_sign_in_failures (window_start);

-- "Verify the chain": who started it, when, how far it is (written by the process that runs it, about once a second,
-- with heartbeat_at), and its result. At most one running at a time across the hub (the partial unique index).
CREATE TABLE console_log_verifications (
  id text PRIMARY KEY,
  started_by text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  total bigint NOT NULL,
  rows_checked bigint NOT NULL DEFAULT 0,
  state text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
  result jsonb,
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  CHECK ((state = 'done') = (result IS NOT NULL))
);
CREATE UNIQUE INDEX console_log_verifications_one_running ON console_log_verifications ((state)) WHERE state = 'running';
CREATE INDEX console_log_verifications_started ON console_log_verifications (started_at);

-- The console's overview reads the last 24 hours of the log grouped by hour, problem, client and service in one pass:
-- with these columns in the index on `at` that pass is an index-only scan instead of a read of the wide log rows.
-- It replaces message_log_at (same key: the purge's and the time searches' range scans use it as before).
CREATE INDEX message_log_at_overview ON message_log (at) INCLUDE (client, service, problem);
DROP INDEX message_log_at;
