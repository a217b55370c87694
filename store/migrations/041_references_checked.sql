-- The references the sync writes most are checked by its writes, no longer
-- by foreign keys, as "case"'s are since migration 023: a foreign key
-- checked every written row on its own (a lookup and a lock of the row it
-- names), 30% of the time of writing a batch of residents with the keys
-- to their household, grid and source. The writes take a grid, household
-- or building by a join, so it exists; the source a staged batch names is
-- checked once per batch (store/upsert.go: hub_refuse_unknown_in, which
-- refuses with foreign_key_violation as the keys did). The other side
-- keeps its guarantee through statement triggers on the referenced table:
-- a source, grid or category still named cannot be deleted, renamed or
-- truncated away (hub_references_kept); deleting a household or building
-- clears the references to it (hub_references_cleared), as ON DELETE SET
-- NULL did. "case"'s triggers move to the same functions.
ALTER TABLE resident DROP CONSTRAINT resident_source_fkey,
    DROP CONSTRAINT resident_grid_id_fkey,
    DROP CONSTRAINT resident_household_id_fkey;
ALTER TABLE household DROP CONSTRAINT household_source_fkey,
    DROP CONSTRAINT household_grid_id_fkey,
    DROP CONSTRAINT household_building_id_fkey;
ALTER TABLE person_link DROP CONSTRAINT person_link_source_fkey;
ALTER TABLE party_member DROP CONSTRAINT party_member_source_fkey;
ALTER TABLE grid_worker DROP CONSTRAINT grid_worker_source_fkey;

-- A household's residents are counted with it (store/people.go) and
-- cleared when it goes: both by this index, not a scan of every resident.
CREATE INDEX resident_household_idx ON resident (household_id) WHERE household_id IS NOT NULL;

-- TG_ARGV[0] is the referenced key; then pairs of a referencing table and
-- its column. After a DELETE or UPDATE, a key among the old rows that is
-- gone from the table yet still named is refused (read only when a key is
-- gone: an UPDATE that keeps every key answers from its own rows); after a
-- TRUNCATE (a CASCADE reaching a referencing table empties it in the same
-- statement), any key still named is.
CREATE FUNCTION hub_references_kept() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    key text := TG_ARGV[0];
    k text;
    gone boolean;
    i int;
BEGIN
    IF TG_OP <> 'TRUNCATE' THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM %I.%I t WHERE t.%I = o.%I))',
            TG_TABLE_SCHEMA, TG_TABLE_NAME, key, key) INTO gone;
        IF NOT gone THEN
            RETURN NULL;
        END IF;
    END IF;
    FOR i IN 1 .. (TG_NARGS - 1) / 2 LOOP
        IF TG_OP = 'TRUNCATE' THEN
            EXECUTE format('SELECT c.%I::text FROM %I c WHERE c.%I IS NOT NULL LIMIT 1',
                TG_ARGV[2 * i], TG_ARGV[2 * i - 1], TG_ARGV[2 * i]) INTO k;
        ELSE
            EXECUTE format('SELECT o.%I::text FROM old_rows o
                WHERE NOT EXISTS (SELECT 1 FROM %I.%I t WHERE t.%I = o.%I)
                  AND EXISTS (SELECT 1 FROM %I c WHERE c.%I = o.%I) LIMIT 1',
                key, TG_TABLE_SCHEMA, TG_TABLE_NAME, key, key, TG_ARGV[2 * i - 1], TG_ARGV[2 * i], key) INTO k;
        END IF;
        IF k IS NOT NULL THEN
            RAISE EXCEPTION 'update or delete on table "%" violates the reference of %.% to it', TG_TABLE_NAME, TG_ARGV[2 * i - 1], TG_ARGV[2 * i]
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Key (%s)=(%s) is still referenced from table "%s".', key, k, TG_ARGV[2 * i - 1]);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

-- As hub_references_kept, for references cleared when their key goes.
CREATE FUNCTION hub_references_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    i int;
BEGIN
    FOR i IN 1 .. (TG_NARGS - 1) / 2 LOOP
        IF TG_OP = 'TRUNCATE' THEN
            EXECUTE format('UPDATE %I SET %I = NULL WHERE %I IS NOT NULL', TG_ARGV[2 * i - 1], TG_ARGV[2 * i], TG_ARGV[2 * i]);
        ELSE
            EXECUTE format('UPDATE %I c SET %I = NULL FROM old_rows o WHERE c.%I = o.%I',
                TG_ARGV[2 * i - 1], TG_ARGV[2 * i], TG_ARGV[2 * i], TG_ARGV[0]);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

DROP TRIGGER case_reference_delete ON region;
DROP TRIGGER case_reference_truncate ON region;
DROP TRIGGER case_reference_update ON region;
DROP TRIGGER case_reference_delete ON category;
DROP TRIGGER case_reference_truncate ON category;
DROP TRIGGER case_reference_update ON category;
DROP TRIGGER case_reference_delete ON source;
DROP TRIGGER case_reference_truncate ON source;
DROP TRIGGER case_reference_update ON source;
DROP FUNCTION hub_case_reference_kept();

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
            ('region', $a$'id', 'case', 'grid_id', 'resident', 'grid_id', 'household', 'grid_id'$a$),
            ('category', $a$'code', 'case', 'category_code'$a$),
            ('source', $a$'name', 'case', 'source', 'resident', 'source', 'household', 'source', 'person_link', 'source',
                'party_member', 'source', 'grid_worker', 'source'$a$)) AS v(tab, args)
    LOOP
        EXECUTE format('CREATE TRIGGER references_kept_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_references_kept(%s)', t.tab, t.args);
        EXECUTE format('CREATE TRIGGER references_kept_update AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_references_kept(%s)', t.tab, t.args);
        EXECUTE format('CREATE TRIGGER references_kept_truncate AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_references_kept(%s)', t.tab, t.args);
    END LOOP;
    FOR t IN SELECT * FROM (VALUES ('household', $a$'id', 'resident', 'household_id'$a$),
                                   ('building', $a$'id', 'household', 'building_id'$a$)) AS v(tab, args)
    LOOP
        EXECUTE format('CREATE TRIGGER references_cleared_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_references_cleared(%s)', t.tab, t.args);
        EXECUTE format('CREATE TRIGGER references_cleared_truncate AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_references_cleared(%s)', t.tab, t.args);
    END LOOP;
END;
$$;

-- The check of a staged batch: the keys it names (what: "sources",
-- "categories") that no row holds, for a write into table tab.
CREATE FUNCTION hub_refuse_unknown_in(tab text, what text, missing text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(missing) > 0 THEN
        RAISE EXCEPTION 'insert or update on table "%" names % that do not exist', tab, what
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Not present: %s.', array_to_string(missing, ', '));
    END IF;
END;
$$;
DROP FUNCTION hub_refuse_unknown(text, text[]);
