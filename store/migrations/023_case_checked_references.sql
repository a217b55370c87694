-- The references of a case to its grid (region), category, reporter
-- (person) and source are checked by the writes, no longer by foreign keys.
-- A foreign key checks every written row on its own (a lookup and a row
-- lock of the referenced row, per row and key): four per written case, a
-- fifth of the time of a bulk load of cases. The case upsert (store/write.go)
-- takes the grid and the reporter by joins, so they exist when written;
-- its category and source are checked once per batch (the staged values
-- that name no row stop the batch with foreign_key_violation, as the keys
-- did). The other side keeps its guarantee here: deleting, renaming or
-- truncating a region, category, person or source that a case still
-- references fails with foreign_key_violation. The references a sync never
-- writes (address, incident) keep their foreign keys.
ALTER TABLE "case" DROP CONSTRAINT case_grid_id_fkey,
    DROP CONSTRAINT case_category_code_fkey,
    DROP CONSTRAINT case_reporter_person_id_fkey,
    DROP CONSTRAINT case_source_fkey;

-- A referenced table's trigger: TG_ARGV[0] is the case column, TG_ARGV[1]
-- the referenced key. After a DELETE or UPDATE, a key among the old rows
-- that is gone from the table yet still named by a case is refused; after a
-- TRUNCATE (CASCADE reaching "case" empties it in the same statement), a
-- case naming any key is.
CREATE FUNCTION hub_case_reference_kept() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('SELECT c.%I::text FROM "case" c WHERE c.%I IS NOT NULL LIMIT 1', TG_ARGV[0], TG_ARGV[0]) INTO k;
    ELSE
        EXECUTE format('SELECT o.%I::text FROM old_rows o
            WHERE NOT EXISTS (SELECT 1 FROM %I.%I t WHERE t.%I = o.%I)
              AND EXISTS (SELECT 1 FROM "case" c WHERE c.%I = o.%I) LIMIT 1',
            TG_ARGV[1], TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[1], TG_ARGV[1], TG_ARGV[0], TG_ARGV[1]) INTO k;
    END IF;
    IF k IS NOT NULL THEN
        RAISE EXCEPTION 'update or delete on table "%" violates the reference of case.% to it', TG_TABLE_NAME, TG_ARGV[0]
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (%s)=(%s) is still referenced from table "case".', TG_ARGV[1], k);
    END IF;
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('region', 'grid_id', 'id'), ('category', 'category_code', 'code'),
                                   ('person', 'reporter_person_id', 'id'), ('source', 'source', 'name')) AS v(tab, col, key)
    LOOP
        EXECUTE format('CREATE TRIGGER case_reference_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_case_reference_kept(%L, %L)', t.tab, t.col, t.key);
        EXECUTE format('CREATE TRIGGER case_reference_truncate AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_case_reference_kept(%L, %L)', t.tab, t.col, t.key);
    END LOOP;
    -- A person's key is an identity column that is never updated; the
    -- small reference tables are upserted, their keys could be.
    FOR t IN SELECT * FROM (VALUES ('region', 'grid_id', 'id'), ('category', 'category_code', 'code'),
                                   ('source', 'source', 'name')) AS v(tab, col, key)
    LOOP
        EXECUTE format('CREATE TRIGGER case_reference_update AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_case_reference_kept(%L, %L)', t.tab, t.col, t.key);
    END LOOP;
END;
$$;

-- The check of a batch of staged cases: the categories and sources they
-- name that no row holds (NULL when all are held).
CREATE FUNCTION hub_refuse_unknown(what text, missing text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(missing) > 0 THEN
        RAISE EXCEPTION 'insert or update on table "case" names % that do not exist', what
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Not present: %s.', array_to_string(missing, ', '));
    END IF;
END;
$$;
