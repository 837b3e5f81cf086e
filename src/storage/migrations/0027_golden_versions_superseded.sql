-- A golden record's current version is written once, in ref_golden; the history table keeps the versions it superseded
-- (docs/decisions.md §34), as ref_source_versions does for source records since migration 0025.
--
-- Every version used to get a history row as it was written, so a new record wrote its attributes twice: in ref_golden
-- and in its first history row (about 1.3 KB of JSON each, compressed by TOAST twice, and two index entries): at a
-- million persons, a tenth of the database server's work during an import. ref_golden now also holds what a history row
-- held of its version: the sources it was computed from (links), why it was written (cause), since when it holds
-- (valid_from) and its place among all versions (version_seq, drawn from the history's own sequence, so that versions
-- keep one order across both tables). A write that replaces a version moves it to ref_golden_superseded first.
--
-- Readers see every version as before through the view ref_golden_history: the superseded versions and the current
-- ones, with the same columns.
ALTER TABLE ref_golden ADD COLUMN version_seq bigint, ADD COLUMN links jsonb, ADD COLUMN cause text, ADD COLUMN valid_from timestamptz;

-- Each record's latest history row is its current version (every write of a version wrote one): it moves into the record.
UPDATE ref_golden g SET version_seq = h.seq, links = h.links, cause = h.cause, valid_from = h.valid_from
  FROM (SELECT DISTINCT ON (golden_id) seq, golden_id, version, links, cause, valid_from FROM ref_golden_history ORDER BY golden_id, seq DESC) h
 WHERE h.golden_id = g.id AND h.version = g.version;
DELETE FROM ref_golden_history h USING ref_golden g WHERE h.seq = g.version_seq;

ALTER TABLE ref_golden_history RENAME TO ref_golden_superseded;
ALTER INDEX ref_golden_history_pkey RENAME TO ref_golden_superseded_pkey;
ALTER INDEX ref_golden_history_version RENAME TO ref_golden_superseded_version;
-- The sequence both tables draw from, named for what it numbers (writers call nextval('ref_golden_version_seq')).
ALTER SEQUENCE ref_golden_history_seq_seq RENAME TO ref_golden_version_seq;

-- A record without a current history row (none was written) shows none, as before.
CREATE VIEW ref_golden_history AS
SELECT seq, golden_id, referential, version, status, merged_into, attributes, links, cause, valid_from FROM ref_golden_superseded
UNION ALL
SELECT version_seq, id, referential, version, status, merged_into, attributes, links, cause, valid_from FROM ref_golden WHERE version_seq IS NOT NULL;
