-- The references to a person — of the records that stand for it (resident,
-- party_member, grid_worker, person_link) and of persons to each other
-- (merged_into, split_from, person_history) — are checked by the writes,
-- no longer by foreign keys. A foreign key checked every written row on its
-- own: an index probe and a lock of the person's row, which writes the
-- person's tuple and the WAL again. Writing the medium city's 60k residents
-- took 2.4 s with their four keys, 1.6 s without the person's; resolution's
-- merges paid three per merged person (merged_into and its history entry's
-- two). The writes take a person by a join on person (store/upsert.go,
-- personOf), and resolution names persons it read or made in its own
-- transaction, so the person exists. The hub never deletes a person; a
-- DELETE or TRUNCATE of person while a row still names one is refused with
-- foreign_key_violation, as the keys did (a TRUNCATE must name the tables
-- that reference person: CASCADE no longer reaches them).
ALTER TABLE resident DROP CONSTRAINT resident_person_id_fkey;
ALTER TABLE party_member DROP CONSTRAINT party_member_person_id_fkey;
ALTER TABLE grid_worker DROP CONSTRAINT grid_worker_person_id_fkey;
ALTER TABLE person_link DROP CONSTRAINT person_link_person_id_fkey;
ALTER TABLE person DROP CONSTRAINT person_merged_into_fkey, DROP CONSTRAINT person_split_from_fkey;
ALTER TABLE person_history DROP CONSTRAINT person_history_person_id_fkey, DROP CONSTRAINT person_history_other_id_fkey;

CREATE FUNCTION hub_person_kept() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ref record;
    k bigint;
BEGIN
    FOR ref IN SELECT * FROM (VALUES ('resident', 'person_id'), ('party_member', 'person_id'),
            ('grid_worker', 'person_id'), ('person_link', 'person_id'), ('person', 'merged_into'),
            ('person', 'split_from'), ('person_history', 'person_id'), ('person_history', 'other_id')) AS v(tab, col)
    LOOP
        IF TG_OP = 'TRUNCATE' THEN
            EXECUTE format('SELECT x.%I FROM %I x WHERE x.%I IS NOT NULL LIMIT 1', ref.col, ref.tab, ref.col) INTO k;
        ELSE
            EXECUTE format('SELECT o.id FROM old_rows o WHERE EXISTS (SELECT 1 FROM %I x WHERE x.%I = o.id) LIMIT 1',
                ref.tab, ref.col) INTO k;
        END IF;
        IF k IS NOT NULL THEN
            RAISE EXCEPTION 'update or delete on table "person" violates the reference of %.% to it', ref.tab, ref.col
                USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (id)=(%s) is still referenced from table "%s".', k, ref.tab);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
CREATE TRIGGER person_reference_delete AFTER DELETE ON person REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hub_person_kept();
CREATE TRIGGER person_reference_truncate AFTER TRUNCATE ON person
    FOR EACH STATEMENT EXECUTE FUNCTION hub_person_kept();
