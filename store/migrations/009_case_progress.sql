-- What the evaluation indicators need of a case's timeline, one row per case
-- with a timeline: whether it reached 立案 and 派遣 (or a later step), its
-- latest 处置反馈 (RESOLVED) and closing steps, how often it came back after
-- 核查 (REOPENED) and whether it was granted a 延期 (DEFERRED). Indicators
-- evaluated at an instant after a case's last change read this row instead
-- of aggregating the case's timeline (about eight rows) again and again.
--
-- It is kept by triggers on case_event: the case upsert deletes and inserts
-- the timelines of the cases it writes, so a delete drops their rows and an
-- insert computes them again from the whole timeline. The status sets are
-- those of store/indicators.go.
CREATE TABLE case_progress (
    case_id     bigint PRIMARY KEY,
    filed       boolean NOT NULL,
    dispatched  boolean NOT NULL,
    resolved_at timestamptz,
    closed_at   timestamptz,
    reworks     integer NOT NULL,
    deferred    boolean NOT NULL
);

CREATE FUNCTION case_progress_of(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO case_progress (case_id, filed, dispatched, resolved_at, closed_at, reworks, deferred)
    SELECT e.case_id,
        bool_or(e.status IN ('FILED', 'DISPATCHED', 'IN_PROGRESS', 'RESOLVED', 'VERIFYING', 'CLOSED', 'DEFERRED', 'SUSPENDED', 'REOPENED', 'RETURNED')),
        bool_or(e.status IN ('DISPATCHED', 'IN_PROGRESS', 'RESOLVED', 'VERIFYING', 'CLOSED', 'DEFERRED', 'SUSPENDED', 'REOPENED')),
        max(e.at) FILTER (WHERE e.status = 'RESOLVED'),
        max(e.at) FILTER (WHERE e.status = 'CLOSED'),
        count(*) FILTER (WHERE e.status = 'REOPENED'),
        bool_or(e.status = 'DEFERRED')
    FROM case_event e WHERE e.case_id = ANY (ids)
    GROUP BY e.case_id
    ON CONFLICT (case_id) DO UPDATE SET filed = EXCLUDED.filed, dispatched = EXCLUDED.dispatched,
        resolved_at = EXCLUDED.resolved_at, closed_at = EXCLUDED.closed_at, reworks = EXCLUDED.reworks,
        deferred = EXCLUDED.deferred
$$;

CREATE FUNCTION case_progress_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_progress_of(ARRAY(SELECT DISTINCT case_id FROM inserted_events));
    RETURN NULL;
END;
$$;

CREATE TRIGGER case_progress_insert AFTER INSERT ON case_event
    REFERENCING NEW TABLE AS inserted_events
    FOR EACH STATEMENT EXECUTE FUNCTION case_progress_insert();

CREATE FUNCTION case_progress_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM case_progress p WHERE p.case_id = ANY (ARRAY(SELECT DISTINCT case_id FROM deleted_events));
    RETURN NULL;
END;
$$;

CREATE TRIGGER case_progress_delete AFTER DELETE ON case_event
    REFERENCING OLD TABLE AS deleted_events
    FOR EACH STATEMENT EXECUTE FUNCTION case_progress_delete();

CREATE FUNCTION case_progress_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE case_progress;
    RETURN NULL;
END;
$$;

CREATE TRIGGER case_progress_truncate AFTER TRUNCATE ON case_event
    FOR EACH STATEMENT EXECUTE FUNCTION case_progress_truncate();

CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON case_progress
    FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_changed();

-- The timelines already stored.
INSERT INTO case_progress (case_id, filed, dispatched, resolved_at, closed_at, reworks, deferred)
SELECT e.case_id,
    bool_or(e.status IN ('FILED', 'DISPATCHED', 'IN_PROGRESS', 'RESOLVED', 'VERIFYING', 'CLOSED', 'DEFERRED', 'SUSPENDED', 'REOPENED', 'RETURNED')),
    bool_or(e.status IN ('DISPATCHED', 'IN_PROGRESS', 'RESOLVED', 'VERIFYING', 'CLOSED', 'DEFERRED', 'SUSPENDED', 'REOPENED')),
    max(e.at) FILTER (WHERE e.status = 'RESOLVED'),
    max(e.at) FILTER (WHERE e.status = 'CLOSED'),
    count(*) FILTER (WHERE e.status = 'REOPENED'),
    bool_or(e.status = 'DEFERRED')
FROM case_event e
GROUP BY e.case_id;
