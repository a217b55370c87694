-- The evaluation indicators of a region and period read a case's grid, report
-- time, status, times, category, department and region path (store/
-- indicators.go). Covered by one index, a street's year of cases is an
-- index-only range scan per grid instead of a heap fetch per case, scattered
-- over the table (the cases of one street and month lie on as many pages as
-- there are cases).
CREATE INDEX case_indicator_idx ON "case" (grid_id, reported_at)
    INCLUDE (id, status, updated_at, due_at, closed_at, category_code, assignee_dept, region_path);
