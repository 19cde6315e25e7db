//! Overlapping fsyncs for one log: the writer thread appends a batch and hands its fsync (with the batch's
//! waiters) to one of a few helper threads, then goes on collecting and appending the next batch while that fsync
//! runs.
//!
//! Why: on the virtualised disks tocsin is measured on, one `fdatasync` takes from 0.1 ms to several ms depending
//! on what else the machine writes, and most of that is waiting, not work; several fsyncs of the same file in
//! flight complete many times more often than back-to-back ones (measured: ~300/s serial vs ~7,000–10,000/s with
//! four in flight under the same load). With a single synchronous fsync, every acknowledgement waits for the
//! fsync in progress plus its own.
//!
//! Correctness: `fdatasync` makes durable everything written to the file before the call began. Writes are
//! numbered; a job's fsync starts after every write up to its number was made (the writer writes, then submits),
//! so when it returns, every waiter registered for that number or a lower one may be told, whatever the order
//! other jobs finish in. A waiter whose records were written by a batch whose fsync is still running joins that
//! fsync instead of starting another.
//!
//! At most [`IN_FLIGHT`] fsyncs run at once; while all helpers are busy the writer blocks in [`Flushers::submit`],
//! so commands queue up and the next batch is bigger (group commit as before).

use super::StorageError;
use parking_lot::Mutex;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Fsyncs of one log in flight at once. Two overlap the next batch's write with the previous fsync; more only add
/// thread switches on a small machine (`make bench`, silences at 16 clients on 2 cores: 16 → 0.88× Alertmanager,
/// 4 → 0.97×, 2 → 0.97–1.08×; with the preallocated log, 2 → 1.05–1.10× and 3 → 1.02–1.06×).
const IN_FLIGHT: usize = 2;

pub(crate) type Ack = oneshot::Sender<Result<(), StorageError>>;

/// Sends `res` to every waiter.
pub(crate) fn answer(waiters: &mut Vec<Ack>, res: &Result<(), StorageError>) {
    for ack in waiters.drain(..) {
        let _ = ack.send(res.clone());
    }
}

/// One fsync to run: of `file` (the log generation `generation`), covering everything written up to write number
/// `seq`.
pub(crate) struct Job {
    pub(crate) file: Arc<File>,
    pub(crate) path: PathBuf,
    pub(crate) generation: u64,
    pub(crate) seq: u64,
}

/// What the helpers report back to the writer.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The highest write number covered by a completed fsync.
    pub(crate) durable_seq: AtomicU64,
    /// Completed fsyncs (the log's `fsyncs` counter).
    pub(crate) fsyncs: AtomicU64,
    /// The first fsync failure not yet seen by the writer: (generation, reason).
    failure: Mutex<Option<(u64, String)>>,
    /// Waiters and the write number each needs covered.
    pending: Mutex<Vec<(u64, Ack)>>,
}

impl Shared {
    /// The failure of an fsync of generation `generation`, if one happened since the last call (failures of older
    /// generations are dropped: a snapshot has superseded that file).
    pub(crate) fn take_failure(&self, generation: u64) -> Option<String> {
        self.failure.lock().take().filter(|(g, _)| *g == generation).map(|(_, reason)| reason)
    }

    /// Registers waiters that need write number `seq` durable; answers them at once if it already is.
    pub(crate) fn wait_for(&self, seq: u64, waiters: &mut Vec<Ack>) {
        let mut pending = self.pending.lock();
        // Checked under the lock: a helper raises `durable_seq` before it takes the lock to answer.
        if self.durable_seq.load(Ordering::Acquire) >= seq {
            drop(pending);
            answer(waiters, &Ok(()));
        } else {
            pending.extend(waiters.drain(..).map(|ack| (seq, ack)));
        }
    }

    /// Marks write number `seq` durable (or failed) and answers every waiter it covers.
    pub(crate) fn settle(&self, seq: u64, res: &Result<(), StorageError>) {
        if res.is_ok() {
            self.durable_seq.fetch_max(seq, Ordering::AcqRel);
        }
        let mut done = Vec::new();
        {
            let mut pending = self.pending.lock();
            let mut i = 0;
            while i < pending.len() {
                if pending[i].0 <= seq {
                    done.push(pending.swap_remove(i).1);
                } else {
                    i += 1;
                }
            }
        }
        answer(&mut done, res);
    }
}

/// The helper threads of one log.
pub(crate) struct Flushers {
    tx: Option<SyncSender<Job>>,
    threads: Vec<JoinHandle<()>>,
    pub(crate) shared: Arc<Shared>,
}

