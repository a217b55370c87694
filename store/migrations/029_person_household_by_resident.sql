-- A person's household is the household of its most recent resident record
-- (store/people.go), no longer a column of the person. As a column, the
-- sync wrote every resident's person twice (inserted, then updated with its
-- household: a new row version, its indexes and the change log's diff of
-- the whole row), and a household arriving after its residents rewrote
-- their persons again; which household a person with two resident records
-- showed depended on the order of the writes.
ALTER TABLE person DROP COLUMN household_id;
