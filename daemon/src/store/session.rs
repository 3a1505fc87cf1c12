//! A scratch store's session: one write transaction kept open across many
//! writes and reads, committed every [`COMMIT_EVERY`] writes and on flush.
//!
//! Why: a replay runs its steps one after another, each a read and a write.
//! With a transaction per step, redb copied every B-tree page a step touched
//! (about ten tables per billing operation) and committed it: over half of a
//! step's time. In one open transaction a page is copied once and then
//! changed in place. A scratch store is never fsync'd (a crash loses a run
//! that can be run again), so answering a write before its commit loses
//! nothing the durable path promises; reads see it because they go through
//! the same transaction ([`super::View::Session`]).
//!
//! A write that fails must leave nothing behind, but redb takes savepoints
//! only on a clean transaction. So, like the durable writer's batches, the
//! session keeps the writes applied since the last commit (jobs are `Fn`,
//! re-runnable from their captured input) and on a failure abandons the
//! transaction and applies them again. Failures inside the writer are rare
//! (validation runs before a job is submitted), and the re-run is bounded by
//! [`COMMIT_EVERY`]. Should a re-run not apply (a job that is not
//! deterministic, or a storage error), the acknowledged writes are gone: the
//! session then refuses every later read and write with that error instead
//! of carrying on with a store that silently lacks them.

use super::StoreError;
use super::writer::WriteError;
use redb::{Database, Durability, WriteTransaction};
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard};

/// Writes per commit: as many jobs as the durable writer's largest batch, so
/// a scratch store keeps no more jobs (and their captured input, up to a
/// daily-job chunk each) in memory than a durable one. It also bounds redb's
/// dirty pages and the work a failed write costs. At this size the commit's
/// share of a replay step is already small (4,096 measured no different).
pub const COMMIT_EVERY: usize = super::Writer::DEFAULT_MAX_BATCH;

/// A write applied in the open transaction, kept to apply it again.
type Applied = Box<dyn Fn(&WriteTransaction) -> bool + Send>;

struct State {
    txn: Option<WriteTransaction>,
    /// The writes in `txn`, in order.
    applied: Vec<Applied>,
    /// Set once acknowledged writes were lost; every later use fails with it.
    broken: Option<StoreError>,
}

pub struct Session {
    db: Arc<Database>,
    state: Mutex<State>,
}

/// The session locked, with its transaction open: what a
/// [`super::View::Session`] reads through.
pub struct Open<'s> {
    state: MutexGuard<'s, State>,
    _held: Held,
}

