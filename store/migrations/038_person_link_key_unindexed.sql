-- A person record's key ("source/ROLE/source_id") is no longer indexed as
-- an expression: the reads that take a record by its key state it on the
-- columns of person_link's unique key (source, role, source_id), which is
-- one probe of that index (store/people.go, linkOfKey). The expression
-- index cost every link written its own entry, and every link moved by
-- resolution (person_id is indexed, so the move is never heap-only) a
-- new one: writing the medium city's 118k links took 0.4-1.2 s longer
-- with it.
DROP INDEX person_link_key_idx;
