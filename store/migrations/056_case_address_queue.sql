-- Case addresses are linked to buildings from a queue, and a case whose
-- address names no compound has no link.
--
-- Most case addresses name a road or a crossing, not a compound (none of
-- the simulated city's 1.1M does), and only an address that names a
-- compound can lead to a building (resolve.Building). Every case had a link row all
-- the same, to no building: the marker that its address had been looked
-- at, compared with the case at every full linking (each start, each
-- `hub sync`: a probe per case), and 1.1M rows written by a city's first
-- linking (11.5 s of the server's time). The marker is now the queue:
-- case_address_queue names each case inserted, or updated in its address
-- or grid (the region its address is read in), since the linker last took
-- it; the linker takes it, links those cases again and deletes exactly the
-- entries it read (by seq), so an entry committed after the read stays
-- for the next run. A case committed late with an id below those already
-- linked is queued like any other (a high-water mark of ids, the
-- linker's before, missed it until the next full linking).
--
-- Before the first linking of cases, nothing is queued: it looks at every
-- case. Its kind's epoch (BUILDING_LINK, migration 047) is 0 until that
-- linking begins (Store.BeginResolution, under the advisory lock the
-- trigger takes shared, migration 051), 1 while it runs, and 2 once it
-- has looked at every case (Store.CaseAddressesLinked); a linking that
-- finds 1 (the first was interrupted) looks at every case again.
--
-- The queue is append-only and unindexed, like incident_regroup_queue
-- (migration 044): an internal work queue, never served, without a
-- notify_changed trigger.
ALTER TABLE resolution_epoch DROP CONSTRAINT resolution_epoch_kind_check,
    ADD CONSTRAINT resolution_epoch_kind_check CHECK (kind IN ('PERSON', 'INCIDENT', 'BUILDING_LINK'));
INSERT INTO resolution_epoch (kind) VALUES ('BUILDING_LINK');

CREATE SEQUENCE case_address_seq;
CREATE TABLE case_address_queue (
    case_id bigint NOT NULL,
    seq     bigint NOT NULL DEFAULT nextval('case_address_seq')
);

CREATE FUNCTION case_address_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF resolution_unqueued('BUILDING_LINK', 74210024) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO case_address_queue (case_id)
        SELECT n.id FROM new_rows n WHERE n.address <> '';
    ELSE
        -- Planned per statement (EXECUTE, see migration 046).
        EXECUTE $q$INSERT INTO case_address_queue (case_id)
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.address, n.grid_id) IS DISTINCT FROM (o.address, o.grid_id)$q$;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER address_insert AFTER INSERT ON "case" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION case_address_enqueue();
CREATE TRIGGER address_update AFTER UPDATE ON "case" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION case_address_enqueue();

-- The links that only said an address had been looked at go; the next
-- linking of cases looks at every case once (its epoch is 0).
DELETE FROM building_link WHERE record_type = 'CASE' AND NOT names_compound
    AND building_id IS NULL AND compound_id IS NULL;

-- Links whose record is gone, written before migration 053 made a link
-- go with its record: dropped once here, no longer looked for by every
-- full linking (an anti-join of every link, 1.7 s at city scale).
DELETE FROM building_link l WHERE
    l.record_type = 'PARTY_MEMBER' AND NOT EXISTS (SELECT 1 FROM party_member m WHERE m.id = l.record_id) OR
    l.record_type = 'SERVICE_STATION' AND NOT EXISTS (SELECT 1 FROM service_station s WHERE s.id = l.record_id) OR
    l.record_type = 'CASE' AND NOT EXISTS (SELECT 1 FROM "case" c WHERE c.id = l.record_id);
