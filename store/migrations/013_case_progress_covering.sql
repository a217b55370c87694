-- The indicators look up the timeline summary of every case of a period
-- (thousands for a street's year): covered by the index, each lookup is an
-- index-only probe instead of an index probe and a heap fetch.
CREATE INDEX case_progress_covering_idx ON case_progress (case_id)
    INCLUDE (filed, dispatched, resolved_at, closed_at, reworks, deferred);
