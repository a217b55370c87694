-- A defect in one optional field (a phone, an e-mail, a secondary address,
-- the position of a record that has an address) no longer loses the whole
-- record: the record is stored without the value, and the value is kept as
-- a field-level quarantine entry (record_stored) with its reason. Runs and
-- sources count those entries apart from records, so fetched = stored +
-- quarantined still holds.
ALTER TABLE quarantine
    ADD COLUMN record_stored boolean NOT NULL DEFAULT false;

ALTER TABLE sync_run
    ADD COLUMN field_defects              bigint NOT NULL DEFAULT 0,
    ADD COLUMN records_with_field_defects bigint NOT NULL DEFAULT 0;

ALTER TABLE source
    ADD COLUMN field_defects              bigint NOT NULL DEFAULT 0,
    ADD COLUMN records_with_field_defects bigint NOT NULL DEFAULT 0;
