-- Which building a source record's address names, whichever system wrote
-- it (一栋楼): a party member's home (居住地址), a 红色驿站's address, a
-- case's address. Derived data: the hub resolves the addresses beside the
-- sync engine with its address service, so a record is linked once its
-- address and the buildings it names are known; a row with no building is
-- an address resolved to nothing finer (tried again when the buildings
-- change, if the address names a compound at all). The address resolved is
-- kept so that a changed address is resolved again.
CREATE TABLE building_link (
    record_type  text NOT NULL CHECK (record_type IN ('PARTY_MEMBER', 'SERVICE_STATION', 'CASE')),
    record_id    bigint NOT NULL,
    address      text NOT NULL,
    building_id  bigint REFERENCES building (id) ON DELETE CASCADE,
    compound_id  bigint REFERENCES compound (id) ON DELETE CASCADE,
    confidence   real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    names_compound boolean NOT NULL,
    resolved_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (record_type, record_id)
);
CREATE INDEX building_link_building_idx ON building_link (building_id, record_type, record_id) WHERE building_id IS NOT NULL;

CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON building_link
    FOR EACH STATEMENT EXECUTE FUNCTION hub_notify_changed();
