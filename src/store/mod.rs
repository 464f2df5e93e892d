//! Storage: diesel schema, rows, queries, the pool and the write path, embedded migrations.
//!
//! Everything backend-specific (SQL dialect, batch inserts, locks) stays inside this folder.

pub mod audit;
pub mod bulk;
pub mod code_tables;
pub mod connection;
mod current_row;
pub mod database;
mod error;
mod history;
pub mod identity;
pub mod immunization;
pub mod migrations;
pub mod outreach;
pub mod patient;
pub mod privacy;
pub mod schema;
mod search_sql;
pub mod token;

pub use connection::{Backend, DbConnection, MultiBackend};
pub use database::{Database, DatabaseOptions};
pub use error::StoreError;

/// Runs one insert of many rows. Multi-row inserts do not compile on the `MultiConnection`
/// enum (SQLite and PostgreSQL batch differently), so this expands the statement per backend.
macro_rules! insert_many {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::store::DbConnection::Postgresql(pg) => {
                diesel::RunQueryDsl::execute(diesel::insert_into($table).values($rows), pg)
            }
            $crate::store::DbConnection::Sqlite(sqlite) => {
                diesel::RunQueryDsl::execute(diesel::insert_into($table).values($rows), sqlite)
            }
        }
    };
}
pub(crate) use insert_many;

/// Runs a query on the concrete connection of either backend. Through the `MultiConnection`
/// enum diesel must rebuild a query's SQL text on every call to find its cached statement;
/// on a concrete connection a query of a static type finds it by its type. Used on the hottest
/// paths (a read by id), where that rebuild was a tenth of the server's CPU.
macro_rules! on_backend {
    ($conn:expr, |$backend:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConnection::Postgresql($backend) => $body,
            $crate::store::DbConnection::Sqlite($backend) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Rows per multi-row insert: keeps every statement under SQLite's bind-parameter limit.
pub(crate) const INSERT_CHUNK_ROWS: usize = 500;

/// Takes a transaction-scoped lock named by `key` on PostgreSQL, so that two transactions doing
/// the same check-then-insert (conditional create) run one after the other. On SQLite writes
/// are already serialized by the single writer, so there is nothing to do.
pub fn lock_for_key(conn: &mut DbConnection, key: &str) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(stable_hash(key))
            .execute(pg)?;
    }
    Ok(())
}

/// FNV-1a: stable across processes and versions (unlike `std`'s hasher), which a lock key
/// shared by several server processes needs.
fn stable_hash(key: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Checks that the database answers (readiness probe).
pub fn ping(conn: &mut DbConnection) -> Result<(), StoreError> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("SELECT 1")?;
    Ok(())
}
