-- API keys of principals. Only a SHA-256 of the key is kept; the key itself
-- is shown once, at creation.
CREATE TABLE api_key (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL DEFAULT '',
    key_hash     bytea NOT NULL UNIQUE,
    prefix       text NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin', 'analyst', 'staff', 'partner', 'viewer')),
    region_code  text,
    scopes       text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
