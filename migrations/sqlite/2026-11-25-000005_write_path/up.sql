-- The audit trail is written on every request, so each row should touch as few B-trees as
-- possible. Declared `BIGINT PRIMARY KEY`, seq was a column with an index of its own beside the
-- table's hidden rowid: two B-trees per row for one key. Declared `INTEGER PRIMARY KEY`, seq IS
-- the rowid. The table is rebuilt (SQLite cannot change a primary key in place); every event,
-- its seq and its hashes are copied unchanged, so the hash chain still verifies.
CREATE TABLE audit_event_by_rowid (
    seq INTEGER PRIMARY KEY NOT NULL,
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
INSERT INTO audit_event_by_rowid
    (seq, recorded_at, agent_kind, agent_id, organization_id, facility_id, token_id, action, resource_type,
     resource_ids, patient_ids, query, outcome, status, detail, prev_hash, hash)
SELECT seq, recorded_at, agent_kind, agent_id, organization_id, facility_id, token_id, action, resource_type,
       resource_ids, patient_ids, query, outcome, status, detail, prev_hash, hash
FROM audit_event;
DROP TABLE audit_event;
ALTER TABLE audit_event_by_rowid RENAME TO audit_event;
-- Every index entry ends with the rowid, i.e. seq: these keys are (recorded_at, seq) and
-- (organization_id, recorded_at, seq), as before, one column shorter.
CREATE INDEX audit_event_recorded ON audit_event (recorded_at);
CREATE INDEX audit_event_organization ON audit_event (organization_id, recorded_at);

-- A submitted Patient is checked against the people who opted out (visible_to = ''): by
-- identifier, or by birth date and names. This index finds the opted-out people born on a
-- given day directly, so the check no longer walks every patient sharing a common name.
CREATE INDEX patient_opted_out ON patient (visible_to, birth_start);
