-- The transactional outbox: rows written in the caller's transaction, relayed to the queue after commit,
-- marked delivered when handled, re-driven from here when a queue lost them.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  topic text NOT NULL CHECK (topic ~ '^[a-z0-9][a-z0-9.-]{0,63}$'),
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  relayed_at timestamptz,
  relay_count integer NOT NULL DEFAULT 0,
  delivered_at timestamptz,
  dead_at timestamptz,
  last_error text
);

-- The relay only ever looks at pending rows: keep that index small.
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL AND dead_at IS NULL;