thread_local! {
    /// The sessions this thread holds locked (by address).
    static HELD: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Marks a session as locked by this thread while it lives, so a second
/// lock from the same thread (a read nested in another read, or inside a
/// write job) is refused with an error instead of deadlocking.
struct Held(usize);

impl Held {
    fn take(session: &Session) -> Result<Held, StoreError> {
        let id = session as *const Session as usize;
        HELD.with_borrow_mut(|held| {
            if held.contains(&id) {
                return Err(StoreError::Storage(
                    "the scratch store was read or written while this thread already \
                     held it (a read nested in another read or in a write job: a bug)"
                        .into(),
                ));
            }
            held.push(id);
            Ok(Held(id))
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.with_borrow_mut(|held| held.retain(|&id| id != self.0));
    }
}

impl Open<'_> {
    pub fn txn(&self) -> &WriteTransaction {
        self.state
            .txn
            .as_ref()
            .expect("an open session has its transaction")
    }
}

impl Session {
    pub fn new(db: Arc<Database>) -> Session {
        Session {
            db,
            state: Mutex::new(State {
                txn: None,
                applied: Vec::new(),
                broken: None,
            }),
        }
    }

    fn lock(&self) -> Result<(MutexGuard<'_, State>, Held), StoreError> {
        let held = Held::take(self)?;
        // Jobs run under catch_unwind, so nothing panics while holding the
        // lock; should it ever be poisoned, the state is still consistent.
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        Ok((state, held))
    }

    /// Lock the session with its transaction open, for reading.
    pub fn open(&self) -> Result<Open<'_>, StoreError> {
        let (mut state, held) = self.lock()?;
        state.ensure(&self.db)?;
        Ok(Open { state, _held: held })
    }

    /// Run `work` in the session's transaction. Its writes are visible to
    /// every read and write after it; they are committed with the next
    /// commit. A job that fails (or panics) leaves nothing behind.
    pub fn write<T, E, F>(&self, work: F) -> Result<T, WriteError<E>>
    where
        F: Fn(&WriteTransaction) -> Result<T, WriteError<E>> + Send + 'static,
    {
        let (mut state, _held) = self.lock()?;
        state.ensure(&self.db)?;
        let outcome = {
            let txn = state.txn.as_ref().expect("ensured above");
            catch_unwind(AssertUnwindSafe(|| work(txn)))
        };
        match outcome {
            Ok(Ok(value)) => {
                state.applied.push(Box::new(move |txn| work(txn).is_ok()));
                if state.applied.len() >= COMMIT_EVERY {
                    state.commit()?;
                }
                Ok(value)
            }
            Ok(Err(e)) => {
                state.roll_back(&self.db)?;
                Err(e)
            }
            Err(_) => {
                state.roll_back(&self.db)?;
                Err(WriteError::Store(StoreError::Storage(
                    "a write job panicked; nothing of it was written".into(),
                )))
            }
        }
    }

    /// Commit every write so far (not fsync'd).
    pub fn commit(&self) -> Result<(), StoreError> {
        self.lock()?.0.commit()
    }

    /// Commit every write so far and make it durable. Both under the lock:
    /// had the lock been let go between them, another thread (a request, a
    /// daemon task) could open the session's transaction again, and the
    /// durable transaction would wait for it forever (redb has one writer).
    pub fn flush(&self) -> Result<(), StoreError> {
        let (mut state, _held) = self.lock()?;
        state.commit()?;
        super::begin_durable(&self.db)?.commit()?;
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = state.commit() {
            tracing::error!(error = %e, "closing the scratch store");
        }
    }
}

impl State {
    fn ensure(&mut self, db: &Database) -> Result<(), StoreError> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        if self.txn.is_none() {
            let mut txn = db.begin_write()?;
            txn.set_durability(Durability::None)?;
            self.txn = Some(txn);
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        let Some(txn) = self.txn.take() else {
            return Ok(());
        };
        let applied = std::mem::take(&mut self.applied).len();
        txn.commit()
            .map_err(|e| self.lose(applied, &StoreError::from(e)))
    }

    /// Abandon the transaction and apply the writes it held again.
    fn roll_back(&mut self, db: &Database) -> Result<(), StoreError> {
        drop(self.txn.take());
        if let Err(e) = self.ensure(db) {
            return Err(self.lose(self.applied.len(), &e));
        }
        let txn = self.txn.as_ref().expect("ensured above");
        let diverged = self
            .applied
            .iter()
            .position(|job| !catch_unwind(AssertUnwindSafe(|| job(txn))).unwrap_or(false));
        match diverged {
            None => Ok(()),
            Some(i) => Err(self.lose(
                self.applied.len(),
                &StoreError::Storage(format!(
                    "write {} of {} did not apply again after a failed write",
                    i + 1,
                    self.applied.len()
                )),
            )),
        }
    }

    fn lose(&mut self, writes: usize, cause: &StoreError) -> StoreError {
        let e = StoreError::Storage(format!(
            "the scratch store lost its last {writes} writes ({cause}); run again"
        ));
        self.txn = None;
        self.applied.clear();
        self.broken = Some(e.clone());
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{META, Store};
    use redb::ReadableTable;

    fn set(
        key: &'static str,
        value: u64,
    ) -> impl Fn(&WriteTransaction) -> Result<(), WriteError<String>> + Send + 'static {
        move |txn| {
            txn.open_table(META)
                .map_err(StoreError::from)?
                .insert(key, value)
                .map_err(StoreError::from)?;
            Ok(())
        }
    }

    /// A scratch store in a new directory (kept alive by the caller) and its session.
    fn scratch() -> (tempfile::TempDir, Store, Arc<Session>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_scratch(dir.path()).unwrap();
        let session = store.session().unwrap();
        (dir, store, session)
    }

    fn get(store: &Store, key: &str) -> Option<u64> {
        let view = store.read().unwrap();
        let meta = view.open_table(META).unwrap();
        meta.get(key).unwrap().map(|v| v.value())
    }

    #[test]
    fn reads_see_writes_before_their_commit_and_a_reopen_sees_them_after() {
        let (dir, store, session) = scratch();
        for i in 0..3 {
            session.write(set("n", i)).unwrap();
            assert_eq!(get(&store, "n"), Some(i));
        }
        drop(session);
        drop(store);
        let reopened = Store::open(dir.path()).unwrap();
        assert_eq!(get(&reopened, "n"), Some(2));
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_keeps_the_writes_before_it() {
        let (_dir, store, session) = scratch();
        session.write(set("a", 1)).unwrap();
        session.write(set("b", 2)).unwrap();
        let refused = session.write(|txn| {
            set("a", 99)(txn)?;
            set("c", 3)(txn)?;
            Err::<(), _>(WriteError::Rejected("no".to_string()))
        });
        assert!(matches!(refused, Err(WriteError::Rejected(ref m)) if m == "no"));
        let panicked: Result<(), _> = session.write(|txn| {
            set("a", 98)(txn)?;
            panic!("a bug in a job");
        });
        assert!(matches!(panicked, Err(WriteError::<String>::Store(_))));
        assert_eq!(
            (get(&store, "a"), get(&store, "b"), get(&store, "c")),
            (Some(1), Some(2), None)
        );
        // Writes go on after a rollback, and across periodic commits.
        for i in 0..COMMIT_EVERY as u64 + 3 {
            session.write(set("d", i)).unwrap();
        }
        assert_eq!(get(&store, "d"), Some(COMMIT_EVERY as u64 + 2));
        assert_eq!(get(&store, "a"), Some(1));
    }

    /// A read on another thread between the session's commit and the
    /// durable commit of a flush used to open the session's transaction
    /// again, and the flush then waited for it forever (a replay hung).
    #[test]
    fn a_flush_is_not_stalled_by_reads_on_another_thread() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let (_dir, store, session) = scratch();
        session.write(set("n", 1)).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(get(&store, "n"), Some(1));
                }
            })
        };
        let (done, flushed) = std::sync::mpsc::channel();
        let flusher = store.clone();
        std::thread::spawn(move || {
            for _ in 0..300 {
                flusher.flush().unwrap();
            }
            done.send(()).unwrap();
        });
        let outcome = flushed.recv_timeout(std::time::Duration::from_secs(60));
        stop.store(true, Ordering::Relaxed);
        reader.join().unwrap();
        outcome.expect("a flush waited for the session a reader had opened again");
    }

    #[test]
    fn a_nested_read_is_an_error_not_a_deadlock() {
        let (_dir, store, _) = scratch();
        let outer = store.read().unwrap();
        let Err(e) = store.read() else {
            panic!("a nested read must be refused");
        };
        assert!(e.to_string().contains("already held it"), "{e}");
        drop(outer);
        assert!(store.read().is_ok());
        let inner = store.clone();
        let nested = store
            .session()
            .unwrap()
            .write(move |_| Ok::<_, WriteError<String>>(inner.read().is_err()));
        assert!(nested.unwrap());
    }

    #[test]
    fn a_write_that_does_not_apply_again_breaks_the_session_loudly() {
        let (_dir, store, session) = scratch();
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = runs.clone();
        // Succeeds the first time only: not re-runnable, a bug in a job.
        session
            .write(move |txn| {
                if counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 {
                    return Err(WriteError::Rejected("changed its mind".to_string()));
                }
                set("a", 1)(txn)
            })
            .unwrap();
        let failed = session.write(|_| Err::<(), _>(WriteError::Rejected("no".to_string())));
        let Err(WriteError::Store(e)) = failed else {
            panic!("expected the session to report the lost write, got {failed:?}");
        };
        assert!(e.to_string().contains("lost its last 1 writes"), "{e}");
        assert!(store.read().is_err());
        assert!(session.write(set("b", 2)).is_err());
    }
}
