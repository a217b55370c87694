-- A sync run's changes name it through a setting of the batch's
-- transaction (hub.sync_run, set by Writer.ForRun before the batch's
-- writes), which change_pending takes as the default of run_id. The
-- trigger on sync_run it replaces set run_id after the fact: every pending
-- change of a batch was written twice, 26 ms per batch of the medium
-- city's first load (1.6 s of its 20 s).
ALTER TABLE change_pending ALTER COLUMN run_id SET DEFAULT nullif(current_setting('hub.sync_run', true), '')::bigint;
DROP TRIGGER log_run ON sync_run;
DROP FUNCTION hub_change_run();
