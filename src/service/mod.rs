//! Business rules and use cases. Each use case opens one transaction for its whole job.
//!
//! Generic resource interactions (read, vread, create, update, delete, history, search) are
//! written once in [`resource`] over the [`kind::ResourceKind`] trait; what differs between
//! Patient and Immunization (validation, indexes, related resources) lives in [`kind`].

pub mod access;
pub mod agreement;
pub mod audit;
pub mod bundle;
pub mod client;
pub mod directory;
mod error;
pub mod forecast;
pub mod kind;
pub mod organization;
pub mod outreach;
pub mod privacy;
pub mod resource;
pub mod seed;
pub mod session;
pub mod user;

use std::sync::Arc;

pub use error::ServiceError;

use audit::AuditLog;
use session::{AuthSettings, Sessions};

use crate::domain::codes::CodeTables;
use crate::store::{Database, DatabaseOptions, StoreError, code_tables, connection, migrations};

/// The registry's state shared by every request: the database, the code tables, the token
/// keys and caches, and the audit writer.
#[derive(Debug)]
pub struct Registry {
    // Declared first so it is dropped (and flushed) while the database is still open.
    audit: AuditLog,
    sessions: Sessions,
    runs: outreach::RunQueue,
    database: Arc<Database>,
    codes: Arc<CodeTables>,
}

impl Registry {
    /// Opens the database, applies pending migrations, loads the shipped code tables into it and
    /// reads them into memory, loads (or makes) the token signing key and starts the audit
    /// writer.
    pub fn start(options: &DatabaseOptions, auth: &AuthSettings) -> Result<Arc<Self>, ServiceError> {
        let applied = migrate(&options.url)?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        let database = Arc::new(Database::open(options)?);
        let codes = database.read(code_tables::load)?;
        tracing::info!(cvx = codes.cvx_count(), mvx = codes.mvx_count(), "loaded vaccine code tables");
        let sessions = Sessions::start(&database, auth)?;
        let audit = AuditLog::start(Arc::clone(&database))?;
        let runs = outreach::RunQueue::start(Arc::clone(&database))?;
        Ok(Arc::new(Registry { audit, sessions, runs, database, codes: Arc::new(codes) }))
    }

    /// The token keys and caches.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The audit writer (reads and denials).
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// The reminder / recall worker.
    pub fn runs(&self) -> &outreach::RunQueue {
        &self.runs
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
    let (added, rebuilt) = {
        use diesel::Connection;
        let added = conn.transaction::<_, StoreError, _>(code_tables::load_shipped_codes)?;
        // A bulk load (`izreg seed`) that was killed left the indexes it deferred unbuilt.
        let rebuilt = conn.transaction::<_, StoreError, _>(crate::store::bulk::rebuild_deferred_indexes)?;
        (added, rebuilt)
    };
    if rebuilt > 0 {
        tracing::warn!(indexes = rebuilt, "rebuilt the indexes an interrupted bulk load had deferred");
    }
    if added > 0 {
        tracing::info!(codes = added, "loaded shipped CVX/MVX codes");
    }
    Ok(applied)
}
