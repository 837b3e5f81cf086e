-- Ingest at millions of records (docs/decisions.md §10).
--
-- 1. The rows that the engine writes beside a golden record, in the same transaction (its history, its links, its
-- natural keys), no longer carry a foreign key to ref_golden. Golden records are never deleted (a merged or retired
-- record stays, with its id), so the check could only ever catch an engine bug, and it cost one index probe and a row
-- lock on the golden record per row written: three per contributed record, 15 % of a bulk import's database time.
-- The links keep theirs to the source records, and review items theirs to ref_golden (a handful per thousand records).
ALTER TABLE ref_golden_history DROP CONSTRAINT IF EXISTS ref_golden_history_golden_id_fkey;
ALTER TABLE ref_links DROP CONSTRAINT IF EXISTS ref_links_golden_id_fkey;
ALTER TABLE ref_natural_keys DROP CONSTRAINT IF EXISTS ref_natural_keys_golden_id_fkey;

-- 2. The blocking-key backfill is for records written before migration 0009; a database with no golden record yet has
-- none, and every record written from now on gets its keys with it. Recorded as done, so that the first start after a
-- bulk load does not walk millions of records to find none without keys.
INSERT INTO ref_maintenance (task, detail)
SELECT 'blocking-keys-v1', '{"keyed": 0, "reason": "no golden record when migration 0012 ran"}'::jsonb
 WHERE NOT EXISTS (SELECT 1 FROM ref_golden)
ON CONFLICT (task) DO NOTHING;
