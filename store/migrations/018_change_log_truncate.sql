-- A TRUNCATE of a logged table fires no row or statement trigger of
-- INSERT, UPDATE or DELETE: the rows it removed were gone from the tables
-- and never from a follower's copy, a silent gap in the log. A statement
-- trigger before the TRUNCATE (of every table it empties, those its
-- CASCADE reaches among them) logs a DELETE of each row, with its region,
-- exactly as a DELETE of the whole table would. Emptying a table this way
-- costs what the rows' deletions cost in the log.
CREATE FUNCTION hub_log_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
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
    EXECUTE format('INSERT INTO change_pending (type, record_id, op, region_path)
        SELECT $1, x.id, ''DELETE'', %s FROM %I.%I x %s ORDER BY x.id',
        region_expr, TG_TABLE_SCHEMA, TG_TABLE_NAME, region_join)
        USING TG_ARGV[0];
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
        EXECUTE format('CREATE TRIGGER log_truncate BEFORE TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_log_truncate(%L, %L)', t.tab, t.typ, t.region);
    END LOOP;
END;
$$;
