-- No query finds a person by phone hash: entity resolution compares
-- phones in memory, and the golden record takes another person's phone by
-- that person's id. The index cost an entry per person written, and one
-- per row version of every update that is not HOT (a resolution's merges
-- and golden records: 442k at city scale).
DROP INDEX person_phone_idx;
