-- The places of the records that have no one region of their own: a
-- person (where it lives, is a party member, works as a grid worker or
-- reported a case), a grid worker (its grids) and an incident (its cases).
-- Their changes carried no region, so a jurisdiction saw a person's change
-- only while the person could still be loaded in it (never its deletion),
-- and a region filter never matched them. Each change of those types now
-- carries the region paths of its record (regions), taken when the change
-- is positioned, moments after its transaction committed (so a person's
-- residence written after the person in the same transaction counts). A
-- deleted record has no places left (its links went before it): its
-- deletion carries the places of its latest earlier change, so it reaches
-- the jurisdictions that saw the record and no other.
ALTER TABLE change_pending ADD COLUMN regions ltree[];
ALTER TABLE change_log ADD COLUMN regions ltree[];

-- A deletion looks up the places of its record's latest earlier change.
CREATE INDEX change_log_record_regions_idx ON change_log (type, record_id, position) WHERE regions IS NOT NULL;

-- The region paths of a record of a multi-place change type (NULL for
-- the other types, whose region_path says where the row lies).
CREATE FUNCTION hub_change_regions(typ text, rid bigint) RETURNS ltree[] LANGUAGE sql STABLE AS $$
    SELECT CASE typ
        WHEN 'PERSON' THEN (SELECT coalesce(array_agg(DISTINCT p ORDER BY p), '{}') FROM (
            SELECT g.path AS p FROM resident x JOIN region g ON g.id = x.grid_id WHERE x.person_id = rid
            UNION ALL SELECT g.path FROM party_member x JOIN region g ON g.id = x.region_id WHERE x.person_id = rid
            UNION ALL SELECT g.path FROM grid_worker w JOIN grid_worker_grid wg ON wg.worker_id = w.id
                JOIN region g ON g.id = wg.grid_id WHERE w.person_id = rid
            UNION ALL SELECT c.region_path FROM "case" c WHERE c.reporter_person_id = rid AND c.region_path IS NOT NULL) s)
        WHEN 'GRID_WORKER' THEN (SELECT coalesce(array_agg(DISTINCT g.path ORDER BY g.path), '{}')
            FROM grid_worker_grid wg JOIN region g ON g.id = wg.grid_id WHERE wg.worker_id = rid)
        WHEN 'INCIDENT' THEN (SELECT coalesce(array_agg(DISTINCT c.region_path ORDER BY c.region_path), '{}')
            FROM "case" c WHERE c.incident_id = rid AND c.region_path IS NOT NULL)
    END
$$;

CREATE OR REPLACE FUNCTION hub_sequence_changes() RETURNS bigint LANGUAGE plpgsql AS $$
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
         placed AS (
             SELECT m.*, CASE WHEN m.type IN ('PERSON', 'GRID_WORKER', 'INCIDENT') THEN
                 CASE WHEN m.op = 'DELETE' THEN coalesce(
                         (SELECT l.regions FROM change_log l WHERE l.type = m.type AND l.record_id = m.record_id
                              AND l.regions IS NOT NULL AND cardinality(l.regions) > 0
                          ORDER BY l.position DESC LIMIT 1), '{}')
                      ELSE hub_change_regions(m.type, m.record_id) END
                 ELSE m.regions END AS places
             FROM moved m),
         logged AS (
             INSERT INTO change_log (position, at, type, record_id, op, fields, run_id, region_path, regions)
             SELECT nextval('change_position'), p.at, p.type, p.record_id, p.op, p.fields, p.run_id, p.region_path, p.places
             FROM (SELECT * FROM placed ORDER BY id) p
             RETURNING position)
    SELECT max(position) INTO top FROM logged;
    RETURN coalesce(top, 0);
END;
$$;
