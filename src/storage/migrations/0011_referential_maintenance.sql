-- One-off maintenance passes over the referentials (a backfill of derived keys, say), each recorded once complete so
-- that a restart never repeats it. A new definition of derived data takes a new task name and runs once more.
CREATE TABLE ref_maintenance (
  task text PRIMARY KEY,
  done_at timestamptz NOT NULL DEFAULT now(),
  detail jsonb NOT NULL DEFAULT '{}'
);
