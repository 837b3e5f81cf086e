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
-- analyses a growing table at every 10 % of growth (7 or 8 passes each during a 1M import). They are read only
-- through their indexes, by identifier (a record's versions, the change feed by position, a source's record and link,
-- a record's links), where a 3,000-row sample estimates as well: every column's target is set to 10. The tables whose
-- statistics choose plans (ref_golden and the search names for search, the blocking keys for the probe) keep the
-- default.
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT attrelid::regclass AS relation, attname FROM pg_attribute
            WHERE attrelid IN ('ref_golden_history'::regclass, 'ref_changes'::regclass, 'ref_links'::regclass, 'ref_source_records'::regclass)
              AND attnum > 0 AND NOT attisdropped
  LOOP
    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS 10', c.relation, c.attname);
  END LOOP;
END $$;
