-- A source that rejected the hub's cursor (restored from a backup,
-- renumbered, reset) is re-pulled completely and reconciled. The reset is
-- recorded on the source: when it was detected and why, and whether the
-- complete re-pull is still owed — it stays owed until a re-pull has read
-- every stream to its end, so an interrupted one starts again from the
-- beginning rather than resuming at a cursor of its own.
ALTER TABLE source
    ADD COLUMN resync_pending    boolean NOT NULL DEFAULT false,
    ADD COLUMN reset_detected_at timestamptz,
    ADD COLUMN reset_reason      text;
