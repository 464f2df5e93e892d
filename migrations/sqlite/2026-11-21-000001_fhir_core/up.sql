-- FHIR core: Patient and Immunization, current + history tables, search index tables, code tables.
-- Index tables (small rows) are WITHOUT ROWID; history tables keep a rowid because their rows
-- carry whole resources (SQLite advises rowid tables for rows this large).
-- Times are BIGINT microseconds since the Unix epoch (UTC): identical on both backends, exact to
-- compare and sort. Date-valued search parameters are stored as half-open ranges [start, end) so
-- that partial dates (a year, a month) search correctly. *_sort columns are NOT NULL copies of a
-- sort key (missing values sort first ascending) so keyset paging never meets a NULL.

CREATE TABLE patient (
    id TEXT PRIMARY KEY NOT NULL,
    version_id BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT 0,
    resource_json TEXT NOT NULL,
    owner_organization_id TEXT,
    owner_facility_id TEXT,
    family_sort TEXT NOT NULL,
    birth_start BIGINT,
    birth_end BIGINT,
    birth_sort BIGINT NOT NULL,
    gender TEXT,
    active BOOLEAN NOT NULL
);
CREATE INDEX patient_family_sort ON patient (family_sort, id);
CREATE INDEX patient_birth_sort ON patient (birth_sort, id);
CREATE INDEX patient_last_updated ON patient (last_updated, id);

CREATE TABLE patient_history (
    id TEXT NOT NULL,
    version_id BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    method TEXT NOT NULL,
    resource_json TEXT,
    PRIMARY KEY (id, version_id)
);
CREATE INDEX patient_history_last_updated ON patient_history (last_updated, id, version_id);

-- One row per distinct name part: part is family, given, prefix, suffix or text.
-- value_norm is lower-cased and stripped of accents (string search); value_exact is as sent.
CREATE TABLE patient_name (
    patient_id TEXT NOT NULL REFERENCES patient (id),
    part TEXT NOT NULL,
    value_exact TEXT NOT NULL,
    value_norm TEXT NOT NULL,
    PRIMARY KEY (patient_id, part, value_exact)
) WITHOUT ROWID;
CREATE INDEX patient_name_part_norm ON patient_name (part, value_norm);
CREATE INDEX patient_name_norm ON patient_name (value_norm);
CREATE INDEX patient_name_exact ON patient_name (value_exact);

-- system is '' when the identifier has none.
CREATE TABLE patient_identifier (
    patient_id TEXT NOT NULL REFERENCES patient (id),
    system TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (patient_id, system, value)
) WITHOUT ROWID;
CREATE INDEX patient_identifier_value ON patient_identifier (value, system);

CREATE TABLE patient_postal_code (
    patient_id TEXT NOT NULL REFERENCES patient (id),
    postal_code_norm TEXT NOT NULL,
    PRIMARY KEY (patient_id, postal_code_norm)
) WITHOUT ROWID;
CREATE INDEX patient_postal_code_norm ON patient_postal_code (postal_code_norm);

CREATE TABLE immunization (
    id TEXT PRIMARY KEY NOT NULL,
    version_id BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT 0,
    resource_json TEXT NOT NULL,
    owner_organization_id TEXT,
    owner_facility_id TEXT,
    patient_id TEXT NOT NULL REFERENCES patient (id),
    occurrence_start BIGINT,
    occurrence_end BIGINT,
    occurrence_sort BIGINT NOT NULL,
    status TEXT NOT NULL,
    lot_number_norm TEXT
);
CREATE INDEX immunization_patient ON immunization (patient_id, occurrence_sort, id);
CREATE INDEX immunization_occurrence_sort ON immunization (occurrence_sort, id);
CREATE INDEX immunization_last_updated ON immunization (last_updated, id);
CREATE INDEX immunization_lot_number ON immunization (lot_number_norm);

CREATE TABLE immunization_history (
    id TEXT NOT NULL,
    version_id BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    method TEXT NOT NULL,
    resource_json TEXT,
    PRIMARY KEY (id, version_id)
);
CREATE INDEX immunization_history_last_updated ON immunization_history (last_updated, id, version_id);

-- Every coding of Immunization.vaccineCode; system is '' when the coding has none.
CREATE TABLE immunization_vaccine_code (
    immunization_id TEXT NOT NULL REFERENCES immunization (id),
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (immunization_id, system, code)
) WITHOUT ROWID;
CREATE INDEX immunization_vaccine_code_code ON immunization_vaccine_code (code, system);

-- Vaccine code tables (CDC CVX, MVX via the AIRA code base), loaded from data/codes at migrate.
CREATE TABLE cvx_code (
    code TEXT PRIMARY KEY NOT NULL,
    label TEXT NOT NULL,
    status TEXT NOT NULL,
    vaccine_group TEXT
);

CREATE TABLE mvx_code (
    code TEXT PRIMARY KEY NOT NULL,
    label TEXT NOT NULL,
    status TEXT NOT NULL
);
