DROP TABLE reminder_contact;
DROP TABLE reminder_notice;
DROP TABLE reminder_run;
DROP INDEX immunization_owner_organization;
DROP INDEX patient_owner_organization;
DROP TABLE patient_provider_status;
