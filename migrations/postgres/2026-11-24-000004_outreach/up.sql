-- Outreach: which organizations still serve a person, reminder / recall runs with their notices,
-- and the record of notices sent (kept when a run's results are deleted, so a deleted run does
-- not make the next one repeat what families already received).

-- An organization marking a person it served as no longer its patient (moved, gone elsewhere).
-- No row: the organization serves the person if it submitted the Patient or recorded one of
-- their immunizations.
CREATE TABLE patient_provider_status (
    patient_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    -- moved, gone-elsewhere, other
    reason TEXT,
    changed_at BIGINT NOT NULL,
    changed_by TEXT NOT NULL,
    PRIMARY KEY (patient_id, organization_id)
);
CREATE INDEX patient_provider_status_organization ON patient_provider_status (organization_id, active);

-- Who an organization serves: found through what it submitted. Partial: rows without an owner
-- (bulk loads, `izreg seed`) are never looked up by owner, and cost a bulk load nothing.
CREATE INDEX patient_owner_organization ON patient (owner_organization_id, id)
    WHERE owner_organization_id IS NOT NULL;
CREATE INDEX immunization_owner_organization ON immunization (owner_organization_id, patient_id)
    WHERE owner_organization_id IS NOT NULL;

CREATE TABLE reminder_run (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL,
    facility_id TEXT,
    requested_by TEXT NOT NULL,
    criteria_json TEXT NOT NULL,
    -- queued, running, completed, failed
    status TEXT NOT NULL,
    patients_total BIGINT,
    patients_processed BIGINT NOT NULL,
    reminders BIGINT NOT NULL,
    recalls BIGINT NOT NULL,
    exclusions_json TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX reminder_run_organization ON reminder_run (organization_id, created_at);

CREATE TABLE reminder_notice (
    run_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    patient_id TEXT NOT NULL,
    -- reminder, recall
    kind TEXT NOT NULL,
    notice_json TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_sent_on TEXT,
    last_method TEXT,
    PRIMARY KEY (run_id, number)
);

-- One row per notice sent and vaccine group in it; the newest `sent_on` per person and group
-- decides whether a new notice would repeat one sent recently.
CREATE TABLE reminder_contact (
    run_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    vaccine_group TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    sent_on TEXT NOT NULL,
    method TEXT NOT NULL,
    PRIMARY KEY (run_id, number, vaccine_group)
);
CREATE INDEX reminder_contact_patient ON reminder_contact (patient_id, sent_on);
