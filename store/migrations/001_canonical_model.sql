-- The canonical model (DESIGN §4). Every source-derived table carries the
-- provenance columns (source, source_id, source_updated_at, fetched_at,
-- payload_hash) and is unique on (source, source_id).

CREATE EXTENSION IF NOT EXISTS ltree;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Source systems and their synchronisation state ---------------------------

CREATE TABLE source (
    name                text PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('SQL', 'REST', 'OPEN311', 'FILE')),
    description         text NOT NULL DEFAULT '',
    status              text NOT NULL DEFAULT 'NEVER_SYNCED'
                        CHECK (status IN ('NEVER_SYNCED', 'SYNCING', 'OK', 'DEGRADED', 'DOWN')),
    last_synced_at      timestamptz,
    last_attempt_at     timestamptz,
    last_error          text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    records_fetched     bigint NOT NULL DEFAULT 0,
    records_stored      bigint NOT NULL DEFAULT 0,
    records_quarantined bigint NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- One opaque cursor per source stream (e.g. governance residents, events).
CREATE TABLE sync_cursor (
    source     text NOT NULL REFERENCES source (name) ON DELETE CASCADE,
    stream     text NOT NULL,
    cursor     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, stream)
);

CREATE TABLE sync_run (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text NOT NULL REFERENCES source (name) ON DELETE CASCADE,
    full_pull   boolean NOT NULL DEFAULT false,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'OK', 'FAILED', 'ABORTED')),
    fetched     bigint NOT NULL DEFAULT 0,
    stored      bigint NOT NULL DEFAULT 0,
    quarantined bigint NOT NULL DEFAULT 0,
    unchanged   bigint NOT NULL DEFAULT 0,
    deleted     bigint NOT NULL DEFAULT 0,
    error       text,
    CHECK (finished_at IS NULL OR fetched = stored + quarantined)
);
CREATE INDEX sync_run_source_idx ON sync_run (source, id DESC);

-- A source record the hub could not accept, kept whole with its reason.
CREATE TABLE quarantine (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text NOT NULL REFERENCES source (name) ON DELETE CASCADE,
    stream       text NOT NULL,
    source_id    text NOT NULL DEFAULT '',
    reason       text NOT NULL,
    field        text NOT NULL DEFAULT '',
    message      text NOT NULL DEFAULT '',
    raw          bytea NOT NULL,
    payload_hash bytea NOT NULL,
    run_id       bigint REFERENCES sync_run (id) ON DELETE SET NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    UNIQUE (source, stream, source_id, payload_hash)
);
CREATE INDEX quarantine_source_idx ON quarantine (source, reason, id);

-- Reference layer: regions and grids (多网合一) --------------------------------

