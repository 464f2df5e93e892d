//! The database connection type shared by both backends, and the r2d2 plumbing around it.
//!
//! One `MultiConnection` enum covers PostgreSQL and SQLite. The backend is chosen by the URL
//! scheme, never by trial: the derived `establish` would try each variant in turn, and SQLite
//! accepts any string as a file name.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

use super::StoreError;

/// A connection to either backend. SQLite is listed last (see the module comment).
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL: the production and scale-out backend.
    Postgresql(PgConnection),
    /// SQLite (bundled): the embedded default.
    Sqlite(SqliteConnection),
}

/// Which database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// Anything else: a file path, optionally prefixed `sqlite://`.
    Sqlite,
}

impl Backend {
    /// Picks the backend from the URL scheme.
    pub fn from_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Strips an optional `sqlite://` prefix so `sqlite://izreg.db` and `izreg.db` name the same file.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// How long a SQLite connection waits for a lock held by another process (e.g. `izreg seed`
/// running beside a server) before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens one connection to the backend the URL names and applies the per-connection settings.
pub fn establish(url: &str) -> Result<DbConnection, StoreError> {
    match Backend::from_url(url) {
        Backend::Postgres => {
            let conn = PgConnection::establish(url)?;
            Ok(DbConnection::Postgresql(conn))
        }
        Backend::Sqlite => {
            let mut conn = SqliteConnection::establish(sqlite_path(url))?;
            apply_sqlite_pragmas(&mut conn)?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

/// Pragmas every SQLite connection needs. `foreign_keys` is off by default and per connection;
/// `synchronous=FULL` makes an acknowledged write survive power loss; WAL lets readers run
/// beside the single writer.
fn apply_sqlite_pragmas(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let sql = format!(
        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         PRAGMA foreign_keys = ON;",
        SQLITE_BUSY_TIMEOUT.as_millis()
    );
    conn.batch_execute(&sql)?;
    Ok(())
}

/// Opens the connection of the single SQLite writer (or a PostgreSQL connection, unchanged).
/// Its temporary files live in memory: above all the statement journal, which SQLite keeps for
/// every multi-row statement (the audit writer inserts 32 events per statement) so that a
/// failing row can undo its statement. It is bounded by the pages one statement changes, and it
/// spilled to a temporary file above 64 KiB, a write system call per journaled page.
pub fn establish_writer(url: &str) -> Result<DbConnection, StoreError> {
    let mut conn = establish(url)?;
    if let DbConnection::Sqlite(sqlite) = &mut conn {
        sqlite.batch_execute("PRAGMA temp_store = MEMORY;")?;
    }
    Ok(conn)
}

/// Read connections: refuse writes; map the file into memory (reads become memory copies
/// instead of `pread` calls, shared through the OS page cache by every connection); a 16 MiB
/// page cache each.
const SQLITE_READER_PRAGMAS: &str =
    "PRAGMA query_only = ON; PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -16384;";

/// r2d2 manager that establishes connections with [`establish`].
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    read_only: bool,
}

impl ConnectionManager {
    /// A manager for connections that may read and write.
    pub fn new(url: impl Into<String>) -> Self {
        ConnectionManager { url: url.into(), read_only: false }
    }

    /// A manager whose SQLite connections refuse writes (`query_only`): on SQLite all writes go
    /// through the single writer, and this makes a stray write from a read path fail loudly.
    pub fn read_only(url: impl Into<String>) -> Self {
        ConnectionManager { url: url.into(), read_only: true }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        let mut conn = establish(&self.url)?;
        if self.read_only
            && let DbConnection::Sqlite(sqlite) = &mut conn
        {
            sqlite.batch_execute(SQLITE_READER_PRAGMAS)?;
        }
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        conn.batch_execute("SELECT 1")?;
        Ok(())
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::connection::TransactionManager;
        <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// A pool of connections.
pub type DbPool = r2d2::Pool<ConnectionManager>;
/// A connection checked out of the pool.
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;
