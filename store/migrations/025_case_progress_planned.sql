-- The statements of case_progress_written (migration 021) are planned at
-- each run: as static statements of the function their plan was kept for
-- the session from its first run, made for the row count of that
-- statement's transition tables. A session that first wrote a few cases and
-- then many (person resolution relinking the reporters of 56,000 cases)
-- joined the old and new rows by a nested loop over a tuplestore spilled to
-- disk: minutes instead of a fraction of a second. Planned at each run, the
-- join is a hash join over the rows the statement wrote. Same results.
CREATE OR REPLACE FUNCTION case_progress_written() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    summary CONSTANT text := '
        SELECT bool_or(e.status IN (''FILED'', ''DISPATCHED'', ''IN_PROGRESS'', ''RESOLVED'', ''VERIFYING'', ''CLOSED'', ''DEFERRED'', ''SUSPENDED'', ''REOPENED'', ''RETURNED'')),
            bool_or(e.status IN (''DISPATCHED'', ''IN_PROGRESS'', ''RESOLVED'', ''VERIFYING'', ''CLOSED'', ''DEFERRED'', ''SUSPENDED'', ''REOPENED'')),
            max(e.at) FILTER (WHERE e.status = ''RESOLVED''),
            max(e.at) FILTER (WHERE e.status = ''CLOSED''),
            count(*) FILTER (WHERE e.status = ''REOPENED''),
            bool_or(e.status = ''DEFERRED'')
        FROM jsonb_to_recordset(n.timeline) AS e(at timestamptz, status text)';
    upsert CONSTANT text := '
        ON CONFLICT (case_id) DO UPDATE SET filed = EXCLUDED.filed, dispatched = EXCLUDED.dispatched,
            resolved_at = EXCLUDED.resolved_at, closed_at = EXCLUDED.closed_at, reworks = EXCLUDED.reworks,
            deferred = EXCLUDED.deferred';
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- Only the cases whose timeline the statement changed.
        EXECUTE 'DELETE FROM case_progress p WHERE p.case_id = ANY (ARRAY(
            SELECT n.id FROM new_cases n JOIN old_cases o ON o.id = n.id
            WHERE n.timeline IS DISTINCT FROM o.timeline AND jsonb_array_length(n.timeline) = 0))';
        EXECUTE 'INSERT INTO case_progress (case_id, filed, dispatched, resolved_at, closed_at, reworks, deferred)
            SELECT n.id, s.* FROM new_cases n JOIN old_cases o ON o.id = n.id
            CROSS JOIN LATERAL (' || summary || ') s
            WHERE n.timeline IS DISTINCT FROM o.timeline AND jsonb_array_length(n.timeline) > 0' || upsert;
    ELSE
        EXECUTE 'INSERT INTO case_progress (case_id, filed, dispatched, resolved_at, closed_at, reworks, deferred)
            SELECT n.id, s.* FROM new_cases n CROSS JOIN LATERAL (' || summary || ') s
            WHERE jsonb_array_length(n.timeline) > 0' || upsert;
    END IF;
    RETURN NULL;
END;
$$;
