-- The statement triggers that join a statement's old and new rows plan
-- that join per statement (EXECUTE), as the change log's triggers do
-- (migration 014). A static query in a PL/pgSQL function is planned once
-- per connection and the plan kept: planned for a statement that changed
-- no row (a resolution updating links that already say the same), the
-- join of the transition tables was a nested loop, and a later statement
-- of the same connection changing 200,000 rows compared every old row
-- with every new one (a full person resolution at city scale ran for
-- minutes in one merge; 40,000 rows took 70 s instead of 0.2 s).

CREATE OR REPLACE FUNCTION person_resolve_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT n.source || '/' || n.role || '/' || n.source_id FROM new_rows n
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq');
    ELSIF TG_OP = 'UPDATE' THEN
        -- Only what resolution compares: its own writes (person_id,
        -- matched_by) do not queue the record again.
        EXECUTE $q$INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT k FROM new_rows n JOIN old_rows o ON o.id = n.id,
            LATERAL (VALUES (n.source || '/' || n.role || '/' || n.source_id),
                            (o.source || '/' || o.role || '/' || o.source_id)) AS keys(k)
        WHERE (n.name, n.phone_hash, n.id_hash, n.gender, n.birth_date, n.address, n.payload_hash, n.source, n.role, n.source_id)
            IS DISTINCT FROM (o.name, o.phone_hash, o.id_hash, o.gender, o.birth_date, o.address, o.payload_hash, o.source, o.role, o.source_id)
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq')$q$;
    ELSE
        INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT o.source || '/' || o.role || '/' || o.source_id FROM old_rows o
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION person_resolve_enqueue_home() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE $q$INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT m.source || '/PARTY_MEMBER/' || m.source_id
        FROM new_rows b JOIN party_member m ON m.id = b.record_id WHERE b.record_type = 'PARTY_MEMBER'
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq')$q$;
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE $q$INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT m.source || '/PARTY_MEMBER/' || m.source_id
        FROM new_rows b JOIN old_rows o ON (o.record_type, o.record_id) = (b.record_type, b.record_id)
            JOIN party_member m ON m.id = b.record_id
        WHERE b.record_type = 'PARTY_MEMBER' AND b.building_id IS DISTINCT FROM o.building_id
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq')$q$;
    ELSE
        EXECUTE $q$INSERT INTO person_resolve_queue (record_key)
        SELECT DISTINCT m.source || '/PARTY_MEMBER/' || m.source_id
        FROM old_rows b JOIN party_member m ON m.id = b.record_id WHERE b.record_type = 'PARTY_MEMBER'
        ON CONFLICT (record_key) DO UPDATE SET seq = nextval('person_resolve_seq')$q$;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION incident_regroup_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION person_golden_dirtied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('hub.golden_writer', true) IS DISTINCT FROM 'on' THEN
        EXECUTE $q$INSERT INTO person_golden_dirty (person_id)
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.name, n.gender, n.birth_date, n.phone_hash) IS DISTINCT FROM (o.name, o.gender, o.birth_date, o.phone_hash)$q$;
    END IF;
    RETURN NULL;
END
$$;
