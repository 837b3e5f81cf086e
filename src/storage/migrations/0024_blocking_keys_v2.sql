-- The persons' blocking keys of decisions §31 (two near-date keys a name where there were four, one commune key
-- whichever commune it is): records written before this migration are keyed again by the backfill
-- (referentials/services.ts, task blocking-keys-v2), once, in the background of the first start. A database with no
-- golden record yet has nothing to key again: recorded as done, as migration 0012 did for the first definition, so
-- that the first start after a bulk load does not recompute millions of records' keys to find them all current.
INSERT INTO ref_maintenance (task, detail)
SELECT 'blocking-keys-v2', '{"keyed": 0, "reason": "no golden record when migration 0024 ran"}'::jsonb
 WHERE NOT EXISTS (SELECT 1 FROM ref_golden)
ON CONFLICT (task) DO NOTHING;
