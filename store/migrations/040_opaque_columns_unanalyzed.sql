-- Columns no statement filters, joins or groups on — payloads, sealed
-- and masked identifiers, timelines, provenance — get no planner
-- statistics: ANALYZE read and sorted their values for nothing. The
-- resolution analyzes the tables a first load filled (store/personres.go,
-- refreshStatistics), so this was paid after every first load and full
-- re-sync: ANALYZE "case" took 0.59-0.70 s of the medium city's 100k
-- cases, 0.44 s without these columns; "person" 0.35 s, 0.20 s without.
ALTER TABLE "case" ALTER COLUMN timeline SET STATISTICS 0,
    ALTER COLUMN description SET STATISTICS 0,
    ALTER COLUMN title SET STATISTICS 0,
    ALTER COLUMN address SET STATISTICS 0,
    ALTER COLUMN orig_lat SET STATISTICS 0,
    ALTER COLUMN orig_lng SET STATISTICS 0,
    ALTER COLUMN source_category_name SET STATISTICS 0,
    ALTER COLUMN payload_hash SET STATISTICS 0;
ALTER TABLE person ALTER COLUMN provenance SET STATISTICS 0,
    ALTER COLUMN id_sealed SET STATISTICS 0,
    ALTER COLUMN phone_sealed SET STATISTICS 0,
    ALTER COLUMN id_masked SET STATISTICS 0,
    ALTER COLUMN name_masked SET STATISTICS 0,
    ALTER COLUMN phone_masked SET STATISTICS 0;
ALTER TABLE person_link ALTER COLUMN payload_hash SET STATISTICS 0,
    ALTER COLUMN address SET STATISTICS 0;
ALTER TABLE resident ALTER COLUMN payload_hash SET STATISTICS 0;
ALTER TABLE household ALTER COLUMN payload_hash SET STATISTICS 0,
    ALTER COLUMN address_raw SET STATISTICS 0;
ALTER TABLE person_match ALTER COLUMN fields SET STATISTICS 0;
