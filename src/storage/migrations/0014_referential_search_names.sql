-- Fuzzy search reads the distinct names, then their records (docs/decisions.md §13).
--
-- The nearest-first walk of a GiST trigram index over every active golden record (migration 0010) could not prune at
-- a million persons: the inner pages' signatures are saturated, and a query whose twentieth nearest record is not
-- close (a variant spelling, a first name shared by a large part of the referential) read most of the index, 14,000
-- pages and 250 ms for one search. The records share their names: 1,002,652 active persons have 31,248 distinct
-- blocking texts (names in both scripts, no dates), 200,364 companies 11,910. The same walk over the distinct names,
-- then an index probe for each name's records, answers the same page.
CREATE TABLE ref_search_names (
  referential text NOT NULL,
  blocking_text text NOT NULL,
  PRIMARY KEY (referential, blocking_text)
);
CREATE INDEX ref_search_names_knn ON ref_search_names USING gist (blocking_text gist_trgm_ops (siglen = 256));

-- A name's records, in id order (the page's order among equally similar records), read from the index alone.
CREATE INDEX ref_golden_by_blocking_text ON ref_golden (referential, blocking_text, id) WHERE status = 'active';
DROP INDEX IF EXISTS ref_golden_blocking_knn;

INSERT INTO ref_search_names (referential, blocking_text)
SELECT DISTINCT referential, blocking_text FROM ref_golden WHERE blocking_text <> '';

-- Every writer of ref_golden adds its names, in the statement that writes them, so that no code path (nor a row
-- written by hand) can be missing from search. Names are never removed: one whose records were all merged away or
-- renamed stays, and search skips a name without an active record. A bulk chunk's new records: one statement-level
-- insert of their distinct names, in order (two writers then take the names' locks in the same order).
CREATE FUNCTION ref_search_names_of_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ref_search_names (referential, blocking_text)
  SELECT DISTINCT referential, blocking_text FROM inserted_goldens WHERE blocking_text <> '' ORDER BY 1, 2
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER ref_golden_search_names_inserted AFTER INSERT ON ref_golden
  REFERENCING NEW TABLE AS inserted_goldens FOR EACH STATEMENT EXECUTE FUNCTION ref_search_names_of_inserted();

-- A record whose names changed (a contribution, a merge, an unmerge's restore): only those rows call the function.
CREATE FUNCTION ref_search_name_of_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ref_search_names (referential, blocking_text) VALUES (NEW.referential, NEW.blocking_text) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER ref_golden_search_name_updated AFTER UPDATE OF blocking_text ON ref_golden FOR EACH ROW
  WHEN (NEW.blocking_text IS DISTINCT FROM OLD.blocking_text AND NEW.blocking_text <> '')
  EXECUTE FUNCTION ref_search_name_of_updated();
