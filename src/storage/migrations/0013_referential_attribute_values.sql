-- A golden record's attributes as a consumer reads them unless it asks for provenance: each attribute's value alone
-- (`{"cin": "AB123456", …}`), the JSON text kept beside the attributes it is computed from. Built at read time it was
-- the larger part of a batch resolve's database time: 12.7 of 20.7 ms for 1,000 persons at 1,000,000 (jsonb_each and
-- jsonb_object_agg per record), against 8 ms for every probe of the batch together (docs/decisions.md §12).
--
-- A stored generated column, so that no writer can leave it stale: every INSERT and UPDATE of ref_golden, and
-- unmerge's restore, recomputes it. Text, not jsonb: it is only ever printed (jsonb would be printed again per read).
-- The same values as plainValues (src/referentials/engine-survivorship.ts), as text in jsonb's key order.
CREATE FUNCTION ref_attribute_values(attributes jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN COALESCE((SELECT jsonb_object_agg(e.key, e.value -> 'value') FROM jsonb_each(attributes) AS e), '{}'::jsonb)::text;

ALTER TABLE ref_golden ADD COLUMN attribute_values text GENERATED ALWAYS AS (ref_attribute_values(attributes)) STORED;