CREATE TABLE region (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code         text NOT NULL UNIQUE,
    name         text NOT NULL,
    level        text NOT NULL CHECK (level IN ('CITY', 'DISTRICT', 'STREET', 'COMMUNITY', 'GRID')),
    parent_id    bigint REFERENCES region (id),
    -- Materialised path of ids from the root ("1.7.42"), for subtree queries.
    path         ltree NOT NULL,
    -- WGS-84 GeoJSON geometry (Polygon or MultiPolygon), [lng, lat].
    boundary     jsonb,
    centroid_lat double precision,
    centroid_lng double precision,
    min_lat      double precision,
    min_lng      double precision,
    max_lat      double precision,
    max_lng      double precision,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX region_parent_idx ON region (parent_id, code);
CREATE INDEX region_level_idx ON region (level, code);
CREATE INDEX region_path_idx ON region USING gist (path);

-- Unified category taxonomy and each source's codes mapped onto it.
CREATE TABLE category (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    parent_code text REFERENCES category (code),
    kind        text NOT NULL,
    level       integer NOT NULL
);

CREATE TABLE category_mapping (
    system        text NOT NULL,
    source_code   text NOT NULL,
    source_name   text NOT NULL DEFAULT '',
    category_code text NOT NULL REFERENCES category (code),
    PRIMARY KEY (system, source_code)
);

-- Places: compounds, buildings, households, standardised addresses ---------

CREATE TABLE compound (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL,
    community_id      bigint REFERENCES region (id),
    grid_id           bigint REFERENCES region (id),
    source            text NOT NULL REFERENCES source (name),
    source_id         text NOT NULL,
    source_updated_at timestamptz,
    fetched_at        timestamptz NOT NULL DEFAULT now(),
    payload_hash      bytea NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX compound_name_idx ON compound (name);

CREATE TABLE building (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    compound_id       bigint REFERENCES compound (id) ON DELETE SET NULL,
    number            text NOT NULL,
    grid_id           bigint REFERENCES region (id),
    lat               double precision,
    lng               double precision,
    source            text NOT NULL REFERENCES source (name),
    source_id         text NOT NULL,
    source_updated_at timestamptz,
    fetched_at        timestamptz NOT NULL DEFAULT now(),
    payload_hash      bytea NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX building_grid_idx ON building (grid_id);
CREATE INDEX building_compound_idx ON building (compound_id, number);

CREATE TABLE address (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Canonical single-line form; one row per distinct standardised address.
    normalized   text NOT NULL UNIQUE,
    district_id  bigint REFERENCES region (id),
    street_id    bigint REFERENCES region (id),
    community_id bigint REFERENCES region (id),
    grid_id      bigint REFERENCES region (id),
    road         text NOT NULL DEFAULT '',
    road_no      text NOT NULL DEFAULT '',
    compound_id  bigint REFERENCES compound (id),
    building_id  bigint REFERENCES building (id),
    unit         text NOT NULL DEFAULT '',
    floor        text NOT NULL DEFAULT '',
    room         text NOT NULL DEFAULT '',
    lat          double precision,
    lng          double precision,
    confidence   real NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX address_grid_idx ON address (grid_id);

CREATE TABLE household (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    building_id       bigint REFERENCES building (id) ON DELETE SET NULL,
    address_id        bigint REFERENCES address (id),
    grid_id           bigint REFERENCES region (id),
    compound_name     text NOT NULL DEFAULT '',
    building_no       text NOT NULL DEFAULT '',
    unit              text NOT NULL DEFAULT '',
    room              text NOT NULL DEFAULT '',
    address_raw       text NOT NULL DEFAULT '',
    lat               double precision,
    lng               double precision,
    source            text NOT NULL REFERENCES source (name),
    source_id         text NOT NULL,
    source_updated_at timestamptz,
    fetched_at        timestamptz NOT NULL DEFAULT now(),
    payload_hash      bytea NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX household_grid_idx ON household (grid_id);
CREATE INDEX household_building_idx ON household (building_id);

-- People: one golden record, many per-source records ----------------------

-- Masked display form of a name: the first character, then one * per
-- further character (张三 → 张*, 欧阳娜娜 → 欧***).
CREATE FUNCTION mask_name(name text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN char_length(name) <= 1 THEN name
                ELSE left(name, 1) || repeat('*', char_length(name) - 1) END
$$;

CREATE TABLE person (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- HMAC of the validated 18-digit citizen ID: the matching key.
    id_hash       bytea NOT NULL UNIQUE,
    id_masked     text NOT NULL,
    -- Encrypted raw values, readable only through audited unmasking.
    id_sealed     bytea,
    name          text NOT NULL DEFAULT '',
    name_masked   text NOT NULL DEFAULT '',
    gender        text CHECK (gender IN ('MALE', 'FEMALE')),
    birth_date    date,
    phone_hash    bytea,
    phone_masked  text,
    phone_sealed  bytea,
    household_id  bigint REFERENCES household (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_phone_idx ON person (phone_hash);
CREATE INDEX person_household_idx ON person (household_id);

-- A source system's record of a person (resident, member, worker, reporter),
-- linked to the golden record.
CREATE TABLE person_link (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id         bigint NOT NULL REFERENCES person (id),
    role              text NOT NULL CHECK (role IN ('RESIDENT', 'PARTY_MEMBER', 'GRID_WORKER', 'VOLUNTEER', 'REPORTER')),
    matched_by        text NOT NULL DEFAULT 'ID_HASH',
    name              text NOT NULL DEFAULT '',
    phone_hash        bytea,
    source            text NOT NULL REFERENCES source (name),
    source_id         text NOT NULL,
    source_updated_at timestamptz,
    fetched_at        timestamptz NOT NULL DEFAULT now(),
    payload_hash      bytea NOT NULL,
    UNIQUE (source, role, source_id)
);
CREATE INDEX person_link_person_idx ON person_link (person_id);

CREATE TABLE resident (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id         bigint NOT NULL REFERENCES person (id),
    household_id      bigint REFERENCES household (id) ON DELETE SET NULL,
    grid_id           bigint REFERENCES region (id),
    household_source_id text NOT NULL DEFAULT '',
    residence         text NOT NULL CHECK (residence IN ('REGISTERED', 'FLOATING')),
    relation          text NOT NULL DEFAULT '',
    source            text NOT NULL REFERENCES source (name),
    source_id         text NOT NULL,
    source_updated_at timestamptz,
    fetched_at        timestamptz NOT NULL DEFAULT now(),
    payload_hash      bytea NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX resident_person_idx ON resident (person_id);
CREATE INDEX resident_grid_idx ON resident (grid_id);
CREATE INDEX resident_unresolved_idx ON resident (source, household_source_id) WHERE household_id IS NULL;

-- Party building (党建) ---------------------------------------------------------

CREATE TABLE party_org (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('WORKING_COMMITTEE', 'COMMITTEE', 'GENERAL_BRANCH', 'BRANCH', 'GROUP')),
    parent_id         bigint REFERENCES party_org (id) ON DELETE SET NULL,
    parent_source_id  text,
    community_name    text NOT NULL DEFAULT '',
    region_id         bigint REFERENCES region (id),
    building_id       bigint REFERENCES building (id) ON DELETE SET NULL,
    source            text NOT NULL REFERENCES source (name),
    source_id         text NOT NULL,
    source_updated_at timestamptz,
    fetched_at        timestamptz NOT NULL DEFAULT now(),
    payload_hash      bytea NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX party_org_parent_idx ON party_org (parent_id);
CREATE INDEX party_org_region_idx ON party_org (region_id);
CREATE INDEX party_org_unresolved_idx ON party_org (source, parent_source_id) WHERE parent_id IS NULL AND parent_source_id IS NOT NULL;

CREATE TABLE party_member (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id         bigint NOT NULL REFERENCES person (id),
    org_id            bigint REFERENCES party_org (id) ON DELETE SET NULL,
    org_source_id     text,
    joined_on         date,
    central_household boolean NOT NULL DEFAULT false,
    address_id        bigint REFERENCES address (id),
    address_raw       text NOT NULL DEFAULT '',
    region_id         bigint REFERENCES region (id),
    source            text NOT NULL REFERENCES source (name),
    source_id         text NOT NULL,
    source_updated_at timestamptz,
    fetched_at        timestamptz NOT NULL DEFAULT now(),
    payload_hash      bytea NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX party_member_person_idx ON party_member (person_id);
CREATE INDEX party_member_org_idx ON party_member (org_id);
CREATE INDEX party_member_region_idx ON party_member (region_id);
CREATE INDEX party_member_unresolved_idx ON party_member (source, org_source_id) WHERE org_id IS NULL;

-- 双报到: an in-service member reporting to a community.
CREATE TABLE dual_report (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id         bigint REFERENCES party_member (id) ON DELETE SET NULL,
    member_source_id  text NOT NULL,
    community_id      bigint REFERENCES region (id),
    community_name    text NOT NULL DEFAULT '',
    branch_org_id     bigint REFERENCES party_org (id) ON DELETE SET NULL,
    branch_source_id  text NOT NULL DEFAULT '',
    employer          text NOT NULL DEFAULT '',
    reported_on       date,
    source            text NOT NULL REFERENCES source (name),
    source_id         text NOT NULL,
    source_updated_at timestamptz,
    fetched_at        timestamptz NOT NULL DEFAULT now(),
    payload_hash      bytea NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX dual_report_member_idx ON dual_report (member_id);
CREATE INDEX dual_report_community_idx ON dual_report (community_id);
CREATE INDEX dual_report_unresolved_idx ON dual_report (source, member_source_id) WHERE member_id IS NULL;

CREATE TABLE service_station (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('RED_POST', 'PARTY_SERVICE')),
    address           text NOT NULL DEFAULT '',
    lat               double precision,
    lng               double precision,
    orig_lat          double precision,
    orig_lng          double precision,
    orig_datum        text CHECK (orig_datum IN ('WGS84', 'GCJ02', 'BD09')),
    services          text[] NOT NULL DEFAULT '{}',
    opening_hours     text NOT NULL DEFAULT '',
    region_id         bigint REFERENCES region (id),
    source            text NOT NULL REFERENCES source (name),
    source_id         text NOT NULL,
    source_updated_at timestamptz,
    fetched_at        timestamptz NOT NULL DEFAULT now(),
    payload_hash      bytea NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX service_station_region_idx ON service_station (region_id);
CREATE INDEX service_station_latlng_idx ON service_station (lat, lng);

CREATE TABLE volunteer_activity (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title             text NOT NULL DEFAULT '',
    member_id         bigint REFERENCES party_member (id) ON DELETE SET NULL,
    member_source_id  text NOT NULL,
    station_id        bigint REFERENCES service_station (id) ON DELETE SET NULL,
    station_source_id text,
    held_on           date,
    hours             numeric(6, 2) NOT NULL DEFAULT 0,
    points            integer NOT NULL DEFAULT 0,
    source            text NOT NULL REFERENCES source (name),
    source_id         text NOT NULL,
    source_updated_at timestamptz,
    fetched_at        timestamptz NOT NULL DEFAULT now(),
    payload_hash      bytea NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX volunteer_activity_member_idx ON volunteer_activity (member_id);
CREATE INDEX volunteer_activity_station_idx ON volunteer_activity (station_id);
CREATE INDEX volunteer_activity_unresolved_idx ON volunteer_activity (source, member_source_id) WHERE member_id IS NULL OR station_id IS NULL;

-- Grid management (网格化管理) ---------------------------------------------------

CREATE TABLE grid_worker (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id         bigint NOT NULL REFERENCES person (id),
    role              text NOT NULL CHECK (role IN ('FULL_TIME', 'PART_TIME', 'LEADER')),
    source            text NOT NULL REFERENCES source (name),
    source_id         text NOT NULL,
    source_updated_at timestamptz,
    fetched_at        timestamptz NOT NULL DEFAULT now(),
    payload_hash      bytea NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX grid_worker_person_idx ON grid_worker (person_id);

CREATE TABLE grid_worker_grid (
    worker_id bigint NOT NULL REFERENCES grid_worker (id) ON DELETE CASCADE,
    grid_id   bigint NOT NULL REFERENCES region (id),
    PRIMARY KEY (worker_id, grid_id)
);
CREATE INDEX grid_worker_grid_grid_idx ON grid_worker_grid (grid_id);

-- Cases from every source, grouped into incidents ---------------------------

CREATE TABLE incident (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title             text NOT NULL DEFAULT '',
    category_code     text REFERENCES category (code),
    lat               double precision,
    lng               double precision,
    first_reported_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE "case" (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                 text NOT NULL CHECK (kind IN ('COMPONENT', 'EVENT', 'DISPUTE', 'PUBLIC_SECURITY', 'RISK', 'HOTLINE')),
    category_code        text REFERENCES category (code),
    source_category_code text NOT NULL DEFAULT '',
    source_category_name text NOT NULL DEFAULT '',
    title                text NOT NULL DEFAULT '',
    description          text NOT NULL DEFAULT '',
    status               text NOT NULL CHECK (status IN ('REPORTED', 'ACCEPTED', 'FILED', 'DISPATCHED', 'IN_PROGRESS',
                             'RESOLVED', 'VERIFYING', 'CLOSED', 'REJECTED', 'RETURNED', 'DEFERRED', 'SUSPENDED', 'REOPENED')),
    source_status        text NOT NULL DEFAULT '',
    tier                 text NOT NULL CHECK (tier IN ('GRID', 'COMMUNITY', 'STREET', 'DISTRICT', 'CITY')),
    grid_id              bigint REFERENCES region (id),
    -- Copy of the grid's region path, so subtree filters and per-level
    -- grouping need no join.
    region_path          ltree,
    lat                  double precision,
    lng                  double precision,
    orig_lat             double precision,
    orig_lng             double precision,
    orig_datum           text CHECK (orig_datum IN ('WGS84', 'GCJ02', 'BD09')),
    address              text NOT NULL DEFAULT '',
    address_id           bigint REFERENCES address (id),
    reported_at          timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    due_at               timestamptz,
    closed_at            timestamptz,
    assignee_dept        text NOT NULL DEFAULT '',
    reporter_person_id   bigint REFERENCES person (id),
    incident_id          bigint REFERENCES incident (id) ON DELETE SET NULL,
    source               text NOT NULL REFERENCES source (name),
    source_id            text NOT NULL,
    source_updated_at    timestamptz,
    fetched_at           timestamptz NOT NULL DEFAULT now(),
    payload_hash         bytea NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX case_region_path_idx ON "case" USING gist (region_path);
CREATE INDEX case_grid_idx ON "case" (grid_id, reported_at DESC, id DESC);
CREATE INDEX case_reported_idx ON "case" (reported_at, id);
CREATE INDEX case_updated_idx ON "case" (updated_at, id);
CREATE INDEX case_due_idx ON "case" (due_at, id);
CREATE INDEX case_status_idx ON "case" (status, reported_at);
CREATE INDEX case_category_idx ON "case" (category_code);
CREATE INDEX case_incident_idx ON "case" (incident_id);
CREATE INDEX case_reporter_idx ON "case" (reporter_person_id);
CREATE INDEX case_text_idx ON "case" USING gin ((title || ' ' || description) gin_trgm_ops);

-- The timeline of a case: one row per workflow step.
CREATE TABLE case_event (
    case_id       bigint NOT NULL REFERENCES "case" (id) ON DELETE CASCADE,
    seq           integer NOT NULL,
    at            timestamptz NOT NULL,
    status        text NOT NULL,
    tier          text NOT NULL,
    source_status text NOT NULL DEFAULT '',
    actor         text NOT NULL DEFAULT '',
    note          text NOT NULL DEFAULT '',
    PRIMARY KEY (case_id, seq)
);

-- Accountability -------------------------------------------------------------

-- Append-only, hash-chained log of every unmasked read of personal data.
CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    principal  text NOT NULL,
    action     text NOT NULL,
    purpose    text NOT NULL DEFAULT '',
    request_id text NOT NULL DEFAULT '',
    subjects   text[] NOT NULL DEFAULT '{}',
    fields     text[] NOT NULL DEFAULT '{}',
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL UNIQUE
);
CREATE INDEX audit_log_principal_idx ON audit_log (principal, at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
