-- The evidence of the last person resolution: each link it made between
-- two person records (LINKED above the upper threshold, ACCEPTED by an
-- analyst) and each pair waiting for review (REVIEW: between the
-- thresholds, the persons apart), with the comparison level and weight of
-- every field and the total in bits. Replaced by every resolution;
-- decisions are in match_decision (kind PERSON). Records are named
-- "source/ROLE/source_id", as person_link holds them.
DROP TABLE person_review;
CREATE TABLE person_match (
    record_a    text NOT NULL,
    record_b    text NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('LINKED', 'ACCEPTED', 'REVIEW')),
    total       double precision NOT NULL,
    fields      jsonb NOT NULL,
    PRIMARY KEY (record_a, record_b),
    CHECK (record_a < record_b)
);
CREATE INDEX person_match_b_idx ON person_match (record_b);
CREATE INDEX person_match_review_idx ON person_match (total DESC) WHERE outcome = 'REVIEW';

CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON person_match
    FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_changed();
