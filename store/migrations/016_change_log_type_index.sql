-- Query.changes(types: …) reads one type's changes in order: by index,
-- not by filtering the whole log after the cursor.
CREATE INDEX change_log_type_idx ON change_log (type, position);
