-- Privacy choices (opt-out, record lock, declined reminders): the current choice per person, and
-- every version of it (who recorded it, at whose request, how identity was checked).
-- `visible_to` on patient and immunization carries the resulting visibility so reads and searches
-- filter in the same query: NULL = every organization, '' = nobody (opted out),
-- 'o:<organization id>' or 'f:<facility id>' = locked to that provider.

ALTER TABLE patient ADD COLUMN visible_to TEXT;
ALTER TABLE immunization ADD COLUMN visible_to TEXT;

CREATE TABLE patient_privacy (
    patient_id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    opted_out BOOLEAN NOT NULL,
    lock_organization_id TEXT,
    lock_facility_id TEXT,
    reminders_declined BOOLEAN NOT NULL,
    changed_at BIGINT NOT NULL,
    changed_by_organization_id TEXT NOT NULL,
    changed_by_user_id TEXT,
    requested_by TEXT NOT NULL,
    identity_verification TEXT NOT NULL
);

CREATE TABLE patient_privacy_history (
    patient_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    opted_out BOOLEAN NOT NULL,
    lock_organization_id TEXT,
    lock_facility_id TEXT,
    reminders_declined BOOLEAN NOT NULL,
    changed_at BIGINT NOT NULL,
    changed_by_organization_id TEXT NOT NULL,
    changed_by_user_id TEXT,
    requested_by TEXT NOT NULL,
    identity_verification TEXT NOT NULL,
    PRIMARY KEY (patient_id, version)
);
