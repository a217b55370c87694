-- A write to a reference table (region, category) notifies hub_changed with
-- the table's name as payload, every other table with an empty one
-- (migration 006), so that a follower can tell the reference layer's
-- changes from the data's: the API holds the reference tables in memory
-- (store/regiondir.go, graph/categories.go) and reads them again only when
-- they changed, not after every sync batch. PostgreSQL folds identical
-- notifications of one transaction, so a transaction writing both kinds
-- sends one of each.
CREATE FUNCTION hub_notify_reference_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hub_changed', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

DROP TRIGGER notify_changed ON region;
CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON region
    FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_reference_changed();
DROP TRIGGER notify_changed ON category;
CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON category
    FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_reference_changed();
