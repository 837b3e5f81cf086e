-- Sync (docs/sync.md): subscriptions to a referential's change feed and their deliveries. PostgreSQL is the truth of
-- every cursor and delivery state; queues only carry the work of sending them.

-- A subscriber subsystem's standing request for one referential's changes, under a convention (its purpose and the
-- fields of its listChanges operation govern what is pushed).
CREATE TABLE sync_subscriptions (
  id text PRIMARY KEY,
  subscriber text NOT NULL,
  referential text NOT NULL,
  convention_id text NOT NULL,
  purpose text NOT NULL,
  -- NULL: every kind of change.
  types text[],
  -- A territory code (region '01', province '01.051', commune '01.051.11.01'): only records in it. NULL: everywhere.
  scope text,
  mode text NOT NULL CHECK (mode IN ('push', 'pull', 'file')),
  -- push: the subscriber's URL, or 'adapter:<name>'; file: the folder; pull: NULL.
  target text,
  batch_size integer NOT NULL DEFAULT 100 CHECK (batch_size BETWEEN 1 AND 1000),
  state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'ended')),
  -- push and file: the last change position taken from the feed; pull: the last position the subscriber acknowledged.
  cursor bigint NOT NULL DEFAULT 0,
  -- The circuit of the subscription's target: consecutive failed sends, and open (no sends) until this instant.
  consecutive_failures integer NOT NULL DEFAULT 0,
  circuit_open_until timestamptz,
  -- One sender at a time per subscription (so that order per record key holds across workers and processes).
  lease_owner text,
  lease_until timestamptz,
  delivered_count bigint NOT NULL DEFAULT 0,
  failed_count bigint NOT NULL DEFAULT 0,
  -- Deliveries sent again after a sender stopped between sending them and recording the answer (possible duplicates).
  duplicate_count bigint NOT NULL DEFAULT 0,
  last_delivered_at timestamptz,
  last_error text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_subscriptions_active ON sync_subscriptions (referential) WHERE state = 'active';

-- One change to one push subscription; (subscription_id, position) is the delivery id the subscriber sees.
CREATE TABLE sync_deliveries (
  subscription_id text NOT NULL REFERENCES sync_subscriptions (id),
  position bigint NOT NULL,
  golden_id text NOT NULL,
  version integer NOT NULL,
  type text NOT NULL,
  change_at timestamptz NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- Set while a send is under way: found set by the next sender, the send's outcome is unknown (a possible duplicate).
  in_flight boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  dead_at timestamptz,
  last_status integer,
  last_error text,
  PRIMARY KEY (subscription_id, position)
);
-- What a sender claims: pending deliveries in order; and the dead ones of a record, which hold its later changes.
CREATE INDEX sync_deliveries_pending ON sync_deliveries (subscription_id, position) WHERE state = 'pending';
CREATE INDEX sync_deliveries_dead ON sync_deliveries (subscription_id, golden_id, position) WHERE state = 'dead';
-- Every delivery is inserted, updated once or twice and rarely read again: vacuum and analyse it far more often than
-- the default 20 % of the table, so that the planner knows its size and delivered rows leave the pending index.
ALTER TABLE sync_deliveries SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01);

-- Reading one referential's feed after a cursor.
CREATE INDEX ref_changes_referential_position ON ref_changes (referential, position) WHERE position IS NOT NULL;
-- Loading a change's record as it was at that version.
CREATE INDEX ref_golden_history_version ON ref_golden_history (golden_id, version);
