-- Text search over cases by character bigrams (store/textsearch.go) in
-- place of pg_trgm's trigrams. A Chinese search term is most often two
-- characters (井盖, 占道), which hold no trigram: the trigram index left
-- such a search to a scan of every case (145 ms at the medium city's
-- 100k cases, seconds at a city's million), and computing a case's
-- trigrams at each write cost about 40 µs, half of writing a new case.
-- The bigrams are computed by the writer (Go) and stored beside the text,
-- in a GIN index; a search takes the cases holding every bigram of its
-- term and ILIKE checks them.
--
-- hub_search_grams computes the same bigrams as the writer, for the cases
-- held when this migration runs (about 55 µs a case) and for tests
-- holding the two equal. The column is filled as a generated column,
-- then made a plain one the writer fills: one rewrite of the table with
-- its indexes built afresh, where an UPDATE of every case left each one's
-- old version behind, an entry for it in every index, and the table
-- twice its size (medium city: 14 s and 230 MB against 25 s and 466 MB).
-- A rewrite fires no trigger: the change log and incident merging see
-- nothing, as nothing they follow changed.
CREATE FUNCTION hub_search_grams(t text) RETURNS int4[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    c text[] := string_to_array(lower(t), NULL);
    grams int4[] := '{}';
    p bigint;
    q bigint;
BEGIN
    IF cardinality(c) < 2 THEN
        RETURN grams;
    END IF;
    p := ascii(c[1]) & 65535;
    FOR i IN 2 .. cardinality(c) LOOP
        q := ascii(c[i]) & 65535;
        -- (p << 16 | q) as a signed int4: the same bits as the writer's.
        grams := grams || ((p << 16 | q) - CASE WHEN p >= 32768 THEN 4294967296 ELSE 0 END)::int4;
        p := q;
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT g FROM unnest(grams) g ORDER BY g);
END
$$;

-- The trigram index goes first: the rewrite would otherwise build it again.
DROP INDEX case_text_idx;
ALTER TABLE "case" ADD COLUMN search_grams int4[] NOT NULL
    GENERATED ALWAYS AS (hub_search_grams(title || ' ' || description)) STORED;
ALTER TABLE "case" ALTER COLUMN search_grams DROP EXPRESSION;
ALTER TABLE "case" ALTER COLUMN search_grams SET DEFAULT '{}';
CREATE INDEX case_search_idx ON "case" USING gin (search_grams);

-- The change log leaves the bigrams out of a case's changed fields, as it
-- does the timeline: they follow the title and description, which it
-- logs. Otherwise the function is that of migration 033.
CREATE OR REPLACE FUNCTION hub_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    region_join text := CASE TG_ARGV[1]
        WHEN 'region_path' THEN ''
        WHEN 'none' THEN ''
        ELSE format('LEFT JOIN region r ON r.id = x.%I', TG_ARGV[1]) END;
    region_expr text := CASE TG_ARGV[1]
        WHEN 'region_path' THEN 'x.region_path'
        WHEN 'none' THEN 'NULL::ltree'
        ELSE 'r.path' END;
    diff text;
BEGIN
    -- A statement that wrote no row logs nothing: return before building
    -- and planning the dynamic statement.
    IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT FROM old_rows) THEN
            RETURN NULL;
        END IF;
    ELSIF NOT EXISTS (SELECT FROM new_rows) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO change_pending (type, record_id, op, region_path)
            SELECT $1, x.id, ''CREATE'', %s FROM new_rows x %s ORDER BY x.id', region_expr, region_join)
            USING TG_ARGV[0];
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT string_agg(format('CASE WHEN x.%1$I IS DISTINCT FROM o.%1$I THEN %1$L END', a.attname),
                ', ' ORDER BY a.attname::text)
            INTO diff
            FROM pg_attribute a
            WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped
              AND a.attname NOT IN ('fetched_at', 'payload_hash', 'source_updated_at', 'timeline', 'search_grams')
              AND a.attname NOT LIKE 'progress\_%';
        EXECUTE format('INSERT INTO change_pending (type, record_id, op, fields, region_path)
            SELECT $1, x.id, ''UPDATE'', d.fields, %s
            FROM new_rows x JOIN old_rows o ON o.id = x.id
            CROSS JOIN LATERAL (SELECT array_remove(ARRAY[%s]::text[], NULL) AS fields) d
            %s
            WHERE cardinality(d.fields) > 0 ORDER BY x.id', region_expr, diff, region_join)
            USING TG_ARGV[0];
    ELSE
        EXECUTE format('INSERT INTO change_pending (type, record_id, op, region_path)
            SELECT $1, x.id, ''DELETE'', %s FROM old_rows x %s ORDER BY x.id', region_expr, region_join)
            USING TG_ARGV[0];
    END IF;
    RETURN NULL;
END;
$$;
