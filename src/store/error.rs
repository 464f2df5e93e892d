//! Errors of the storage layer.

use thiserror::Error;

/// Something went wrong talking to the database.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A query failed.
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    /// A connection could not be opened.
    #[error("could not connect to the database")]
    Connect(#[from] diesel::ConnectionError),
    /// No pooled connection became free in time.
    #[error("no database connection available")]
    Pool(#[from] r2d2::Error),
    /// Applying migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The single writer thread is gone (shutting down, or it failed).
    #[error("the database writer is not running")]
    WriterGone,
    /// The transaction holding this write could not be committed, or the writer abandoned it.
    #[error("the write was not committed")]
    WriteAborted,
    /// Stored data could not be decoded (a bug or manual tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}
