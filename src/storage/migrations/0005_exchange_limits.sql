-- Replay protection and quotas when there is no Redis (embedded mode, or PostgreSQL without Redis): shared by every
-- hub process on this database. With Redis they live there instead.
CREATE TABLE exchange_replay (
  jti text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX exchange_replay_expiry ON exchange_replay (expires_at);

CREATE TABLE exchange_quota (
  key text PRIMARY KEY,
  count integer NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX exchange_quota_expiry ON exchange_quota (expires_at);

-- Where each provider service is reached: a base URL (REST over HTTP) or an adapter binding registered in code.
CREATE TABLE service_bindings (
  service_id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('http', 'adapter')),
  base_url text,
  adapter text,
  timeout_ms integer NOT NULL DEFAULT 10000 CHECK (timeout_ms BETWEEN 100 AND 120000),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'http' AND base_url IS NOT NULL) OR (kind = 'adapter' AND adapter IS NOT NULL))
);
