-- Incremental incident regrouping. The regrouper holds the recent located
-- cases between passes and reads again only the cases written since it
-- last took them: incident_regroup_queue names each case inserted,
-- deleted, or updated in what incident merging compares (place,
-- category, text, report time, key). A pass used to read every located
-- case of the week before its earliest report (13,000 at city scale), and
-- found the new ones by their ids, which a batch committing late draws
-- below the highest id read.
--
-- The queue is append-only, without index: the statement triggers of a
-- bulk load add one heap row per case and nothing else, and the
-- regrouper reads the whole (small) queue, then deletes exactly the
-- entries it read (by seq), so an entry committed after the read stays
-- for the next pass. case_id 0 asks for a regrouping of everything (the
-- table was emptied). An internal work queue, never served: it has no
-- notify_changed trigger. The UPDATE trigger's join of old and new rows is
-- planned per statement (EXECUTE, see migration 046).
CREATE SEQUENCE incident_regroup_seq;
CREATE TABLE incident_regroup_queue (
    case_id bigint NOT NULL,
    seq     bigint NOT NULL DEFAULT nextval('incident_regroup_seq')
);

CREATE FUNCTION incident_regroup_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO incident_regroup_queue (case_id)
        SELECT n.id FROM new_rows n WHERE n.lat IS NOT NULL AND n.lng IS NOT NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        -- Only what incident merging compares: its own writes
        -- (incident_id) and a case's progress do not queue the case.
        EXECUTE $q$INSERT INTO incident_regroup_queue (case_id)
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.lat, n.lng, n.category_code, n.title, n.description, n.reported_at, n.source, n.source_id)
            IS DISTINCT FROM (o.lat, o.lng, o.category_code, o.title, o.description, o.reported_at, o.source, o.source_id)$q$;
    ELSE
        INSERT INTO incident_regroup_queue (case_id)
        SELECT o.id FROM old_rows o WHERE o.lat IS NOT NULL AND o.lng IS NOT NULL;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER regroup_insert AFTER INSERT ON "case" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_regroup_enqueue();
CREATE TRIGGER regroup_update AFTER UPDATE ON "case" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_regroup_enqueue();
CREATE TRIGGER regroup_delete AFTER DELETE ON "case" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_regroup_enqueue();

CREATE FUNCTION incident_regroup_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO incident_regroup_queue (case_id) VALUES (0);
    RETURN NULL;
END
$$;
CREATE TRIGGER regroup_truncate AFTER TRUNCATE ON "case"
    FOR EACH STATEMENT EXECUTE FUNCTION incident_regroup_truncated();
