-- Ingest at millions of records, continued (docs/decisions.md §25): two index entries fewer for every record written.
--
-- 1. A golden record's blocking keys are found through the list it holds, not through an index on
-- ref_blocking_keys.golden_id. That index cost a second B-tree insert for each key of every record written (7 to 30
-- keys a person), 40 % of what inserting the keys cost, and its only reader was the statement that replaces a record's
-- keys (src/golden/keys.ts syncBlockingKeys), which now deletes the keys the list names by their primary key. The list
-- is written with the record (insertGoldens) and kept by syncBlockingKeys, the only writer of ref_blocking_keys.
ALTER TABLE ref_golden ADD COLUMN blocking_keys text[];
UPDATE ref_golden g SET blocking_keys = k.keys
  FROM (SELECT golden_id, array_agg(DISTINCT key ORDER BY key) AS keys FROM ref_blocking_keys GROUP BY golden_id) k
 WHERE g.id = k.golden_id;
DROP INDEX IF EXISTS ref_blocking_keys_golden;

-- 2. A record's history is read by (golden_id, version) (the change feed, the sync deliveries) and by golden_id in
-- time order (as-of reads, the console's history): a record has a handful of versions, so the second is answered by the
-- first index and a sort of those few rows. The time-ordered index was a third B-tree insert for every history row.
DROP INDEX IF EXISTS ref_golden_history_asof;
