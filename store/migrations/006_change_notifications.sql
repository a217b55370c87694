-- Every committed write to the hub's data notifies channel hub_changed, so
-- that caches of what the data answers (the API's response cache) can be
-- dropped on every replica the moment it changes, whoever wrote it: the
-- sync engine, a region import, or an operator in psql. A notification is
-- delivered at commit only, and PostgreSQL folds the identical
-- notifications of one transaction into one. api_key (its last_used_at
-- moves on every authenticated request) and audit_log are not data the
-- cached answers show, and stay silent.
CREATE FUNCTION hub_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hub_changed', '');
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
             WHERE schemaname = current_schema()
               AND tablename NOT IN ('api_key', 'audit_log', 'schema_version')
             ORDER BY tablename
    LOOP
        EXECUTE format('CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_changed()', t);
    END LOOP;
END;
$$;
