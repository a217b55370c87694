-- Analysts' decisions on whether two source records are one real-world
-- thing (match review): INCIDENT pairs of case reports, PERSON pairs of
-- person records. Records are named by "source/source_id", never by
-- personal data, so a decision holds across regrouping, re-resolution and
-- re-sync; one decision per pair, the latest.
CREATE TABLE match_decision (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('INCIDENT', 'PERSON')),
    record_a    text NOT NULL,
    record_b    text NOT NULL,
    accept      boolean NOT NULL,
    note        text NOT NULL DEFAULT '',
    decided_by  text NOT NULL,
    decided_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (record_a < record_b),
    UNIQUE (kind, record_a, record_b)
);

CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON match_decision
    FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_changed();
