-- Activated conventions: each version of each convention as the hub stored it when it countersigned, with the exact
-- OpenAPI bytes and the JWS, so that every process can re-verify what it enforces without the contracts/ files.
CREATE TABLE conventions (
  id text NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  provider text NOT NULL,
  service text NOT NULL,
  consumer text NOT NULL,
  -- The convention exactly as signed (the YAML's data model, no defaults applied).
  document jsonb NOT NULL,
  -- The OpenAPI document's bytes (UTF-8); openapi_digest is base64url SHA-256 over them.
  openapi text NOT NULL,
  openapi_digest text NOT NULL,
  -- General JSON JWS with the provider's, the consumer's and the hub's signatures.
  jws text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'superseded', 'revoked')),
  activated_at timestamptz NOT NULL DEFAULT now(),
  activated_by text NOT NULL,
  superseded_at timestamptz,
  revoked_at timestamptz,
  revoked_by text,
  revoked_reason text,
  PRIMARY KEY (id, version),
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);

-- One active convention per consumer and service: the hot path finds it by these three.
CREATE UNIQUE INDEX conventions_one_active ON conventions (provider, service, consumer) WHERE status = 'active';
-- And one active version per convention id.
CREATE UNIQUE INDEX conventions_one_active_id ON conventions (id) WHERE status = 'active';
