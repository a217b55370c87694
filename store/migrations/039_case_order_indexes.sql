-- A grid's cases newest first (a grid's page of cases, its dashboards'
-- lists) are read backwards along case_indicator_idx, whose key now ends
-- with the case's id: case_grid_idx held the same order (grid, report
-- time, id) in an index of its own, which every case written paid for.
-- Measured on the medium city: a page of 10 cases for each of 100 grids,
-- 2.2 ms either way.
DROP INDEX case_grid_idx;
DROP INDEX case_indicator_idx;
CREATE INDEX case_indicator_idx ON "case" (grid_id, reported_at, id)
    INCLUDE (status, updated_at, due_at, closed_at, category_code, assignee_dept, region_path,
             progress_filed, progress_dispatched, progress_resolved_at, progress_closed_at, progress_reworks, progress_deferred);

-- Cases by due time are ordered by coalesce(due_at, 'infinity') and id (a
-- case without a due time sorts after every due time: store/case.go), an
-- order case_due_idx, on due_at itself, could not give: a page by due
-- time sorted every case the caller may see (88 ms of the medium city's
-- 100k cases, about a second of the city's 1.1M). The index now holds
-- that order, keyset cursor included; no read bounds due_at alone.
DROP INDEX case_due_idx;
CREATE INDEX case_due_idx ON "case" ((coalesce(due_at, 'infinity'::timestamptz)), id);
