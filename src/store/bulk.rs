//! Bulk loads: many new resources (version 1) in few statements, for seeding and imports.
//!
//! The rows written are exactly those of `patient::insert` / `immunization::insert` (the same
//! row constructors are used): current row, search index rows and a "create" history entry.
//! Each table is filled with multi-row inserts as large as the bind-parameter limit allows,
//! instead of one statement per row.

use diesel::connection::SimpleConnection;

use super::schema::{
    deferred_index, immunization, immunization_history, immunization_vaccine_code, patient, patient_history,
    patient_identifier, patient_name, patient_postal_code,
};
use super::{DbConnection, StoreError, insert_many};
use crate::domain::immunization::ImmunizationIndex;
use crate::domain::patient::PatientIndex;
use crate::domain::resource::{HistoryMethod, StoredResource};

/// SQLite's limit on bind parameters per statement (since 3.32; PostgreSQL allows 65535).
const MAX_BIND_PARAMETERS: usize = 32_766;

/// Inserts `rows` into `table` in statements of as many rows as the bind-parameter limit allows
/// with `columns` parameters per row (the number of fields of the row struct). Each statement
/// costs more than its rows on SQLite (a statement journal, released against the writer's
/// savepoint journal): 500-row statements made a seed twice as slow as these.
macro_rules! insert_chunked {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {{
        let rows_per_statement = MAX_BIND_PARAMETERS / $columns;
        for chunk in $rows.chunks(rows_per_statement) {
            insert_many!($conn, $table, chunk)?;
        }
    }};
}

/// Connection settings changed by [`begin_bulk_load`], to restore with [`end_bulk_load`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkLoadSettings {
    /// SQLite `temp_store` before the load (`None` on PostgreSQL).
    previous_temp_store: Option<i64>,
    /// SQLite `cache_size` before the load (`None` on PostgreSQL).
    previous_cache_size: Option<i64>,
}

#[derive(diesel::QueryableByName)]
struct CacheSize {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    cache_size: i64,
}

/// The writer's page cache during a bulk load (KiB, as `PRAGMA cache_size` takes a negative
/// size): the indexes of a million rows with random ids must stay in memory, or every insert
/// re-reads index pages from the OS and a 100,000-patient seed takes minutes.
const BULK_CACHE_KIB: i64 = 512 * 1024;

#[derive(diesel::QueryableByName)]
struct TempStore {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    temp_store: i64,
}

/// The tables a bulk load fills, whose secondary indexes it may defer (SQL list syntax).
const BULK_LOADED_TABLES: &str = "'patient', 'patient_name', 'patient_identifier', 'patient_postal_code', \
     'patient_history', 'immunization', 'immunization_vaccine_code', 'immunization_history'";

#[derive(diesel::QueryableByName)]
struct IndexDefinition {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    sql: String,
}

/// Prepares a connection for the bulk-insert transactions that follow (run it in a transaction
/// of its own: the indexes it drops are recorded in that transaction).
///
/// On SQLite:
/// - Temporary files are kept in memory: the writer runs each write in a savepoint, and the
///   savepoint journal (a copy of every existing page the write changes, easily hundreds of
///   megabytes in a bulk load) otherwise goes through a temporary file (measured: about 10% of
///   a 100,000-patient seed).
/// - Into an empty registry, the secondary indexes of the loaded tables are dropped, to be built
///   once by [`end_bulk_load`] (see [`defer_indexes`]).
///
/// PostgreSQL needs nothing.
pub fn begin_bulk_load(conn: &mut DbConnection) -> Result<BulkLoadSettings, StoreError> {
    match conn {
        DbConnection::Sqlite(sqlite) => {
            use diesel::RunQueryDsl;
            let previous = diesel::sql_query("PRAGMA temp_store").get_result::<TempStore>(sqlite)?.temp_store;
            let cache = diesel::sql_query("PRAGMA cache_size").get_result::<CacheSize>(sqlite)?.cache_size;
            sqlite.batch_execute(&format!("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{BULK_CACHE_KIB}"))?;
            let deferred = defer_indexes(sqlite)?;
            if deferred > 0 {
                tracing::info!(indexes = deferred, "the registry is empty: indexes are built after the load");
            }
            Ok(BulkLoadSettings { previous_temp_store: Some(previous), previous_cache_size: Some(cache) })
        }
        DbConnection::Postgresql(_) => Ok(BulkLoadSettings { previous_temp_store: None, previous_cache_size: None }),
    }
}

