-- A case's timeline (jsonb, about 1.3 kB for seven steps) takes a case's
-- row past the size at which PostgreSQL compresses it: three cases in four
-- are stored compressed. With the default method, pglz, compressing cost
-- about 10 µs a case written and reading a timeline back decompresses it;
-- lz4 halves the write's cost (2.0 s against 1.0 s for the medium city's
-- 100k timelines) and reads them back in half the time, for the same size.
-- Values already stored keep their method until they are written again. A
-- server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE "case" ALTER COLUMN timeline SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'case timelines stay compressed with pglz: %', SQLERRM;
END
$$;
