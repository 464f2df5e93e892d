//! The threads that run read-only database calls (searches, history, vread).
//!
//! Diesel is blocking, so database calls run off the async workers. actix's blocking pool starts
//! up to 256 threads per worker: under a read-heavy load dozens of them were busy at once, each
//! parked on the connection pool's condition variable and woken in turn, while the operating
//! system shared the two cores among them all. Reads now go to a few threads of their own, as
//! many as the cores can keep busy; a queued read costs no thread, and a thread that finishes one
//! takes the next from the queue without a hand-off through the async worker.
//!
//! Writes stay on actix's pool: the single writer commits together whatever changes are waiting
//! (group commit), and it can only do that if many of them can wait at once.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::{HttpRequest, web};
use tokio::sync::oneshot;

use super::fhir_io::HttpSettings;
use crate::store::Backend;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads running read-only database calls in arrival order. Cloning shares it;
/// the threads stop once every clone is gone.
#[derive(Debug, Clone)]
pub struct ReadPool {
    jobs: Sender<Job>,
    threads: usize,
}

/// Why a read sent to the pool gave no result.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadPoolError {
    /// The pool's threads are gone (they stop only when the server does).
    #[error("the read pool has stopped")]
    Stopped,
    /// The read panicked (logged by the thread that ran it).
    #[error("the read panicked")]
    Panicked,
}

impl ReadPool {
    /// Starts `threads` threads (at least one).
    pub fn start(threads: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new().name(format!("izreg-read-{n}")).spawn(move || run_reads(&queue))?;
        }
        Ok(ReadPool { jobs, threads })
    }

    /// How many threads it runs.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on one of the pool's threads and waits for its result without blocking.
    pub async fn run<F, R>(&self, f: F) -> Result<R, ReadPoolError>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (result, answer) = oneshot::channel();
        // A caller that has gone away drops `answer`; the read still finishes, unheard.
        let job: Job = Box::new(move || {
            let _ = result.send(f());
        });
        self.jobs.send(job).map_err(|_| ReadPoolError::Stopped)?;
        // The result sender is dropped without an answer only when the read unwound.
        answer.await.map_err(|_| ReadPoolError::Panicked)
    }
}

fn run_reads(queue: &Mutex<Receiver<Job>>) {
    loop {
        // One thread waits on the queue at a time; the others wait for the lock.
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else { return };
        // A panicking read answers its caller with an error (its result sender is dropped) and
        // must not take the thread with it.
        if std::panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("a read panicked");
        }
    }
}

/// The default number of read threads. An embedded SQLite read is CPU work in this process: two
/// per core keep the cores busy while one waits on the disk, and more only contend. A PostgreSQL
/// read mostly waits on the database server: one per connection.
pub fn default_read_threads(backend: Backend, pool_size: u32) -> usize {
    let pool_size = usize::try_from(pool_size).unwrap_or(usize::MAX).max(1);
    match backend {
        Backend::Sqlite => {
            let cores = std::thread::available_parallelism().map(std::num::NonZero::get).unwrap_or(2);
            cores.saturating_mul(2).min(pool_size)
        }
        Backend::Postgres => pool_size,
    }
}

/// Runs a read-only database call `f` on the application's read pool (on actix's blocking pool
/// when the application has none).
pub async fn block_read<F, R>(req: &HttpRequest, f: F) -> Result<R, super::error::ApiError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match req.app_data::<web::Data<HttpSettings>>() {
        Some(settings) => Ok(settings.read_pool.run(f).await?),
        None => Ok(web::block(f).await?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_reads_use_every_connection_and_sqlite_reads_at_most_two_per_core() {
        assert_eq!(default_read_threads(Backend::Postgres, 8), 8);
        let cores = std::thread::available_parallelism().map(std::num::NonZero::get).unwrap_or(2);
        assert_eq!(default_read_threads(Backend::Sqlite, 1000), cores * 2);
        assert_eq!(default_read_threads(Backend::Sqlite, 1), 1);
        assert_eq!(default_read_threads(Backend::Postgres, 0), 1);
    }

    #[test]
    fn a_panicked_read_is_a_server_error_and_a_stopped_pool_a_retry_later() {
        use actix_web::ResponseError;
        use actix_web::http::StatusCode;
        let status = |error| super::super::error::ApiError::from(error).status_code();
        assert_eq!(status(ReadPoolError::Panicked), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(status(ReadPoolError::Stopped), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[actix_web::test]
    async fn reads_beyond_the_threads_wait_their_turn_and_a_panic_keeps_the_thread() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pool = ReadPool::start(2).unwrap();
        assert_eq!(pool.threads(), 2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut reads = Vec::new();
        for _ in 0..6 {
            let (pool, running, most) = (pool.clone(), Arc::clone(&running), Arc::clone(&most));
            reads.push(actix_web::rt::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        for read in reads {
            read.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2, "never more than the threads at once, and both used");

        let panicked = pool.run(|| -> u8 { panic!("a broken read") }).await;
        assert_eq!(panicked, Err(ReadPoolError::Panicked));
        for _ in 0..4 {
            assert_eq!(pool.run(|| 7).await.unwrap(), 7, "both threads still serve");
        }
    }
}
