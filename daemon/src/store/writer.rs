//! The single writer with group commit.
//!
//! Every mutation is a closure sent to one writer thread. The thread takes the
//! first waiting job, then every job that queued up behind it (up to
//! [`Writer::DEFAULT_MAX_BATCH`]), runs them all in one write transaction and
//! commits once, durably. No job is answered before the commit is durable, so
//! an acknowledged write is never lost; a failed commit fails every job in the
//! batch, none of which was acknowledged. After a failed commit (a full disk)
//! redb refuses every later operation until the database is reopened, so the
//! thread reopens the store at once, and before the next batch if that
//! failed: writes work again as soon as the disk takes them.
//!
//! A job that fails (its own validation, inside the transaction) must not spoil
//! the others. redb's savepoints can only be taken on a clean transaction, so
//! instead the batch is aborted and run again without the failed jobs, which
//! are answered with their errors at once. Jobs are therefore `Fn`: re-runnable
//! from their captured input, with no side effects outside the transaction.
//! Failures are rare (most validation happens before a job is submitted), so
//! the common case is one pass.
//!
//! While one batch is being fsync'd the next one queues, so the batch size
//! grows with load by itself: one client pays one fsync per write, sixty-four
//! clients share one.
//!
//! A scratch store (the replay harness) has no fsync to share, so its writer
//! runs each job on the caller's thread, in the store's open [`Session`]
//! ([`Writer::session`]): a sequential replay otherwise spent a third of its
//! time handing every step to the writer thread and waking up again, and
//! half of the rest committing a transaction per step.

use super::{Session, Store, StoreError};
use redb::WriteTransaction;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Why a submitted write did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError<E> {
    /// The job refused (its own validation); nothing of it was written.
    #[error("{0}")]
    Rejected(E),
    /// The store failed; nothing of the batch was written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

trait Job: Send {
    /// Apply to the transaction; false if the job failed and must be rolled back.
    fn apply(&mut self, txn: &WriteTransaction) -> bool;
    /// Answer the submitter once the batch's fate is known.
    fn finish(self: Box<Self>, committed: Result<(), StoreError>);
}

struct TypedJob<T, E, F> {
    work: F,
    outcome: Option<Result<T, WriteError<E>>>,
    reply: oneshot::Sender<Result<T, WriteError<E>>>,
}

impl<T, E, F> Job for TypedJob<T, E, F>
where
    T: Send,
    E: Send,
    F: Fn(&WriteTransaction) -> Result<T, WriteError<E>> + Send,
{
    fn apply(&mut self, txn: &WriteTransaction) -> bool {
        let outcome = (self.work)(txn);
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<(), StoreError>) {
        let answer = match (self.outcome, committed) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)), Err(e)) | (None, Err(e)) => Err(WriteError::Store(e)),
            (None, Ok(())) => Err(WriteError::Store(StoreError::Storage(
                "job was not applied".into(),
            ))),
        };
        // The submitter may have gone away (client disconnected); the write
        // stands either way.
        let _ = self.reply.send(answer);
    }
}

/// Handle to the writer thread. Dropping it lets the thread finish the jobs
/// already queued and waits for it, so the database is closed when the drop
/// returns (a restart in the same process can open it again at once).
pub struct Writer {
    tx: Option<mpsc::UnboundedSender<Box<dyn Job>>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Set for a scratch store's writer: jobs run in its session.
    session: Option<Arc<Session>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the writer thread panicked");
        }
    }
}

impl Writer {
    /// Jobs per transaction at most; bounds the latency a large batch adds.
    pub const DEFAULT_MAX_BATCH: usize = 256;

    /// The writer for `store`: its session's for a scratch store, else a
    /// writer thread (see [`Writer::start`]).
    pub fn for_store(store: &Store, max_batch: usize) -> Writer {
        match store.session() {
            Some(session) => Writer::session(session),
            None => Writer::start(store.clone(), max_batch),
        }
    }

