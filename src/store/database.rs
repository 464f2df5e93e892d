//! The [`Database`] handle: a read pool, and a write path that suits the backend.
//!
//! SQLite has one writer. Instead of letting request threads fight over the write lock
//! (`SQLITE_BUSY`, retries, one fsync per request), every write goes to a single writer thread
//! that groups the writes waiting in its queue into one transaction: each write runs in its own
//! savepoint (so one failing write does not undo the others), and the batch is committed with
//! one fsync. A caller gets its result only after the commit, so an acknowledged write is
//! durable (`synchronous=FULL`). PostgreSQL handles concurrent writers itself, so there writes
//! simply take a pooled connection and a transaction of their own.

use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};

use super::StoreError;
use super::connection::{Backend, ConnectionManager, DbConnection, DbPool, PooledConnection, establish_writer};

/// How many queued writes one commit may carry. Bounds the latency a write can add to others.
const MAX_WRITES_PER_COMMIT: usize = 256;
/// How many writes may wait for the writer before callers block (back-pressure).
const WRITE_QUEUE_DEPTH: usize = 4096;
/// How long a request waits for a free pooled connection.
const POOL_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether the batch holding a write was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommitOutcome {
    Committed,
    Failed,
}

/// What the writer calls once the batch's fate is known; it delivers the write's result.
type Completion = Box<dyn FnOnce(CommitOutcome) + Send>;
/// A write waiting for the writer thread.
type WriteJob = Box<dyn FnOnce(&mut DbConnection) -> Completion + Send>;

/// Settings for opening a [`Database`].
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// `postgres://...` or a SQLite file path (optionally `sqlite://path`).
    pub url: String,
    /// Connections in the read pool (and, on PostgreSQL, the write pool too).
    pub pool_size: u32,
}

/// Handle to the database: cheap to share (wrap in `Arc`), safe to use from many threads.
pub struct Database {
    backend: Backend,
    read_pool: DbPool,
    write_path: WritePath,
}

enum WritePath {
    /// PostgreSQL: writers take pooled connections.
    Pool(DbPool),
    /// SQLite: writers queue for the single writer thread.
    Writer(WriterThread),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Database {
    /// Opens the pools (and, on SQLite, starts the writer thread). Does not run migrations.
    pub fn open(options: &DatabaseOptions) -> Result<Self, StoreError> {
        let backend = Backend::from_url(&options.url);
        let pool_size = options.pool_size.max(1);
        match backend {
            Backend::Postgres => {
                let pool = build_pool(ConnectionManager::new(&options.url), pool_size)?;
                Ok(Database { backend, read_pool: pool.clone(), write_path: WritePath::Pool(pool) })
            }
            Backend::Sqlite => {
                // Open the writer first: its first connection switches the file to WAL mode
                // before readers arrive.
                let writer = WriterThread::start(&options.url)?;
                let read_pool = build_pool(ConnectionManager::read_only(&options.url), pool_size)?;
                Ok(Database { backend, read_pool, write_path: WritePath::Writer(writer) })
            }
        }
    }

    /// Which engine this database runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` on a pooled read connection. Blocking: call it from a blocking context.
    pub fn read<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.read_connection()?;
        f(&mut conn)
    }

    /// Runs `f` on a read connection only if one is free right now; `None` otherwise. For
    /// primary-key lookups that take microseconds, so the caller can skip the hop to a
    /// blocking thread and never waits on the pool.
    pub fn try_read<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Option<Result<T, E>> {
        let mut conn = self.read_pool.try_get()?;
        Some(f(&mut conn))
    }

    /// Checks out a read connection directly (for callers that hold it across several steps).
    pub fn read_connection(&self) -> Result<PooledConnection, StoreError> {
        Ok(self.read_pool.get()?)
    }

    /// Runs `f` inside a transaction on the write path and returns once it is durably committed
    /// (or rolled back, when `f` fails). Blocking: call it from a blocking context.
    pub fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        match &self.write_path {
            WritePath::Pool(pool) => {
                let mut pooled = pool.get().map_err(StoreError::from)?;
                let conn: &mut DbConnection = &mut pooled;
                conn.transaction(f)
            }
            WritePath::Writer(writer) => writer.submit(f),
        }
    }
}

fn build_pool(manager: ConnectionManager, size: u32) -> Result<DbPool, StoreError> {
    Ok(r2d2::Pool::builder()
        .max_size(size)
        // Keep every connection open (min_idle = max_size): `try_read` only finds idle ones.
        .min_idle(None)
        .connection_timeout(POOL_CHECKOUT_TIMEOUT)
        // No `SELECT 1` on every checkout (3% of a read): a broken connection is detected by
        // `has_broken` after the failing query and replaced.
        .test_on_check_out(false)
        .build(manager)?)
}

