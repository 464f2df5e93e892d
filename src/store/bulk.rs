//! Bulk loads: many new resources (version 1) in few statements, for seeding and imports.
//!
//! The rows written are exactly those of `patient::insert` / `immunization::insert` (the same
//! row constructors are used): current row, search index rows and a "create" history entry.
//! Each table is filled with multi-row inserts as large as the bind-parameter limit allows,
//! instead of one statement per row.

use super::schema::{
    immunization, immunization_history, immunization_vaccine_code, patient, patient_history, patient_identifier,
    patient_name, patient_postal_code,
};
use super::{DbConnection, StoreError, insert_many};
use crate::domain::immunization::ImmunizationIndex;
use crate::domain::patient::PatientIndex;
use crate::domain::resource::{HistoryMethod, StoredResource};

/// SQLite's limit on bind parameters per statement (since 3.32; PostgreSQL allows 65535).
const MAX_BIND_PARAMETERS: usize = 32_766;

/// Inserts `rows` into `table` in statements of as many rows as `columns` bind parameters
/// per row allow.
macro_rules! insert_chunked {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {{
        let rows_per_statement = MAX_BIND_PARAMETERS / $columns;
        for chunk in $rows.chunks(rows_per_statement) {
            insert_many!($conn, $table, chunk)?;
        }
    }};
}

/// Stores new Patients (version 1) with their search index rows and "create" history entries,
/// inside the caller's transaction.
pub fn insert_patients(conn: &mut DbConnection, rows: &[(StoredResource, PatientIndex)]) -> Result<(), StoreError> {
    use super::patient::{IdentifierRow, NameRow, NewHistoryRow, PatientRow, PostalCodeRow};

    let current: Vec<PatientRow<'_>> = rows.iter().map(|(resource, index)| PatientRow::new(resource, index)).collect();
    insert_chunked!(conn, patient::table, current, 11);
    drop(current);

    let names: Vec<NameRow<'_>> = rows
        .iter()
        .flat_map(|(resource, index)| index.names.iter().map(|name| NameRow::new(resource.id.as_str(), name)))
        .collect();
    insert_chunked!(conn, patient_name::table, names, 4);
    drop(names);

    let identifiers: Vec<IdentifierRow<'_>> = rows
        .iter()
        .flat_map(|(resource, index)| {
            index.identifiers.iter().map(|identifier| IdentifierRow::new(resource.id.as_str(), identifier))
        })
        .collect();
    insert_chunked!(conn, patient_identifier::table, identifiers, 3);
    drop(identifiers);

    let postal_codes: Vec<PostalCodeRow<'_>> = rows
        .iter()
        .flat_map(|(resource, index)| {
            index.postal_codes.iter().map(|code| PostalCodeRow::new(resource.id.as_str(), code))
        })
        .collect();
    insert_chunked!(conn, patient_postal_code::table, postal_codes, 2);
    drop(postal_codes);

    let history: Vec<NewHistoryRow<'_>> =
        rows.iter().map(|(resource, _)| NewHistoryRow::new(resource, HistoryMethod::Create)).collect();
    insert_chunked!(conn, patient_history::table, history, 5);
    Ok(())
}

/// Stores new Immunizations (version 1) with their vaccine-code index rows and "create" history
/// entries, inside the caller's transaction. Their Patients must already be stored.
pub fn insert_immunizations(
    conn: &mut DbConnection,
    rows: &[(StoredResource, ImmunizationIndex)],
) -> Result<(), StoreError> {
    use super::immunization::{ImmunizationRow, NewHistoryRow, VaccineCodeRow};

    let current: Vec<ImmunizationRow<'_>> =
        rows.iter().map(|(resource, index)| ImmunizationRow::new(resource, index)).collect();
    insert_chunked!(conn, immunization::table, current, 11);
    drop(current);

    let codes: Vec<VaccineCodeRow<'_>> = rows
        .iter()
        .flat_map(|(resource, index)| {
            index.vaccine_codes.iter().map(|coding| VaccineCodeRow::new(resource.id.as_str(), coding))
        })
        .collect();
    insert_chunked!(conn, immunization_vaccine_code::table, codes, 3);
    drop(codes);

    let history: Vec<NewHistoryRow<'_>> =
        rows.iter().map(|(resource, _)| NewHistoryRow::new(resource, HistoryMethod::Create)).collect();
    insert_chunked!(conn, immunization_history::table, history, 5);
    Ok(())
}
