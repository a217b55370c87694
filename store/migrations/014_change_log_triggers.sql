-- The change log's triggers, faster (migration 011 made a bulk update of
-- 5,000 cases take 7 s instead of 0.5 s): the rows' JSON is built once per
-- row, not once per compared column, and the region of a row is read
-- through its own column, named to the trigger (TG_ARGV[1]: region_path,
-- region_id, grid_id or none), with one join instead of a lookup per row.
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
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO change_pending (type, record_id, op, region_path)
            SELECT $1, x.id, ''CREATE'', %s FROM new_rows x %s ORDER BY x.id', region_expr, region_join)
            USING TG_ARGV[0];
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE format('INSERT INTO change_pending (type, record_id, op, fields, region_path)
            WITH j AS MATERIALIZED (
                SELECT n.id, to_jsonb(n) AS jn, to_jsonb(o) AS jo FROM new_rows n JOIN old_rows o ON o.id = n.id),
            d AS MATERIALIZED (
                SELECT j.id, ARRAY(SELECT e.key FROM jsonb_each(j.jn) e
                    WHERE e.key NOT IN (''fetched_at'', ''payload_hash'', ''source_updated_at'')
                      AND e.value IS DISTINCT FROM j.jo->e.key ORDER BY e.key) AS fields
                FROM j)
            SELECT $1, d.id, ''UPDATE'', d.fields, %s
            FROM d JOIN new_rows x ON x.id = d.id %s
            WHERE cardinality(d.fields) > 0 ORDER BY d.id', region_expr, region_join)
            USING TG_ARGV[0];
    ELSE
        EXECUTE format('INSERT INTO change_pending (type, record_id, op, region_path)
            SELECT $1, x.id, ''DELETE'', %s FROM old_rows x %s ORDER BY x.id', region_expr, region_join)
            USING TG_ARGV[0];
    END IF;
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('case', 'CASE', 'region_path'), ('person', 'PERSON', 'none'),
                                   ('household', 'HOUSEHOLD', 'grid_id'), ('party_org', 'PARTY_ORG', 'region_id'),
                                   ('party_member', 'PARTY_MEMBER', 'region_id'),
                                   ('service_station', 'SERVICE_STATION', 'region_id'), ('grid_worker', 'GRID_WORKER', 'none'),
                                   ('incident', 'INCIDENT', 'none'), ('quarantine', 'QUARANTINE_ENTRY', 'none')) AS v(tab, typ, region)
    LOOP
        EXECUTE format('DROP TRIGGER log_insert ON %I', t.tab);
        EXECUTE format('DROP TRIGGER log_update ON %I', t.tab);
        EXECUTE format('DROP TRIGGER log_delete ON %I', t.tab);
        EXECUTE format('CREATE TRIGGER log_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_log_change(%L, %L)', t.tab, t.typ, t.region);
        EXECUTE format('CREATE TRIGGER log_update AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_log_change(%L, %L)', t.tab, t.typ, t.region);
        EXECUTE format('CREATE TRIGGER log_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_log_change(%L, %L)', t.tab, t.typ, t.region);
    END LOOP;
END;
$$;

DROP FUNCTION hub_change_region(jsonb);
