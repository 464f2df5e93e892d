-- The SQLite tree also rebuilds audit_event so that seq is its rowid; a PostgreSQL table has no
-- rowid, and its primary key index on seq is the one it needs.

-- A submitted Patient is checked against the people who opted out (visible_to = ''): by
-- identifier, or by birth date and names. This index finds the opted-out people born on a
-- given day directly, so the check no longer walks every patient sharing a common name.
CREATE INDEX patient_opted_out ON patient (visible_to, birth_start);
