-- The resolution queues (person_resolve_queue, person_golden_dirty,
-- incident_regroup_queue) name what changed since a resolver that holds
-- its state last read the store. Before the first resolution of a kind
-- no resolver holds any — every first run resolves everything — so the
-- queue need not name anything: a first load wrote a queue entry for each
-- of its million person records and cases (a third of the cost of a
-- person_link insert), which the first resolution then read and deleted.
-- A kind's epoch (migration 047) is 0 until its first resolution begins
-- (Store.BeginResolution): it moves the epoch to 1 under an exclusive
-- advisory lock of the kind, and each trigger that leaves a change
-- unqueued does so under the same lock shared, for the rest of its
-- transaction. Beginning thus waits for every transaction that left a
-- change unqueued to commit, so the resolution's reads see those changes;
-- a writer blocked meanwhile reads the new epoch and queues its change.
-- Once a kind's epoch has left 0 the triggers queue as before.

-- resolution_unqueued tells a queue's trigger to leave its change out:
-- kind has never been resolved (and the shared lock is now held). A
-- transaction of a stricter isolation than READ COMMITTED would keep
-- reading the epoch of its snapshot after the lock: it always queues.
CREATE FUNCTION resolution_unqueued(kind text, lock_key bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT epoch FROM resolution_epoch r WHERE r.kind = resolution_unqueued.kind) > 0
        OR current_setting('transaction_isolation') <> 'read committed' THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(lock_key);
    RETURN (SELECT epoch FROM resolution_epoch r WHERE r.kind = resolution_unqueued.kind) = 0;
END
$$;

CREATE OR REPLACE FUNCTION person_resolve_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF resolution_unqueued('PERSON', 74210022) THEN
        RETURN NULL;
    END IF;
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
    IF resolution_unqueued('PERSON', 74210022) THEN
        RETURN NULL;
    END IF;
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

CREATE OR REPLACE FUNCTION person_golden_dirtied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('hub.golden_writer', true) IS DISTINCT FROM 'on' AND NOT resolution_unqueued('PERSON', 74210022) THEN
        EXECUTE $q$INSERT INTO person_golden_dirty (person_id)
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.name, n.gender, n.birth_date, n.phone_hash) IS DISTINCT FROM (o.name, o.gender, o.birth_date, o.phone_hash)$q$;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION incident_regroup_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF resolution_unqueued('INCIDENT', 74210023) THEN
        RETURN NULL;
    END IF;
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
