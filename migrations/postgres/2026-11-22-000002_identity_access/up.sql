-- Identity and access: organizations and their facilities, data use agreements and their expiry
-- notices, users and registered systems, the server's signing keys, revoked tokens, replayed
-- client assertions, and the hash-chained audit trail.
-- Times are BIGINT microseconds since the Unix epoch (UTC), as in the FHIR tables. Calendar dates
-- (agreement terms) are TEXT 'YYYY-MM-DD', which compare and sort correctly as text.

CREATE TABLE organization (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- provider, pharmacy, school, child_care, health_plan, public_health
    kind TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    -- the health department that runs the registry: bound by law, not by a data use agreement
    operator BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX organization_name ON organization (name);

CREATE TABLE facility (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organization (id),
    name TEXT NOT NULL,
    -- the state's identifier for the site (e.g. a VFC PIN); unique within the organization
    site_code TEXT,
    address_line TEXT,
    city TEXT,
    state TEXT,
    postal_code TEXT,
    phone TEXT,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX facility_organization_name ON facility (organization_id, name);
CREATE UNIQUE INDEX facility_organization_site_code ON facility (organization_id, site_code);

-- status is pending, active or terminated; "expired" is not stored: an active agreement whose
-- ends_on has passed is expired (derived, so no job has to flip it at midnight).
CREATE TABLE agreement (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organization (id),
    status TEXT NOT NULL,
    signed_on TEXT,
    starts_on TEXT,
    ends_on TEXT,
    -- the authorized representative, administrator, record contact and IT contact (JSON)
    contacts_json TEXT NOT NULL,
    representative_email TEXT NOT NULL,
    renews_agreement_id TEXT REFERENCES agreement (id),
    termination_notice_on TEXT,
    terminated_on TEXT,
    termination_requested_by TEXT,
    termination_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX agreement_organization ON agreement (organization_id, starts_on);
CREATE INDEX agreement_status_ends ON agreement (status, ends_on);

-- The notice outbox: one row per agreement and reminder (90, 60, 30, 7 days before expiry), so
-- each reminder is queued once; a sender marks rows sent.
CREATE TABLE agreement_notice (
    id TEXT PRIMARY KEY NOT NULL,
    agreement_id TEXT NOT NULL REFERENCES agreement (id),
    days_before INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    queued_at BIGINT NOT NULL,
    sent_at BIGINT,
    attempts INTEGER NOT NULL,
    last_error TEXT
);
CREATE UNIQUE INDEX agreement_notice_once ON agreement_notice (agreement_id, days_before);
CREATE INDEX agreement_notice_unsent ON agreement_notice (sent_at, queued_at);

CREATE TABLE app_user (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organization (id),
    facility_id TEXT REFERENCES facility (id),
    username TEXT NOT NULL,
    -- lower-cased username: unique within the organization
    username_norm TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until BIGINT,
    active BOOLEAN NOT NULL,
    -- tokens issued before this instant are refused (deactivation, password change)
    tokens_valid_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX app_user_organization_username ON app_user (organization_id, username_norm);

-- Security questions for self-service reset; answers hashed (argon2id) after case folding.
CREATE TABLE security_answer (
    user_id TEXT NOT NULL REFERENCES app_user (id),
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, position)
);

-- Registered systems (EHRs, portals) authenticating with SMART Backend Services.
CREATE TABLE client (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organization (id),
    facility_id TEXT REFERENCES facility (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    allowed_scopes TEXT NOT NULL,
    jwks_json TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    tokens_valid_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- jti of client assertions already used (replay refused) until the assertion expires.
CREATE TABLE client_assertion (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);

-- The server's token signing keys. Retired keys stay published until their tokens expire.
CREATE TABLE signing_key (
    kid TEXT PRIMARY KEY NOT NULL,
    algorithm TEXT NOT NULL,
    private_key_pkcs8 TEXT NOT NULL,
    public_jwk_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);

CREATE TABLE revoked_token (
    jti TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_token_expires ON revoked_token (expires_at);

-- The audit trail. seq is the position in the hash chain (1, 2, 3, ...) and the AuditEvent
-- id; hash covers the event's fields and prev_hash, so a changed or deleted row breaks the
-- chain. Every request writes a row: the table has as few indexes as its searches need.
CREATE TABLE audit_event (
    seq BIGINT PRIMARY KEY NOT NULL,
    recorded_at BIGINT NOT NULL,
    -- user, system or anonymous
    agent_kind TEXT NOT NULL,
    agent_id TEXT,
    organization_id TEXT,
    facility_id TEXT,
    token_id TEXT,
    action TEXT NOT NULL,
    resource_type TEXT,
    resource_ids TEXT NOT NULL,
    patient_ids TEXT NOT NULL,
    query TEXT,
    -- success, denied or failed
    outcome TEXT NOT NULL,
    status INTEGER NOT NULL,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_event_recorded ON audit_event (recorded_at, seq);
CREATE INDEX audit_event_organization ON audit_event (organization_id, recorded_at, seq);
