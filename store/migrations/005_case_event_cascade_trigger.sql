-- A case's timeline rows are written only by the case upsert, for the case
-- ids that very statement returned, inside the transaction that holds those
-- case rows locked: they cannot reference a missing case. The foreign key
-- nevertheless checked every one of them, one index probe and one row lock
-- per timeline step (about eight per case, 8M rows in a city-sized initial
-- load, roughly half the cost of writing them). The cascade it gave is kept
-- by statement-level triggers over the deleted or truncated cases.
ALTER TABLE case_event DROP CONSTRAINT case_event_case_id_fkey;

CREATE FUNCTION case_event_cascade_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM case_event e USING deleted_cases d WHERE e.case_id = d.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER case_event_cascade_delete AFTER DELETE ON "case"
    REFERENCING OLD TABLE AS deleted_cases
    FOR EACH STATEMENT EXECUTE FUNCTION case_event_cascade_delete();

CREATE FUNCTION case_event_cascade_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE case_event;
    RETURN NULL;
END;
$$;

CREATE TRIGGER case_event_cascade_truncate AFTER TRUNCATE ON "case"
    FOR EACH STATEMENT EXECUTE FUNCTION case_event_cascade_truncate();
