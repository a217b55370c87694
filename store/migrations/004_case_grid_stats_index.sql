-- Statistics of grids (a street's drill-down: every grid's cases by status)
-- read only this index: grid and status to group by, and the times the
-- measures need. Without it every case of the street is a heap fetch.
CREATE INDEX case_grid_status_idx ON "case" (grid_id, status) INCLUDE (reported_at, due_at, closed_at);
