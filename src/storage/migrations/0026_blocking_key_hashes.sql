-- Blocking keys stored as a 64-bit hash of (referential, key), not as their text (docs/decisions.md §33).
--
-- A person is written under about five blocking keys, and a bulk import inserts each into, and probes each of the next
-- rows' keys against, this table's primary key. With the text (referential, key, golden id) that index was the
-- largest the import grows (641 MB at 1M persons), each insert and probe a descent compared by collation. With a
-- bigint the entry is half as wide and compared as an integer: on the 1M database, 25,000 inserts took 195 ms against
-- 290, 25,000 probes 113 ms against 195. The key's text stays where it is read: ref_golden.blocking_keys lists each
-- record's keys, from which its rows are found (src/golden/keys.ts). Two keys that hash alike (about one chance in
-- 10^6 for all the keys of a million persons) only add a candidate, which matching scores like any other.
--
-- The hash is PostgreSQL's own (hashtextextended, seed 0), computed by the server from the text it is sent, on both
-- drivers alike (the same value on PGlite), so no client has to agree with it: src/golden/keys.ts blockingKeyHash.
CREATE TABLE ref_blocking_key_hashes (
  key_hash bigint NOT NULL,
  -- No foreign key: derived data, written only by the engine beside the record (and a check per row costs ingest).
  golden_id text NOT NULL
);
INSERT INTO ref_blocking_key_hashes (key_hash, golden_id)
SELECT DISTINCT hashtextextended(referential || ':' || key, 0), golden_id FROM ref_blocking_keys;
DROP TABLE ref_blocking_keys;
ALTER TABLE ref_blocking_key_hashes RENAME TO ref_blocking_keys;
-- Built once over the rows moved, rather than entry by entry as they were inserted.
ALTER TABLE ref_blocking_keys ADD CONSTRAINT ref_blocking_keys_pkey PRIMARY KEY (key_hash, golden_id);
