-- Ingest at millions of records, continued (docs/decisions.md §32).
--
-- 1. A source record's current version lives in ref_source_records only; ref_source_versions keeps the versions it
-- superseded, each moved there by the contribution that supersedes it (src/golden/engine.ts). Every version is still
-- kept, once: a first version was written to both tables, so a bulk import of new records wrote each source record
-- twice (a heap row of a few hundred bytes and a primary-key entry, and ANALYZE and VACUUM over a table as large as
-- ref_source_records). ref_source_records gains recorded_at, the time its version was recorded, which the versions
-- kept before this migration held.
ALTER TABLE ref_source_records ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();
UPDATE ref_source_records s SET recorded_at = v.recorded_at
  FROM ref_source_versions v
 WHERE v.referential = s.referential AND v.source_system = s.source_system AND v.source_id = s.source_id AND v.version = s.version;
DELETE FROM ref_source_versions v
 USING ref_source_records s
 WHERE v.referential = s.referential AND v.source_system = s.source_system AND v.source_id = s.source_id AND v.version = s.version;

-- 2. ANALYZE reads 300 rows per unit of the largest statistics target of a table's columns (30,000 rows by default):
-- 0.5 to 1.8 s a pass over each of these tables at a million persons (0.13 to 0.16 s at target 10), and autovacuum
-- analyses a growing table at every 10 % of growth (7 or 8 passes each during a 1M import). They are read only through their indexes, by
-- identifier (a record's versions, the change feed by position, a source's record and link, a record's links), where
-- a 3,000-row sample estimates as well: every column's target is set to 10. The tables whose statistics choose plans
-- (ref_golden and the search names for search, the blocking keys for the probe) keep the default.
ALTER TABLE ref_golden_history
  ALTER COLUMN seq SET STATISTICS 10, ALTER COLUMN golden_id SET STATISTICS 10, ALTER COLUMN referential SET STATISTICS 10,
  ALTER COLUMN version SET STATISTICS 10, ALTER COLUMN status SET STATISTICS 10, ALTER COLUMN merged_into SET STATISTICS 10,
  ALTER COLUMN attributes SET STATISTICS 10, ALTER COLUMN links SET STATISTICS 10, ALTER COLUMN cause SET STATISTICS 10,
  ALTER COLUMN valid_from SET STATISTICS 10;
ALTER TABLE ref_changes
  ALTER COLUMN id SET STATISTICS 10, ALTER COLUMN position SET STATISTICS 10, ALTER COLUMN referential SET STATISTICS 10,
  ALTER COLUMN golden_id SET STATISTICS 10, ALTER COLUMN version SET STATISTICS 10, ALTER COLUMN type SET STATISTICS 10,
  ALTER COLUMN payload SET STATISTICS 10, ALTER COLUMN outbox_id SET STATISTICS 10, ALTER COLUMN created_at SET STATISTICS 10;
ALTER TABLE ref_links
  ALTER COLUMN referential SET STATISTICS 10, ALTER COLUMN source_system SET STATISTICS 10, ALTER COLUMN source_id SET STATISTICS 10,
  ALTER COLUMN golden_id SET STATISTICS 10, ALTER COLUMN how SET STATISTICS 10, ALTER COLUMN detail SET STATISTICS 10,
  ALTER COLUMN at SET STATISTICS 10;
ALTER TABLE ref_source_records
  ALTER COLUMN referential SET STATISTICS 10, ALTER COLUMN source_system SET STATISTICS 10, ALTER COLUMN source_id SET STATISTICS 10,
  ALTER COLUMN version SET STATISTICS 10, ALTER COLUMN attributes SET STATISTICS 10, ALTER COLUMN received_at SET STATISTICS 10,
  ALTER COLUMN recorded_at SET STATISTICS 10;
