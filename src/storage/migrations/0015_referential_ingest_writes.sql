-- Ingest at millions of records, continued (docs/decisions.md §15): two costs of every record a bulk import writes.
--
-- 1. ref_links' foreign key to ref_source_records. The engine writes a link in the transaction that writes its source
-- record, and source records are never deleted, so the check could only ever catch an engine bug; it cost a query per
-- link (6.8 of some 260 seconds of database time importing 1,120,703 persons). Migration 0012 dropped the links' key
-- to ref_golden for the same reason.
ALTER TABLE ref_links DROP CONSTRAINT IF EXISTS ref_links_referential_source_system_source_id_fkey;

-- 2. attribute_values (migration 0013) is no longer a generated column: computing it in PostgreSQL for each record
-- written (ref_attribute_values: jsonb_each and jsonb_object_agg, through an SQL function per row) was half of what
-- inserting a golden record cost (about 8 µs a record). The writers give it instead, the engine from the values it
-- has at hand (src/referentials/store.ts valuesJson, engine-survivorship.ts surviveOneJson), unmerge's restore through
-- the snapshot it restores (or ref_attribute_values of it); a test drives a record through every writer and compares.
-- The column's data stays as it is; NOT NULL, so that a writer that forgets it fails rather than leaving it out.
ALTER TABLE ref_golden ALTER COLUMN attribute_values DROP EXPRESSION;
ALTER TABLE ref_golden ALTER COLUMN attribute_values SET NOT NULL;
