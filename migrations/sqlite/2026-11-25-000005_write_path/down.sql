DROP INDEX patient_opted_out;
CREATE TABLE audit_event_by_key (
    seq BIGINT PRIMARY KEY NOT NULL,
    recorded_at BIGINT NOT NULL,
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
    outcome TEXT NOT NULL,
    status INTEGER NOT NULL,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_event_by_key
    (seq, recorded_at, agent_kind, agent_id, organization_id, facility_id, token_id, action, resource_type,
     resource_ids, patient_ids, query, outcome, status, detail, prev_hash, hash)
SELECT seq, recorded_at, agent_kind, agent_id, organization_id, facility_id, token_id, action, resource_type,
       resource_ids, patient_ids, query, outcome, status, detail, prev_hash, hash
FROM audit_event;
DROP TABLE audit_event;
ALTER TABLE audit_event_by_key RENAME TO audit_event;
CREATE INDEX audit_event_recorded ON audit_event (recorded_at, seq);
CREATE INDEX audit_event_organization ON audit_event (organization_id, recorded_at, seq);
