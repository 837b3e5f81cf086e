-- Referential batches: a client's upload of many contributions (NDJSON or CSV), keyed by the client's own batch id
-- within its source system (a resend with the same id changes nothing), processed by the queue in chunks.
CREATE TABLE ref_batches (
  source_system text NOT NULL,
  batch_id text NOT NULL,
  referential text NOT NULL,
  format text NOT NULL CHECK (format IN ('ndjson', 'csv')),
  status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  total integer NOT NULL,
  applied integer NOT NULL DEFAULT 0,
  rejected integer NOT NULL DEFAULT 0,
  -- Counts by engine decision: {"created": 3, "linked-identifier": 1, ...}.
  decisions jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_system, batch_id)
);

-- One row per data line of the upload; line is the line number in the file (the CSV header is line 1).
-- A line that could not even be read (not JSON, no sourceId) is stored already rejected, with attributes NULL.
CREATE TABLE ref_batch_rows (
  source_system text NOT NULL,
  batch_id text NOT NULL,
  line integer NOT NULL,
  source_id text,
  attributes jsonb,
  status text NOT NULL CHECK (status IN ('pending', 'applied', 'rejected')),
  decision text,
  golden_id text,
  problems jsonb,
  PRIMARY KEY (source_system, batch_id, line),
  FOREIGN KEY (source_system, batch_id) REFERENCES ref_batches (source_system, batch_id)
);
CREATE INDEX ref_batch_rows_pending ON ref_batch_rows (source_system, batch_id, line) WHERE status = 'pending';