/// Drops the secondary indexes of the loaded tables when those tables are all empty, recording
/// each in `deferred_index` in the same transaction. Returns how many were dropped.
///
/// A million rows inserted into indexes on random keys (names, dates, lot numbers, codes) dirty
/// most of those indexes' pages in every load transaction, and SQLite writes each dirty page
/// twice (WAL, then checkpoint): a 100,000-patient seed wrote about 12 GB for a 3.5 GB file and
/// took 52 to 57 s here; building the indexes once at the end, 36 s. Into a registry that
/// already holds resources, rebuilding its indexes could cost more than the load saves, so
/// they stay. Unique indexes stay too: they enforce a constraint during the load.
fn defer_indexes(sqlite: &mut diesel::SqliteConnection) -> Result<usize, StoreError> {
    use diesel::dsl::exists;
    use diesel::prelude::*;
    let occupied = diesel::select(exists(patient::table.select(patient::id))).get_result::<bool>(sqlite)?
        || diesel::select(exists(immunization::table.select(immunization::id))).get_result::<bool>(sqlite)?;
    if occupied {
        return Ok(0);
    }
    let indexes = diesel::sql_query(format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
         AND tbl_name IN ({BULK_LOADED_TABLES}) ORDER BY name"
    ))
    .load::<IndexDefinition>(sqlite)?;
    let mut deferred = 0;
    for index in indexes {
        // SQLite keeps each statement as written but normalized to begin `CREATE INDEX` or
        // `CREATE UNIQUE INDEX` (without IF NOT EXISTS). The rebuild must not fail on an index
        // that is back already (a server opened the database during the load and rebuilt it).
        let Some(definition) = index.sql.strip_prefix("CREATE INDEX ") else { continue };
        diesel::insert_into(deferred_index::table)
            .values((
                deferred_index::name.eq(&index.name),
                deferred_index::create_sql.eq(format!("CREATE INDEX IF NOT EXISTS {definition}")),
            ))
            .execute(sqlite)?;
        sqlite.batch_execute(&format!("DROP INDEX \"{}\"", index.name.replace('"', "\"\"")))?;
        deferred += 1;
    }
    Ok(deferred)
}

/// Builds every index a bulk load deferred and has not rebuilt (see [`defer_indexes`]), inside
/// the caller's transaction. Returns how many were built. Called at the end of a load, and when
/// the database is opened, which repairs a load that was interrupted.
pub fn rebuild_deferred_indexes(conn: &mut DbConnection) -> Result<usize, StoreError> {
    use diesel::prelude::*;
    let pending: Vec<String> =
        deferred_index::table.select(deferred_index::create_sql).order(deferred_index::name).load(conn)?;
    for create_sql in &pending {
        conn.batch_execute(create_sql)?;
    }
    diesel::delete(deferred_index::table).execute(conn)?;
    Ok(pending.len())
}

/// Builds the deferred indexes and restores the settings [`begin_bulk_load`] changed (the
/// indexes first: they are built with the load's page cache and in-memory sorting).
pub fn end_bulk_load(conn: &mut DbConnection, settings: BulkLoadSettings) -> Result<(), StoreError> {
    let built = rebuild_deferred_indexes(conn)?;
    if built > 0 {
        tracing::info!(indexes = built, "built the indexes deferred during the load");
    }
    if let (DbConnection::Sqlite(sqlite), Some(previous)) = (&mut *conn, settings.previous_temp_store) {
        sqlite.batch_execute(&format!("PRAGMA temp_store = {previous}"))?;
    }
    if let (DbConnection::Sqlite(sqlite), Some(previous)) = (conn, settings.previous_cache_size) {
        sqlite.batch_execute(&format!("PRAGMA cache_size = {previous}"))?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use diesel::Connection;

    use super::*;
    use crate::store::connection::establish;

    fn temp_store(conn: &mut DbConnection) -> i64 {
        use diesel::RunQueryDsl;
        let DbConnection::Sqlite(sqlite) = conn else { unreachable!("a SQLite connection") };
        diesel::sql_query("PRAGMA temp_store").get_result::<TempStore>(sqlite).unwrap().temp_store
    }

    #[test]
    fn a_bulk_load_changes_sqlite_settings_inside_a_transaction_and_restores_them() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("bulk.db").to_string_lossy().into_owned();
        // Migrated on a connection of its own, as at start-up (migrating uses temporary storage,
        // whose setting cannot change inside a transaction once it is open).
        crate::store::migrations::run_pending(&mut establish(&url).unwrap()).unwrap();
        let mut conn = establish(&url).unwrap();
        let before = temp_store(&mut conn);
        let settings = conn.transaction(begin_bulk_load).unwrap();
        assert_eq!(temp_store(&mut conn), 2, "MEMORY");
        conn.transaction(|conn| end_bulk_load(conn, settings)).unwrap();
        assert_eq!(temp_store(&mut conn), before);
    }

    #[test]
    fn the_sqlite_writer_keeps_its_temporary_files_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("writer.db").to_string_lossy().into_owned();
        let mut reader = establish(&url).unwrap();
        assert_eq!(temp_store(&mut reader), 0, "DEFAULT: readers keep SQLite's default");
        let mut writer = crate::store::connection::establish_writer(&url).unwrap();
        assert_eq!(temp_store(&mut writer), 2, "MEMORY: statement journals never spill to a file");
    }
}
