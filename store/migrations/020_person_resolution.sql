-- Person resolution (一人一档). A source record of a person without a valid
-- citizen ID (a 12345 hotline reporter known by name and phone, an ID
-- failing its check digit) is kept: it gets a person of its own, named by
-- the record's key (record_key, "source/ROLE/source_id"), until entity
-- resolution links it to the person of the records it matches. A person
-- merged into another keeps its row with merged_into naming the survivor,
-- so its global ID still resolves; person_history records every merge and
-- split. A person with a valid ID is never merged into another: it is the
-- survivor of its cluster (two valid IDs are never one person).
ALTER TABLE person ALTER COLUMN id_hash DROP NOT NULL,
    ALTER COLUMN id_masked SET DEFAULT '',
    ADD COLUMN record_key text UNIQUE,
    ADD COLUMN merged_into bigint REFERENCES person (id),
    -- Per golden field, the record key its value came from.
    ADD COLUMN provenance jsonb NOT NULL DEFAULT '{}',
    ADD CONSTRAINT person_key CHECK (id_hash IS NOT NULL OR record_key IS NOT NULL);
CREATE INDEX person_merged_idx ON person (merged_into) WHERE merged_into IS NOT NULL;

-- What entity resolution compares, per source record: the keyed ID hash
-- (NULL when none is valid), birth date and gender (from an ID even when
-- its check digit fails), the dwelling as the record states it.
-- matched_by: ID_HASH, PROBABILISTIC (a link above the upper threshold),
-- DECISION (an analyst accepted it), NONE (the person of this record alone).
ALTER TABLE person_link ADD COLUMN id_hash bytea,
    ADD COLUMN gender text CHECK (gender IN ('MALE', 'FEMALE')),
    ADD COLUMN birth_date date,
    ADD COLUMN address text NOT NULL DEFAULT '';
UPDATE person_link l SET id_hash = p.id_hash, gender = p.gender, birth_date = p.birth_date
    FROM person p WHERE p.id = l.person_id;

CREATE TABLE person_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES person (id),
    -- MERGED: person_id was merged into other_id; SPLIT: person_id was
    -- split from other_id (a review rejected a link), taking some of its
    -- records.
    kind        text NOT NULL CHECK (kind IN ('MERGED', 'SPLIT')),
    other_id    bigint NOT NULL REFERENCES person (id),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_history_person_idx ON person_history (person_id);
CREATE INDEX person_history_other_idx ON person_history (other_id);

-- The review queue of the last resolution: pairs of person records whose
-- evidence lies between the thresholds, their persons apart. Replaced
-- by every resolution; decisions are in match_decision (kind PERSON).
CREATE TABLE person_review (
    record_a    text NOT NULL,
    record_b    text NOT NULL,
    person_a    bigint NOT NULL REFERENCES person (id),
    person_b    bigint NOT NULL REFERENCES person (id),
    total       double precision NOT NULL,
    fields      jsonb NOT NULL,
    PRIMARY KEY (record_a, record_b),
    CHECK (record_a < record_b)
);

CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON person_history
    FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_changed();
CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON person_review
    FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_changed();
