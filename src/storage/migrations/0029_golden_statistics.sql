-- ANALYZE of the golden records without the columns no plan reads (docs/decisions.md §37).
--
-- Autovacuum analyses ref_golden at every 10 % of its growth, from 30,000 sampled rows, and computes every column's
-- statistics. Five columns are only ever read whole, by a record's id, never compared in a WHERE clause: the
-- attributes with their provenance, their values alone, the links, the blocking keys' list and the match fields (the
-- search's commune filter reads `match_fields ->> 'commune'`, whose statistics are the expression index's own,
-- ref_golden_commune). Their statistics (a jsonb column's most common values and histogram sort 30,000 documents of
-- 1 to 2 KB) choose no plan. At target 0 ANALYZE skips them: at a million persons a pass took 480 to 493 ms against
-- 939 to 1,317 ms. The other columns (id, status, referential, blocking_text, merged_into, …) keep the default, and
-- so does the sample's size.
ALTER TABLE ref_golden
  ALTER COLUMN attributes SET STATISTICS 0,
  ALTER COLUMN attribute_values SET STATISTICS 0,
  ALTER COLUMN links SET STATISTICS 0,
  ALTER COLUMN blocking_keys SET STATISTICS 0,
  ALTER COLUMN match_fields SET STATISTICS 0;