    /// Start the writer thread. `max_batch = 1` gives one commit per request
    /// (the baseline the group-commit benchmark compares against).
    fn start(store: Store, max_batch: usize) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("rulesd-writer".into())
            .spawn(move || run(store, rx, max_batch.max(1)))
            .expect("spawning the writer thread");
        Writer {
            tx: Some(tx),
            thread: Some(thread),
            session: None,
        }
    }

    /// A writer that runs every job on the calling thread in a scratch
    /// store's session: there is no fsync for concurrent jobs to share, and
    /// no thread hand-off per write. A job's answer comes before its commit
    /// (see [`Session`]), so this is not for a daemon serving requests.
    fn session(session: Arc<Session>) -> Writer {
        Writer {
            tx: None,
            thread: None,
            session: Some(session),
        }
    }

    /// Run `work` in a write transaction and return its result once the
    /// transaction has committed (durably), or for a scratch store once it
    /// is visible to every read after it. `work` may run more than once (see
    /// the module docs); only the run in the committed transaction counts.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, WriteError<E>>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: Fn(&WriteTransaction) -> Result<T, WriteError<E>> + Send + 'static,
    {
        if let Some(session) = &self.session {
            return session.write(work);
        }
        let (reply, answer) = oneshot::channel();
        let job = TypedJob {
            work,
            outcome: None,
            reply,
        };
        self.tx
            .as_ref()
            .ok_or(WriteError::Store(StoreError::WriterGone))?
            .send(Box::new(job))
            .map_err(|_| WriteError::Store(StoreError::WriterGone))?;
        answer
            .await
            .unwrap_or(Err(WriteError::Store(StoreError::WriterGone)))
    }
}

fn run(store: Store, mut rx: mpsc::UnboundedReceiver<Box<dyn Job>>, max_batch: usize) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(max_batch);
    let mut reopen = false;
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if reopen {
            // The last batch failed in the store: redb refuses everything
            // until the database is opened again.
            if let Err(e) = store.reopen() {
                fail_all(std::mem::take(&mut batch), e);
                continue;
            }
            tracing::info!("the store was reopened after a failed write");
        }
        reopen = commit_batch(&store, std::mem::take(&mut batch));
        if reopen {
            // At once, not with the next write: reads fail too until then.
            match store.reopen() {
                Ok(()) => {
                    tracing::info!("the store was reopened after a failed write");
                    reopen = false;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot reopen the store yet; trying again with the next write");
                }
            }
        }
    }
}

/// Apply the batch, dropping failed jobs and re-running the rest until one
/// pass has no failure, then commit and answer everyone. True if the store
/// failed (a transaction could not begin or commit): it must be reopened.
fn commit_batch(store: &Store, mut jobs: Vec<Box<dyn Job>>) -> bool {
    while !jobs.is_empty() {
        let txn = match store.begin_write() {
            Ok(txn) => txn,
            Err(e) => {
                fail_all(jobs, e);
                return true;
            }
        };
        let mut failed = Vec::new();
        for (i, job) in jobs.iter_mut().enumerate() {
            // A panicking job is a bug, but it must not take the writer (and
            // every later write) down with it.
            let applied =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.apply(&txn)))
                    .unwrap_or(false);
            if !applied {
                failed.push(i);
            }
        }
        if failed.is_empty() {
            let committed = txn.commit().map_err(StoreError::from);
            if let Err(e) = &committed {
                tracing::error!(error = %e, jobs = jobs.len(), "commit failed; nothing of the batch was acknowledged");
            }
            let failed = committed.is_err();
            for job in jobs {
                job.finish(committed.clone());
            }
            return failed;
        }
        drop(txn); // abort: nothing of this pass is kept
        for i in failed.into_iter().rev() {
            // Its outcome is its error; nothing of it will be committed.
            jobs.remove(i).finish(Ok(()));
        }
    }
    false
}

fn fail_all(jobs: Vec<Box<dyn Job>>, e: StoreError) {
    tracing::error!(error = %e, jobs = jobs.len(), "cannot start a write transaction");
    for job in jobs {
        job.finish(Err(e.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::META;

    #[tokio::test]
    async fn a_scratch_stores_writer_runs_jobs_on_the_callers_thread() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_scratch(dir.path()).unwrap();
        let writer = Writer::for_store(&store, Writer::DEFAULT_MAX_BATCH);
        let caller = std::thread::current().id();
        let ran_on = writer
            .write(move |txn| {
                txn.open_table(META)
                    .map_err(StoreError::from)?
                    .insert("test", 1)
                    .map_err(StoreError::from)?;
                Ok::<_, WriteError<String>>(std::thread::current().id())
            })
            .await
            .unwrap();
        assert_eq!(ran_on, caller);
        assert!(writer.thread.is_none());
    }
}
