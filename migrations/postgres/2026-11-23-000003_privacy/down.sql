DROP TABLE patient_privacy_history;
DROP TABLE patient_privacy;
ALTER TABLE immunization DROP COLUMN visible_to;
ALTER TABLE patient DROP COLUMN visible_to;
