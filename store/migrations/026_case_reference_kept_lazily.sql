-- The check that a referenced key a case still names is not deleted or
-- renamed (migration 023) reads "case" only when a statement removed a
-- key: an UPDATE that keeps every key (a region renamed, a category's
-- label changed, a source's status) answers from its own rows. Reading
-- "case" in every such statement cost a scan of the transition table
-- against the cases, and its plan took a lock on "case", so renaming a
-- region waited behind whatever held "case" exclusively.
CREATE OR REPLACE FUNCTION hub_case_reference_kept() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
    gone boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('SELECT c.%I::text FROM "case" c WHERE c.%I IS NOT NULL LIMIT 1', TG_ARGV[0], TG_ARGV[0]) INTO k;
    ELSE
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM %I.%I t WHERE t.%I = o.%I))',
            TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[1], TG_ARGV[1]) INTO gone;
        IF NOT gone THEN
            RETURN NULL;
        END IF;
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
