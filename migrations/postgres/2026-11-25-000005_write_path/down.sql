DROP INDEX patient_opted_out;
