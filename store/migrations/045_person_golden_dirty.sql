-- Incremental person resolution holds the golden record it last wrote of
-- each person and writes again only those that changed. The sync engine
-- also writes a person's fields (the person of a record's valid ID hash,
-- or the record's own person), and may so overwrite a golden record with
-- one record's values: person_golden_dirty names each person whose golden
-- fields (name, gender, birth date, phone) an UPDATE changed that was not
-- resolution's own (which sets hub.golden_writer for its transaction), so
-- that the next resolution writes its golden record again. Append-only,
-- without index, taken by seq, as incident_regroup_queue (migration 044).
-- An internal work queue, never served: it has no notify_changed trigger.
-- The trigger's join of old and new rows is planned per statement
-- (EXECUTE, see migration 046).
CREATE SEQUENCE person_golden_dirty_seq;
CREATE TABLE person_golden_dirty (
    person_id bigint NOT NULL,
    seq       bigint NOT NULL DEFAULT nextval('person_golden_dirty_seq')
);

CREATE FUNCTION person_golden_dirtied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('hub.golden_writer', true) IS DISTINCT FROM 'on' THEN
        EXECUTE $q$INSERT INTO person_golden_dirty (person_id)
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.name, n.gender, n.birth_date, n.phone_hash) IS DISTINCT FROM (o.name, o.gender, o.birth_date, o.phone_hash)$q$;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER golden_dirty AFTER UPDATE ON person REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION person_golden_dirtied();
