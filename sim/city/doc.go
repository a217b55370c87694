// Package city generates the deterministic synthetic city behind the demo
// source systems: 襄阳市 (420600) with its districts (GB/T 2260 codes),
// streets, communities and 15-digit grids tiling the map, compounds,
// buildings, households and residents with valid citizen IDs, the party
// organisation and its members, stations and volunteer activities, grid
// workers, governance events and city-management cases with their
// workflows and working-hour deadlines, cross-silo incidents, and injected
// defects. It also renders each record the way its source system
// publishes it (views.go), applies live changes (live.go), and writes the
// reference region layer (GeoJSON) and the ground truth (JSON).
//
// # Determinism
//
// Generation uses math/rand/v2 PCG streams seeded from Config.Seed, one per
// phase; it never reads the wall clock (history ends at Config.Reference)
// and never iterates a map for output. The same Config gives byte-identical
// layer, ground truth and source records. Live changes are deterministic
// too, given the same sequence of Tick instants.
//
// # Geography
//
// Rectangles near 32.0°N 112.1°E (WGS-84): the city rectangle is split into
// district rectangles, those into streets, communities and grids — columns
// of stacked cells whose break coordinates are rounded to 1e-6° once and
// shared by both neighbours, so siblings tile their parent with no gap and
// no overlap (edges may meet in T-junctions). Buildings and case locations
// lie strictly inside their grid. The governance and party systems publish
// BD-09, city management GCJ-02 (forward transforms in coord.go).
//
// # Defects
//
// A share Config.DirtyRate of the source records carries one defect each.
// A correct hub REPAIRS: id_15 (legacy 15-digit ID), id_lower_x,
// phone_format (+86 138-0000-0000, 0086…, spaces), full_width digits,
// chinese_numeral (三栋二单元), coord_swapped, time_no_zone, time_epoch_ms,
// html (markup in free text), duplicate (the same record delivered twice;
// for t_dy a second row with another dyid), name_space (张 伟). It
// QUARANTINES: id_checksum, coord_outside_china (longitude sign lost),
// unknown_code, missing_field, gbk_bytes (GBK bytes in a UTF-8 field;
// governance API only — PostgreSQL rejects invalid UTF-8 and XML cannot
// carry it) and oversized_text (> 4000 characters, decided: quarantine).
//
// A point in the wrong datum that stays inside China (WGS-84 where BD-09
// is expected) cannot be detected by the hub, so datum defects are
// injected only in detectable forms: swapped lat/lng and points outside
// China.
//
// # Ground truth
//
// WriteTruth writes one JSON object, one array element per line:
//
//	{
//	  "format": "ywtg-sim-truth/1", "seed": 1, "scale": "small", "dirtyRate": 0.02,
//	  "reference": "2026-11-01T00:00:00+08:00",
//	  "counts": [ {"system":"gov","entity":"residents","records":5001,"deleted":0,"duplicates":9,"quarantine":40}, … ],
//	  "persons": [ {"key":"P0000001","idCard":"420625199511070473","name":"刘可",
//	                "records":[{"system":"gov","entity":"residents","id":"1","role":"resident"},
//	                           {"system":"party","entity":"t_dy","id":"40ff…","role":"member"}, …]}, … ],
//	  "incidents": [ {"key":"I000001","records":[{"system":"gov","entity":"events","id":"17"},
//	                                             {"system":"city","entity":"requests","id":"202505090000021"}]}, … ],
//	  "defects": [ {"system":"gov","entity":"residents","id":"123","field":"idCard","kind":"id_15","action":"REPAIR"},
//	               {"system":"party","entity":"t_dy","id":"<dup dyid>","field":"","kind":"duplicate","action":"REPAIR","duplicateOf":"<dyid>"}, … ]
//	}
//
// Systems and entities: gov (grids, gridWorkers, houses, residents,
// events), city (requests — Open311 service_request_id, also the CSV
// 案件编号), party (t_dzz, t_dy, t_sbd, t_hyzz, t_fwhd — primary keys).
// ids are strings as the source publishes them (the governance API's
// numeric id in decimal). persons lists every resident with the true
// 18-digit citizen ID and every record naming them (roles resident,
// gridWorker, reporter, member). records counts distinct records (deleted
// ones included); duplicates counts extra deliveries; quarantine counts
// records a correct hub quarantines. The file describes the city as
// generated; live changes after that are visible through City.Counts and
// the records themselves.
package city
