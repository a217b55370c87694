-- The fields an UPDATE changed are found by comparing the old and new row
-- column by column, no longer by turning both rows into JSON and comparing
-- their keys: two to_jsonb per row (a case's timeline included, though it
-- is never a logged field) cost 40 µs per updated row, most of the time of
-- an UPDATE of a person's golden record. The column list is read from the
-- catalog once per statement, so a column a later migration adds is
-- compared without this function changing. Fields keep the order of the
-- JSON comparison (by name), and the same columns stay out of it, with
-- the columns of a case's timeline summary (progress_*, migration 032),
-- derived from the timeline the log leaves out.
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
              AND a.attname NOT IN ('fetched_at', 'payload_hash', 'source_updated_at', 'timeline')
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