fn run_job(shared: &Shared, job: Job) {
    let Job { file, path, generation, seq } = job;
    let res = match file.sync_data() {
        Ok(()) => {
            shared.fsyncs.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => {
            let reason = e.to_string();
            tracing::error!(file = %path.display(), err = %reason, "syncing the log failed");
            shared.failure.lock().get_or_insert((generation, reason.clone()));
            Err(StorageError::Io { op: "append to", path, reason })
        }
    };
    shared.settle(seq, &res);
}

fn helper(rx: &Mutex<Receiver<Job>>, shared: &Shared) {
    loop {
        // Only one idle helper waits in `recv`; the others wait for the lock. Released before the fsync.
        let job = rx.lock().recv();
        match job {
            Ok(job) => run_job(shared, job),
            Err(_) => return,
        }
    }
}

impl Flushers {
    /// Starts the helpers; with none (threads cannot be spawned) jobs run on the writer's thread.
    pub(crate) fn start(name: &str) -> Self {
        let shared = Arc::new(Shared::default());
        // A rendezvous channel: `submit` returns once a helper has taken the job.
        let (tx, rx) = sync_channel::<Job>(0);
        let rx = Arc::new(Mutex::new(rx));
        let mut threads = Vec::new();
        for i in 0..IN_FLIGHT {
            let (rx, shared) = (Arc::clone(&rx), Arc::clone(&shared));
            match std::thread::Builder::new()
                .name(format!("tocsin-fsync-{name}-{i}"))
                .spawn(move || helper(&rx, &shared))
            {
                Ok(t) => threads.push(t),
                Err(err) => {
                    tracing::warn!(%err, "cannot start an fsync helper; syncing on the writer thread")
                }
            }
        }
        let tx = (!threads.is_empty()).then_some(tx);
        Self { tx, threads, shared }
    }

    /// Hands `job` to a free helper, blocking while all are busy (runs it here if none is left).
    pub(crate) fn submit(&self, job: Job) {
        let job = match &self.tx {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(back) => back.0,
            },
            None => job,
        };
        run_job(&self.shared, job);
    }

    /// Waits for every submitted fsync to finish and stops the helpers.
    pub(crate) fn finish(&mut self) {
        self.tx = None;
        for t in self.threads.drain(..) {
            // A helper that panicked has answered nothing; its waiters see `Closed` as their senders drop.
            let _ = t.join();
        }
    }
}

impl Drop for Flushers {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(
        f: &Flushers,
        file: &Arc<File>,
        seq: u64,
        n: usize,
    ) -> Vec<oneshot::Receiver<Result<(), StorageError>>> {
        let (mut waiters, rxs): (Vec<_>, Vec<_>) = (0..n).map(|_| oneshot::channel()).unzip();
        f.shared.wait_for(seq, &mut waiters);
        f.submit(Job { file: Arc::clone(file), path: PathBuf::from("x"), generation: 1, seq });
        rxs
    }

    #[test]
    fn every_waiter_is_answered_and_durable_seq_advances() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = Arc::new(File::create(dir.path().join("a.log")).expect("create"));
        let mut f = Flushers::start("test");
        let mut all = Vec::new();
        for seq in 1..=20 {
            all.extend(job(&f, &file, seq, 3));
        }
        f.finish();
        for mut rx in all {
            assert_eq!(rx.try_recv().expect("answered"), Ok(()));
        }
        assert_eq!(f.shared.durable_seq.load(Ordering::Acquire), 20);
        assert_eq!(f.shared.fsyncs.load(Ordering::Relaxed), 20);
        assert_eq!(f.shared.take_failure(1), None);
        // Covered already: answered without an fsync.
        let (ack, mut rx) = oneshot::channel();
        f.shared.wait_for(20, &mut vec![ack]);
        assert_eq!(rx.try_recv().expect("answered"), Ok(()));
    }

    #[test]
    fn a_later_write_settles_earlier_waiters() {
        let shared = Shared::default();
        let (a, mut ra) = oneshot::channel();
        let (b, mut rb) = oneshot::channel();
        shared.wait_for(1, &mut vec![a]);
        shared.wait_for(3, &mut vec![b]);
        shared.settle(2, &Ok(()));
        assert_eq!(ra.try_recv().expect("answered"), Ok(()));
        assert!(rb.try_recv().is_err(), "not covered yet");
        shared.settle(3, &Err(StorageError::Closed));
        assert_eq!(rb.try_recv().expect("answered"), Err(StorageError::Closed));
        assert_eq!(shared.durable_seq.load(Ordering::Acquire), 2);
    }
}
