-- The tamper-evident message log of exchanges (src/log): one row per exchange chained by hash, the keyed HMACs of
-- the subjects each exchange concerned, checkpoints signed by the hub, and the anchor left by a retention purge.
CREATE TABLE message_log (
  -- Assigned by the writer under the chain lock, consecutive and without gaps (not a sequence: a sequence leaves
  -- gaps on rollback, which would be indistinguishable from deleted rows).
  seq bigint PRIMARY KEY CHECK (seq > 0),
  at timestamptz NOT NULL,
  request_id text NOT NULL,
  client text,
  service text,
  operation text,
  purpose text,
  convention_id text,
  convention_version integer,
  status integer NOT NULL,
  problem text,
  duration_ms real NOT NULL,
  provider_ms real,
  request_digest text NOT NULL,
  response_digest text NOT NULL,
  request_signature text,
  response_signature text,
  -- Only when the convention says logBodies.
  request_body text,
  response_body text,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
-- Time-range searches and the retention purge.
CREATE INDEX message_log_at ON message_log (at);
-- Verification looks up which row a stray prev_hash points to (inserted rows); only on anomalies, but then fast.
CREATE INDEX message_log_hash ON message_log (hash);

-- The subjects (citizen, company, vehicle identifiers) as keyed HMACs computed by the caller: never the identifiers.
-- The primary key serves "every exchange about this subject in this period": seq grows with time, so a period is a
-- seq range (found through message_log_at).
CREATE TABLE message_subjects (
  seq bigint NOT NULL,
  subject_type text NOT NULL,
  subject_hmac text NOT NULL,
  location text NOT NULL,
  PRIMARY KEY (subject_hmac, seq)
);
-- Verification reads a page of rows' subjects, and the purge deletes them, by seq.
CREATE INDEX message_subjects_seq ON message_subjects (seq);

-- A compact JWS by the hub over {seq, hash, at, iss}: what catches a tail rewritten with recomputed hashes.
CREATE TABLE log_checkpoints (
  seq bigint PRIMARY KEY,
  hash text NOT NULL,
  at timestamptz NOT NULL,
  kid text NOT NULL,
  signature text NOT NULL
);

-- After a retention purge: the remaining chain starts after (seq, hash), which the checkpoint at checkpoint_seq signs.
CREATE TABLE log_anchor (
  id integer PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash text NOT NULL,
  checkpoint_seq bigint NOT NULL,
  purged_before timestamptz NOT NULL,
  purged_at timestamptz NOT NULL DEFAULT now()
);
