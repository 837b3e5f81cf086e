-- Fuzzy search (the referential services' GET …/search) reads the nearest records first: a GiST trigram index answers
-- ORDER BY blocking_text <->> q LIMIT n by walking the tree nearest-first and stops after n records, so a common name
-- (tens of thousands of records above the similarity threshold at 1,000,000 persons) costs what its first page costs.
-- The GIN index it replaces could only hand over every record above the threshold, to be ranked afterwards. A larger
-- signature than the default (12 bytes) keeps the inner pages' bounds tight enough to prune with: these texts hold two
-- scripts' worth of trigrams.
DROP INDEX IF EXISTS ref_golden_blocking;
CREATE INDEX ref_golden_blocking_knn ON ref_golden USING gist (blocking_text gist_trgm_ops (siglen = 256)) WHERE status = 'active';

-- A search within a commune starts from the commune's records (a few hundred per commune even at full scale).
CREATE INDEX ref_golden_commune ON ref_golden (referential, (match_fields ->> 'commune')) WHERE status = 'active';
