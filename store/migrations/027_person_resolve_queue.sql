-- Incremental person resolution. Entity resolution keeps its state between
-- passes and resolves again only what changed: person_resolve_queue names
-- each person record whose compared fields changed (inserted, updated,
-- deleted, or its party member's home linked to another building) since
-- resolution last took it. seq orders the changes: resolution removes a
-- record from the queue only with the seq it read, so a change landing
-- while a pass runs waits for the next. An internal work queue, never
-- served: it has no notify_changed trigger.
CREATE SEQUENCE person_resolve_seq;
CREATE TABLE person_resolve_queue (
    record_key text PRIMARY KEY,
    seq        bigint NOT NULL DEFAULT nextval('person_resolve_seq')
);

CREATE FUNCTION person_resolve_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT n.source || '/' || n.role || '/' || n.source_id FROM new_rows n
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq');
    ELSIF TG_OP = 'UPDATE' THEN
        -- Only what resolution compares: its own writes (person_id,
        -- matched_by) do not queue the record again.
        INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT k FROM new_rows n JOIN old_rows o ON o.id = n.id,
            LATERAL (VALUES (n.source || '/' || n.role || '/' || n.source_id),
                            (o.source || '/' || o.role || '/' || o.source_id)) AS keys(k)
        WHERE (n.name, n.phone_hash, n.id_hash, n.gender, n.birth_date, n.address, n.payload_hash, n.source, n.role, n.source_id)
            IS DISTINCT FROM (o.name, o.phone_hash, o.id_hash, o.gender, o.birth_date, o.address, o.payload_hash, o.source, o.role, o.source_id)
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq');
    ELSE
        INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT o.source || '/' || o.role || '/' || o.source_id FROM old_rows o
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER resolve_insert AFTER INSERT ON person_link REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION person_resolve_enqueue();
CREATE TRIGGER resolve_update AFTER UPDATE ON person_link REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION person_resolve_enqueue();
CREATE TRIGGER resolve_delete AFTER DELETE ON person_link REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION person_resolve_enqueue();

-- Emptying person_link leaves nothing to name: '*' asks for a resolution
-- of everything.
CREATE FUNCTION person_resolve_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO person_resolve_queue (record_key) VALUES ('*')
    ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq');
    RETURN NULL;
END
$$;
CREATE TRIGGER resolve_truncate AFTER TRUNCATE ON person_link
    FOR EACH STATEMENT EXECUTE FUNCTION person_resolve_truncated();

-- A party member's dwelling, as resolution compares it, is the building
-- its home is linked to.
CREATE FUNCTION person_resolve_enqueue_home() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT m.source || '/PARTY_MEMBER/' || m.source_id
        FROM new_rows b JOIN party_member m ON m.id = b.record_id WHERE b.record_type = 'PARTY_MEMBER'
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq');
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT m.source || '/PARTY_MEMBER/' || m.source_id
        FROM new_rows b JOIN old_rows o ON (o.record_type, o.record_id) = (b.record_type, b.record_id)
            JOIN party_member m ON m.id = b.record_id
        WHERE b.record_type = 'PARTY_MEMBER' AND b.building_id IS DISTINCT FROM o.building_id
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq');
    ELSE
        INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT m.source || '/PARTY_MEMBER/' || m.source_id
        FROM old_rows b JOIN party_member m ON m.id = b.record_id WHERE b.record_type = 'PARTY_MEMBER'
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER resolve_insert AFTER INSERT ON building_link REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION person_resolve_enqueue_home();
CREATE TRIGGER resolve_update AFTER UPDATE ON building_link REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION person_resolve_enqueue_home();
CREATE TRIGGER resolve_delete AFTER DELETE ON building_link REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION person_resolve_enqueue_home();

-- A split (an analyst rejected a link) gives the part of a person that
-- does not keep its ID a new person: neither a citizen ID's nor a record's
-- own, but split from another (person_history SPLIT).
ALTER TABLE person ADD COLUMN split_from bigint REFERENCES person (id),
    DROP CONSTRAINT person_key,
    ADD CONSTRAINT person_key CHECK (id_hash IS NOT NULL OR record_key IS NOT NULL OR split_from IS NOT NULL);
