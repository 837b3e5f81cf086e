-- The hub's proof to a provider that a call came through it (docs/protocol.md §5, docs/decisions.md §24): ES256 by the
-- hub's key (the default), or HS256 with a key per binding. Only the key's id is stored: the key is derived from the
-- hub's secret (its key file) and that id, so the database alone reveals nothing that could forge a proof.
ALTER TABLE service_bindings ADD COLUMN forward_proof text NOT NULL DEFAULT 'es256' CHECK (forward_proof IN ('es256', 'hs256'));
ALTER TABLE service_bindings ADD COLUMN forward_key_id text;
ALTER TABLE service_bindings ADD CONSTRAINT service_bindings_forward_key CHECK (
  (forward_proof = 'es256' AND forward_key_id IS NULL) OR (forward_proof = 'hs256' AND kind = 'http' AND forward_key_id IS NOT NULL)
);