/// The single SQLite writer: a thread owning one connection and a queue of writes.
struct WriterThread {
    queue: Option<SyncSender<WriteJob>>,
    thread: Option<JoinHandle<()>>,
}

impl WriterThread {
    fn start(url: &str) -> Result<Self, StoreError> {
        // Connect here so that a bad URL fails at start-up, not on the first write.
        let conn = establish_writer(url)?;
        let (queue, jobs) = sync_channel::<WriteJob>(WRITE_QUEUE_DEPTH);
        let url = url.to_owned();
        let thread = std::thread::Builder::new()
            .name("izreg-sqlite-writer".into())
            .spawn(move || run_writer(url, conn, jobs))
            .map_err(|e| StoreError::Migration(format!("could not start the writer thread: {e}")))?;
        Ok(WriterThread { queue: Some(queue), thread: Some(thread) })
    }

    fn submit<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        let queue = self.queue.as_ref().ok_or(StoreError::WriterGone)?;
        let (reply, result) = sync_channel::<Result<T, E>>(1);
        let job: WriteJob = Box::new(move |conn: &mut DbConnection| {
            // A nested transaction is a savepoint: this write alone rolls back when it fails.
            let outcome = conn.transaction(f);
            Box::new(move |commit: CommitOutcome| {
                let delivered = match (commit, outcome) {
                    (CommitOutcome::Committed, outcome) => outcome,
                    (CommitOutcome::Failed, Err(e)) => Err(e),
                    (CommitOutcome::Failed, Ok(_)) => Err(E::from(StoreError::WriteAborted)),
                };
                // The caller may have gone away (client disconnected); nothing to do then.
                let _ = reply.send(delivered);
            })
        });
        queue.send(job).map_err(|_| StoreError::WriterGone)?;
        // A closed reply channel means the writer dropped the job (a panic while running it).
        result.recv().map_err(|_| E::from(StoreError::WriteAborted))?
    }
}

impl Drop for WriterThread {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish what is queued and stop.
        drop(self.queue.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the SQLite writer thread panicked");
        }
    }
}

fn run_writer(url: String, first_connection: DbConnection, jobs: Receiver<WriteJob>) {
    let mut connection = Some(first_connection);
    while let Ok(first) = jobs.recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_WRITES_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let conn = match connection.take() {
            Some(conn) => conn,
            None => match establish_writer(&url) {
                Ok(conn) => conn,
                Err(error) => {
                    tracing::error!(%error, "the SQLite writer could not reconnect");
                    // Dropping the batch tells every caller that its write was aborted.
                    drop(batch);
                    continue;
                }
            },
        };
        // A panic inside a write (a bug) must not take the writer down with it: the batch is
        // abandoned (its callers see an aborted write) and the connection, whose transaction
        // state is unknown, is replaced.
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let mut conn = conn;
            let healthy = commit_batch(&mut conn, batch);
            healthy.then_some(conn)
        }));
        connection = match run {
            Ok(conn) => conn,
            Err(_) => {
                tracing::error!("a write panicked; the batch was rolled back");
                None
            }
        };
    }
}

/// Runs one batch in one transaction. Returns whether the connection is still usable.
fn commit_batch(conn: &mut DbConnection, batch: Vec<WriteJob>) -> bool {
    if let Err(error) = begin_immediate(conn) {
        tracing::error!(%error, "could not begin a write transaction");
        for job in batch {
            drop(job);
        }
        return false;
    }
    let completions: Vec<Completion> = batch.into_iter().map(|job| job(conn)).collect();
    let outcome = match <DbConnection as Connection>::TransactionManager::commit_transaction(conn) {
        Ok(()) => CommitOutcome::Committed,
        Err(error) => {
            tracing::error!(%error, "committing a batch of writes failed");
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            CommitOutcome::Failed
        }
    };
    for complete in completions {
        complete(outcome);
    }
    outcome == CommitOutcome::Committed
        && !<DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
}

/// `BEGIN IMMEDIATE` takes the write lock up front, so a write never fails half-way with
/// `SQLITE_BUSY` when another process (say `izreg seed`) holds the file.
fn begin_immediate(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(sqlite) => AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE"),
        DbConnection::Postgresql(_) => <DbConnection as Connection>::TransactionManager::begin_transaction(conn),
    }
}
