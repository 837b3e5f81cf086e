-- Blocking keys for fuzzy matching: a golden record is found under each of its keys (see ReferentialModule.blockingKeys);
-- a contribution's candidates are one equality join on this index, whatever the size of the referential. Only active
-- golden records have keys. The trigram index on ref_golden.blocking_text stays for search.
CREATE TABLE ref_blocking_keys (
  referential text NOT NULL,
  key text NOT NULL,
  -- No foreign key: derived data, written only by the engine beside the record (and a check per row costs ingest).
  golden_id text NOT NULL,
  PRIMARY KEY (referential, key, golden_id)
);
CREATE INDEX ref_blocking_keys_golden ON ref_blocking_keys (golden_id);
