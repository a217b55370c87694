-- A case's reporter is the person its REPORTER link names (person_link,
-- keyed by the case's source and source_id), no longer a column of the
-- case. Person resolution moves links; as a column, every relinked reporter
-- also rewrote its case (a new row version, an entry in each of the case's
-- indexes, the trigram index's dozens among them, and the change triggers):
-- after a first load, 18k of 100k cases were rewritten that way, a third
-- of the time resolution spent writing. The reads take the link by its
-- unique key (store/case.go), and a person a link names cannot be deleted
-- (person_link's foreign key), which is what the column's checks of
-- migration 023 kept.
DROP TRIGGER case_reference_delete ON person;
DROP TRIGGER case_reference_truncate ON person;
ALTER TABLE "case" DROP COLUMN reporter_person_id;

-- A person's places (migration 017) count the cases it reported through
-- their links.
CREATE OR REPLACE FUNCTION hub_change_regions(typ text, rid bigint) RETURNS ltree[] LANGUAGE sql STABLE AS $$
    SELECT CASE typ
        WHEN 'PERSON' THEN (SELECT coalesce(array_agg(DISTINCT p ORDER BY p), '{}') FROM (
            SELECT g.path AS p FROM resident x JOIN region g ON g.id = x.grid_id WHERE x.person_id = rid
            UNION ALL SELECT g.path FROM party_member x JOIN region g ON g.id = x.region_id WHERE x.person_id = rid
            UNION ALL SELECT g.path FROM grid_worker w JOIN grid_worker_grid wg ON wg.worker_id = w.id
                JOIN region g ON g.id = wg.grid_id WHERE w.person_id = rid
            UNION ALL SELECT c.region_path FROM person_link l
                JOIN "case" c ON c.source = l.source AND c.source_id = l.source_id
                WHERE l.person_id = rid AND l.role = 'REPORTER' AND c.region_path IS NOT NULL) s)
        WHEN 'GRID_WORKER' THEN (SELECT coalesce(array_agg(DISTINCT g.path ORDER BY g.path), '{}')
            FROM grid_worker_grid wg JOIN region g ON g.id = wg.grid_id WHERE wg.worker_id = rid)
        WHEN 'INCIDENT' THEN (SELECT coalesce(array_agg(DISTINCT c.region_path ORDER BY c.region_path), '{}')
            FROM "case" c WHERE c.incident_id = rid AND c.region_path IS NOT NULL)
    END
$$;
