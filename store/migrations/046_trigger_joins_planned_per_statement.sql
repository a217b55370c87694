-- The person resolve queue's statement triggers (migration 027) plan the
-- join of a statement's old and new rows per statement (EXECUTE), as the
-- change log's triggers do (migration 014) and the incident regroup
-- queue's and the golden records' do (044, 045). A static query in a
-- PL/pgSQL function is planned once per connection and the plan kept: planned for a statement that changed
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
