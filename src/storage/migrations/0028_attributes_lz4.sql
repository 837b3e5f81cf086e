-- Attributes compressed with LZ4 where the server has it (docs/decisions.md §35).
--
-- A person's golden record is about 2.4 KB before compression, above the 2 KB at which PostgreSQL compresses a row's
-- largest values: its attributes (about 1.5 KB of jsonb) are compressed as every record is written, with pglz by
-- default. LZ4 compresses them in less time (5,000 new records: 219 ms against 244 ms for the whole insert on the
-- bench's 1M database) and reads them back faster. Values already stored keep the method they were written with; both
-- read the same.
--
-- PostgreSQL built without LZ4 (the embedded PGlite among them) refuses the method (feature_not_supported): the
-- columns then keep the server's default, and nothing else changes.
DO $$
BEGIN
  ALTER TABLE ref_golden ALTER COLUMN attributes SET COMPRESSION lz4;
  ALTER TABLE ref_golden_superseded ALTER COLUMN attributes SET COMPRESSION lz4;
  ALTER TABLE ref_source_records ALTER COLUMN attributes SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  NULL;
END
$$;
