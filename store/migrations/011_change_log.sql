-- The durable change log partners follow (Query.changes, subscriptions).
--
-- Every write to a canonical table appends, in the same transaction and by
-- statement triggers over the statement's transition tables, one pending
-- change per row: its type, row id, operation, the columns that changed and
-- the region path the row lay in. A pending change has no position yet:
-- positions are handed out by hub_sequence_changes(), which moves the
-- committed pending changes into change_log under a transaction-level
-- advisory lock. A sequence value taken by a writer would be visible in
-- the order writers commit, not the order they took it (a reader could pass
-- position 11 while 10 was still in flight and never see 10); positions
-- given by one serialised mover to rows that are already committed become
-- visible strictly in order, on every replica. The sync engine's runs are
-- tied to their changes when the run's counters are written in the same
-- transaction (a trigger on sync_run).
CREATE SEQUENCE change_position;

CREATE TABLE change_pending (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at          timestamptz NOT NULL DEFAULT now(),
    type        text NOT NULL,
    record_id   bigint NOT NULL,
    op          text NOT NULL CHECK (op IN ('CREATE', 'UPDATE', 'DELETE')),
    fields      text[] NOT NULL DEFAULT '{}',
    run_id      bigint,
    region_path ltree
);
CREATE INDEX change_pending_xid_idx ON change_pending (xid);

CREATE TABLE change_log (
    position     bigint PRIMARY KEY,
    committed_at timestamptz NOT NULL DEFAULT now(),
    at           timestamptz NOT NULL,
    type         text NOT NULL,
    record_id    bigint NOT NULL,
    op           text NOT NULL CHECK (op IN ('CREATE', 'UPDATE', 'DELETE')),
    fields       text[] NOT NULL DEFAULT '{}',
    run_id       bigint,
    region_path  ltree
);
CREATE INDEX change_log_committed_idx ON change_log (committed_at);

-- The highest position pruned by retention: a cursor below it has missed
-- changes and must start again from a snapshot.
CREATE TABLE change_horizon (
    one            boolean PRIMARY KEY DEFAULT true CHECK (one),
    pruned_through bigint NOT NULL DEFAULT 0
);
INSERT INTO change_horizon DEFAULT VALUES;

-- The region path of a row, from its region_path, region_id or grid_id.
CREATE FUNCTION hub_change_region(r jsonb) RETURNS ltree LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN r ? 'region_path' THEN (r->>'region_path')::ltree
                ELSE (SELECT path FROM region WHERE id = coalesce((r->>'region_id')::bigint, (r->>'grid_id')::bigint)) END
$$;

-- Appends the pending changes of one statement (TG_ARGV[0]: the change type).
CREATE FUNCTION hub_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO change_pending (type, record_id, op, region_path)
        SELECT TG_ARGV[0], n.id, 'CREATE', hub_change_region(to_jsonb(n)) FROM new_rows n ORDER BY n.id;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO change_pending (type, record_id, op, fields, region_path)
        SELECT TG_ARGV[0], d.id, 'UPDATE', d.fields, hub_change_region(d.jn)
        FROM (SELECT n.id, j.jn,
                     ARRAY(SELECT k FROM jsonb_object_keys(j.jn) k
                           WHERE k NOT IN ('fetched_at', 'payload_hash', 'source_updated_at')
                             AND j.jn->k IS DISTINCT FROM j.jo->k ORDER BY k) AS fields
              FROM new_rows n JOIN old_rows o ON o.id = n.id
              CROSS JOIN LATERAL (SELECT to_jsonb(n) AS jn, to_jsonb(o) AS jo) j) d
        WHERE cardinality(d.fields) > 0
        ORDER BY d.id;
    ELSE
        INSERT INTO change_pending (type, record_id, op, region_path)
        SELECT TG_ARGV[0], o.id, 'DELETE', hub_change_region(to_jsonb(o)) FROM old_rows o ORDER BY o.id;
    END IF;
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('case', 'CASE'), ('person', 'PERSON'), ('household', 'HOUSEHOLD'),
                                   ('party_org', 'PARTY_ORG'), ('party_member', 'PARTY_MEMBER'),
                                   ('service_station', 'SERVICE_STATION'), ('grid_worker', 'GRID_WORKER'),
                                   ('incident', 'INCIDENT'), ('quarantine', 'QUARANTINE_ENTRY')) AS v(tab, typ)
    LOOP
        EXECUTE format('CREATE TRIGGER log_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_log_change(%L)', t.tab, t.typ);
        EXECUTE format('CREATE TRIGGER log_update AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_log_change(%L)', t.tab, t.typ);
        EXECUTE format('CREATE TRIGGER log_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_log_change(%L)', t.tab, t.typ);
    END LOOP;
END;
$$;

-- A sync run's counters are written in the transaction of its batch: the
-- batch's changes are the run's.
CREATE FUNCTION hub_change_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_pending p SET run_id = n.id
    FROM (SELECT max(id) AS id FROM new_rows) n
    WHERE p.xid = pg_current_xact_id() AND p.run_id IS NULL AND n.id IS NOT NULL;
    RETURN NULL;
END;
$$;
CREATE TRIGGER log_run AFTER UPDATE ON sync_run REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub_change_run();

-- Moves the committed pending changes into the log with their positions.
-- Callers are serialised by the advisory lock, so a later call's positions
-- become visible after an earlier call's. Returns the highest position
-- given (0 when there was nothing to move).
CREATE FUNCTION hub_sequence_changes() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    top bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM change_pending) THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(74210011);
    IF NOT EXISTS (SELECT 1 FROM change_pending) THEN
        RETURN 0;
    END IF;
    WITH moved AS (DELETE FROM change_pending RETURNING *),
         logged AS (
             INSERT INTO change_log (position, at, type, record_id, op, fields, run_id, region_path)
             SELECT nextval('change_position'), m.at, m.type, m.record_id, m.op, m.fields, m.run_id, m.region_path
             FROM (SELECT * FROM moved ORDER BY id) m
             RETURNING position)
    SELECT max(position) INTO top FROM logged;
    RETURN coalesce(top, 0);
END;
$$;

-- Writes to the log are data changes like any other: they end cached
-- answers (Query.changes) and wake the followers of the log.
CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON change_pending
    FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_changed();
CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON change_log
    FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_changed();
CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON change_horizon
    FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_changed();
