-- Sync, inbound (docs/sync.md, "Writing an adapter"): what each adapter has read from its system, and which source
-- record versions the referentials have already taken in. PostgreSQL is the truth; the ingest queue only moves work.

-- One row per adapter: its configuration (checked against the adapter's zod schema when read), its pull cursor (opaque
-- to the hub: the adapter's own), when it pulled, and its errors. The cursor moves in the same transaction as the
-- outbox rows that carry what was pulled, so a record is never skipped and a crash re-reads at most one pull.
CREATE TABLE sync_adapter_cursors (
  adapter text PRIMARY KEY,
  system text NOT NULL,
  config jsonb,
  cursor text,
  last_pull_at timestamptz,
  last_success_at timestamptz,
  -- The next pull is not due before this (set after a pull from `every`, after a failure from the backoff).
  next_pull_at timestamptz,
  last_error text,
  errors bigint NOT NULL DEFAULT 0,
  consecutive_errors integer NOT NULL DEFAULT 0,
  pulled_count bigint NOT NULL DEFAULT 0,
  -- One puller at a time per adapter across processes.
  lease_owner text,
  lease_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Each source record version taken in once: the same (system, sourceId, sourceVersion) again changes nothing, even if
-- the system sends it with other attributes (a replayed page, a file dropped twice, an older version late).
CREATE TABLE sync_ingested (
  system text NOT NULL,
  referential text NOT NULL,
  source_id text NOT NULL,
  source_version text NOT NULL,
  -- The bulk path's decision (created, updated, unchanged, linked-*, review) or 'rejected' with its problems.
  decision text NOT NULL,
  golden_id text,
  problems jsonb,
  ingested_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (system, referential, source_id, source_version)
);
