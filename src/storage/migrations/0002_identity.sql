-- Members and subsystems with their public keys; operators of the admin API; a version counter that processes poll
-- so that a change made by one process (a key revoked, a convention activated) takes effect in all of them.
CREATE TABLE members (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('member', 'subsystem')),
  name text NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE member_keys (
  member_id text NOT NULL REFERENCES members (id),
  kid text NOT NULL,
  alg text NOT NULL CHECK (alg IN ('ES256', 'EdDSA')),
  jwk jsonb NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  PRIMARY KEY (member_id, kid)
);

CREATE TABLE operators (
  id text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'auditor')),
  -- SHA-256 of the token's secret part: tokens are high-entropy, so a fast hash is enough and the token is never stored.
  secret_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

-- Who did what through the admin API or the CLI.
CREATE TABLE admin_audit (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE registry_version (
  id integer PRIMARY KEY CHECK (id = 1),
  version bigint NOT NULL
);
INSERT INTO registry_version VALUES (1, 1);
