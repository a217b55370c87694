-- A case's timeline is a column of the case (a JSON array of its steps in
-- order: at, status, tier, source_status, actor, note), no longer one
-- case_event row per step. The timeline is only ever written whole, with its
-- case, by the case upsert, and only ever read whole, with its case (the
-- Case.timeline resolver, the Open311 history, the indicators of a case
-- changed after the evaluation instant). As rows it cost eight inserts, eight
-- primary-key entries and a delete of the old steps per written case (7.8M
-- rows in a city-sized initial load, more than the cases themselves); as a
-- column it is one value written in the same row.
--
-- The per-case timeline summary (case_progress, migration 009) is kept by
-- statement triggers on "case" over the statement's transition tables, from
-- the timelines the statement wrote, as it was kept by those on case_event.

-- A timeline is not a field of the change log's CASE changes (its rows were
-- never logged): only the key list differs from migration 014.
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
                    WHERE e.key NOT IN (''fetched_at'', ''payload_hash'', ''source_updated_at'', ''timeline'')
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

ALTER TABLE "case" ADD COLUMN timeline jsonb NOT NULL DEFAULT '[]';

UPDATE "case" c SET timeline = t.steps
FROM (SELECT case_id, jsonb_agg(jsonb_build_object('at', at, 'status', status, 'tier', tier,
          'source_status', source_status, 'actor', actor, 'note', note) ORDER BY seq) AS steps
      FROM case_event GROUP BY case_id) t
WHERE c.id = t.case_id;

DROP TRIGGER case_event_cascade_delete ON "case";
DROP TRIGGER case_event_cascade_truncate ON "case";
DROP FUNCTION case_event_cascade_delete();
DROP FUNCTION case_event_cascade_truncate();
DROP TABLE case_event;
DROP FUNCTION case_progress_insert();
DROP FUNCTION case_progress_delete();
DROP FUNCTION case_progress_truncate();
DROP FUNCTION case_progress_of(bigint[]);

-- The summary's one index: unique for the triggers' upserts, covering for
-- the indicators' index-only lookups (it replaces the primary key and the
-- covering index of migration 013, two indexes of the same key).
CREATE UNIQUE INDEX case_progress_case_idx ON case_progress (case_id)
    INCLUDE (filed, dispatched, resolved_at, closed_at, reworks, deferred);
ALTER TABLE case_progress DROP CONSTRAINT case_progress_pkey;
DROP INDEX case_progress_covering_idx;

-- The summaries of the cases a statement wrote (new_cases; after an update
-- only those whose timeline changed, old_cases): a case with steps has one,
-- a case without none. The status sets are those of store/indicators.go.
CREATE FUNCTION case_progress_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- Only the cases whose timeline the statement changed.
        DELETE FROM case_progress p WHERE p.case_id = ANY (ARRAY(
            SELECT n.id FROM new_cases n JOIN old_cases o ON o.id = n.id
            WHERE n.timeline IS DISTINCT FROM o.timeline AND jsonb_array_length(n.timeline) = 0));
        INSERT INTO case_progress (case_id, filed, dispatched, resolved_at, closed_at, reworks, deferred)
        SELECT n.id, s.*
        FROM new_cases n JOIN old_cases o ON o.id = n.id
        CROSS JOIN LATERAL (
            SELECT bool_or(e.status IN ('FILED', 'DISPATCHED', 'IN_PROGRESS', 'RESOLVED', 'VERIFYING', 'CLOSED', 'DEFERRED', 'SUSPENDED', 'REOPENED', 'RETURNED')),
                bool_or(e.status IN ('DISPATCHED', 'IN_PROGRESS', 'RESOLVED', 'VERIFYING', 'CLOSED', 'DEFERRED', 'SUSPENDED', 'REOPENED')),
                max(e.at) FILTER (WHERE e.status = 'RESOLVED'),
                max(e.at) FILTER (WHERE e.status = 'CLOSED'),
                count(*) FILTER (WHERE e.status = 'REOPENED'),
                bool_or(e.status = 'DEFERRED')
            FROM jsonb_to_recordset(n.timeline) AS e(at timestamptz, status text)) s
        WHERE n.timeline IS DISTINCT FROM o.timeline AND jsonb_array_length(n.timeline) > 0
        ON CONFLICT (case_id) DO UPDATE SET filed = EXCLUDED.filed, dispatched = EXCLUDED.dispatched,
            resolved_at = EXCLUDED.resolved_at, closed_at = EXCLUDED.closed_at, reworks = EXCLUDED.reworks,
            deferred = EXCLUDED.deferred;
    ELSE
        INSERT INTO case_progress (case_id, filed, dispatched, resolved_at, closed_at, reworks, deferred)
        SELECT n.id, s.*
        FROM new_cases n
        CROSS JOIN LATERAL (
            SELECT bool_or(e.status IN ('FILED', 'DISPATCHED', 'IN_PROGRESS', 'RESOLVED', 'VERIFYING', 'CLOSED', 'DEFERRED', 'SUSPENDED', 'REOPENED', 'RETURNED')),
                bool_or(e.status IN ('DISPATCHED', 'IN_PROGRESS', 'RESOLVED', 'VERIFYING', 'CLOSED', 'DEFERRED', 'SUSPENDED', 'REOPENED')),
                max(e.at) FILTER (WHERE e.status = 'RESOLVED'),
                max(e.at) FILTER (WHERE e.status = 'CLOSED'),
                count(*) FILTER (WHERE e.status = 'REOPENED'),
                bool_or(e.status = 'DEFERRED')
            FROM jsonb_to_recordset(n.timeline) AS e(at timestamptz, status text)) s
        WHERE jsonb_array_length(n.timeline) > 0
        ON CONFLICT (case_id) DO UPDATE SET filed = EXCLUDED.filed, dispatched = EXCLUDED.dispatched,
            resolved_at = EXCLUDED.resolved_at, closed_at = EXCLUDED.closed_at, reworks = EXCLUDED.reworks,
            deferred = EXCLUDED.deferred;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER case_progress_insert AFTER INSERT ON "case"
    REFERENCING NEW TABLE AS new_cases
    FOR EACH STATEMENT EXECUTE FUNCTION case_progress_written();

CREATE TRIGGER case_progress_update AFTER UPDATE ON "case"
    REFERENCING OLD TABLE AS old_cases NEW TABLE AS new_cases
    FOR EACH STATEMENT EXECUTE FUNCTION case_progress_written();

CREATE FUNCTION case_progress_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM case_progress p WHERE p.case_id = ANY (ARRAY(SELECT id FROM deleted_cases));
    RETURN NULL;
END;
$$;

CREATE TRIGGER case_progress_delete AFTER DELETE ON "case"
    REFERENCING OLD TABLE AS deleted_cases
    FOR EACH STATEMENT EXECUTE FUNCTION case_progress_deleted();

CREATE FUNCTION case_progress_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE case_progress;
    RETURN NULL;
END;
$$;

CREATE TRIGGER case_progress_truncate AFTER TRUNCATE ON "case"
    FOR EACH STATEMENT EXECUTE FUNCTION case_progress_truncated();
