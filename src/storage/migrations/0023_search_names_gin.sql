-- Search at hundreds of thousands of distinct names (docs/decisions.md §31).
--
-- The GiST trigram index of ref_search_names (migration 0014) was walked nearest-first. With the family names a
-- population really bears (decisions §30), a million persons have 587,289 distinct names where the 50-name generator
-- gave 31,248; the GiST's inner signatures saturate again and the walk took 115 to 340 ms a query. A GIN trigram index
-- answers `<%` at a threshold instead: at 0.9, a name and its close spellings, in 2 to 7 ms a query on the same data;
-- search asks at 0.9, then 0.75, then the configured threshold, and stops at the first that fills its page
-- (src/golden/search.ts). It is also cheaper to write: about 13 µs a new name against 23 for the GiST (200,000 names
-- inserted 4,000 a statement), with fastupdate's pending list merged into the index in batches.
DROP INDEX IF EXISTS ref_search_names_knn;
CREATE INDEX ref_search_names_trgm ON ref_search_names USING gin (blocking_text gin_trgm_ops);
