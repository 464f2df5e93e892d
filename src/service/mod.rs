//! Business rules and use cases. Each use case opens one transaction for its whole job.
//!
//! Generic resource interactions (read, vread, create, update, delete, history, search) are
//! written once in [`resource`] over the [`kind::ResourceKind`] trait; what differs between
//! Patient and Immunization (validation, indexes, related resources) lives in [`kind`].

pub mod bundle;
mod error;
pub mod kind;
pub mod resource;
pub mod seed;

use std::sync::Arc;

pub use error::ServiceError;

use crate::domain::codes::CodeTables;
use crate::store::{Database, DatabaseOptions, StoreError, code_tables, connection, migrations};

/// The registry's state shared by every request: the database and the code tables.
#[derive(Debug)]
pub struct Registry {
    database: Database,
    codes: Arc<CodeTables>,
}

impl Registry {
    /// Opens the database, applies pending migrations, loads the shipped code tables into it and
    /// reads them into memory.
    pub fn start(options: &DatabaseOptions) -> Result<Arc<Self>, ServiceError> {
        let applied = migrate(&options.url)?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        let database = Database::open(options)?;
        let codes = database.read(code_tables::load)?;
        tracing::info!(cvx = codes.cvx_count(), mvx = codes.mvx_count(), "loaded vaccine code tables");
        Ok(Arc::new(Registry { database, codes: Arc::new(codes) }))
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The vaccine code tables.
    pub fn codes(&self) -> &CodeTables {
        &self.codes
    }

    /// A shared handle on the code tables (for work handed to the writer).
    pub fn shared_codes(&self) -> Arc<CodeTables> {
        Arc::clone(&self.codes)
    }

    /// Readiness: the database answers.
    pub fn check_ready(&self) -> Result<(), ServiceError> {
        self.database.read(|conn| crate::store::ping(conn).map_err(ServiceError::from))
    }
}

/// Applies pending migrations and loads missing shipped codes, on a connection of its own.
/// Returns the migrations applied.
pub fn migrate(url: &str) -> Result<Vec<String>, StoreError> {
    let mut conn = connection::establish(url)?;
    let applied = migrations::run_pending(&mut conn)?;
    let added = {
        use diesel::Connection;
        conn.transaction::<_, StoreError, _>(code_tables::load_shipped_codes)?
    };
    if added > 0 {
        tracing::info!(codes = added, "loaded shipped CVX/MVX codes");
    }
    Ok(applied)
}
