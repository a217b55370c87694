-- After a sync pass, incident regrouping unlinks the cases reported since
-- the pass's earliest report that no incident holds any more
-- (store/incident.go). case_incident_idx held the linked cases by incident
-- only, so the statement fetched every linked case of the city to test
-- its report time, from pages mostly outside the cache (the medium
-- city's 2,300 linked cases, 8–30 ms of every incremental pass). With the
-- report time in the key the test is made on the index entry; reading an
-- incident's cases (incident_id = ANY) uses the leading column as before.
DROP INDEX case_incident_idx;
CREATE INDEX case_incident_idx ON "case" (incident_id, reported_at) WHERE incident_id IS NOT NULL;
