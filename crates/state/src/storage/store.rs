//! [`Storage`]: opens `--storage.path` at start-up (recovery or import), hooks the silences and the notification
//! log into their durable logs, and runs maintenance (GC then compaction) every `--data.maintenance-interval`.

use super::codec::{decode_entry_cached, decode_silence_cached, encode_entry, encode_silence};
use super::durable::{DurableNflog, DurableSilences};
use super::log::{DurableLog, SnapshotInfo, Start};
use super::recover::{recover, Kind, Recovered, Sink};
use super::StorageError;
use crate::nflog::{state_key, MeshEntry, NotificationLog};
use crate::silences::{MeshSilence, Silences};
use chrono::{DateTime, Utc};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tocsin_model::clock::SharedClock;

/// Where and how to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageOptions {
    /// `--storage.path`.
    pub path: PathBuf,
    /// A log that grows past this many bytes is compacted at once instead of waiting for maintenance, which
    /// bounds start-up replay time (0 disables).
    pub max_log_bytes: u64,
}

impl StorageOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), max_log_bytes: 64 << 20 }
    }
}

/// What one maintenance run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    pub silences_removed: usize,
    pub nflog_removed: usize,
    pub silences: SnapshotInfo,
    pub nflog: SnapshotInfo,
}

/// Durable storage of silences and the notification log.
#[derive(Debug)]
pub struct Storage {
    path: PathBuf,
    silences: DurableSilences,
    nflog: DurableNflog,
    clock: SharedClock,
    /// Held, never read: dropping it (with the storage) releases the directory lock.
    _lock: std::fs::File,
}

const SILENCES: Kind<MeshSilence> = Kind {
    name: "silences",
    upstream: "silences",
    decode: decode_silence_cached,
    encode: encode_silence,
    key: |m| m.silence.id.clone(),
};

const NFLOG: Kind<MeshEntry> = Kind {
    name: "nflog",
    upstream: "nflog",
    decode: decode_entry_cached,
    encode: encode_entry,
    key: |m| state_key(&m.entry.group_key, &m.entry.receiver),
};

/// The lock file's name inside `--storage.path`.
pub const LOCK_FILE: &str = "tocsin.lock";

/// Takes the exclusive lock on `path`, so a second tocsin (or a typo'd unit file starting two) cannot append to
/// the same logs. An advisory `flock`: the kernel drops it when the process dies, even by `kill -9`, so a crash
/// never leaves a stale lock behind. The file holds the owner's PID, for the error the next process prints.
fn lock_dir(path: &Path) -> Result<std::fs::File, StorageError> {
    let lock = path.join(LOCK_FILE);
    let io = |e: std::io::Error| StorageError::Io { op: "lock", path: lock.clone(), reason: e.to_string() };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&lock)
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
                .map(|pid| format!(" by pid {pid}"))
                .unwrap_or_default();
            return Err(StorageError::Locked { path: path.to_path_buf(), lock, holder });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).and_then(|()| writeln!(file, "{}", std::process::id())).map_err(io)?;
    Ok(file)
}

/// Creates `path` if missing and proves it writable, so a bad `--storage.path` fails at start with its name.
fn prepare_dir(path: &Path) -> Result<(), StorageError> {
    let unwritable =
        |e: std::io::Error| StorageError::Unwritable { path: path.to_path_buf(), reason: e.to_string() };
    std::fs::create_dir_all(path).map_err(unwritable)?;
    let probe = path.join(".tocsin-write-test");
    std::fs::File::create(&probe)
        .and_then(|mut f| f.write_all(b"ok").and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(unwritable)
}

fn encode_all<T>(items: Vec<T>, encode: fn(&T) -> Vec<u8>) -> Vec<Vec<u8>> {
    items.iter().map(encode).collect()
}

fn start_log<T>(
    dir: &Path,
    kind: &Kind<T>,
    rec: Recovered,
    max: u64,
    source: super::log::Source,
) -> Result<DurableLog, StorageError> {
    DurableLog::start(Start {
        dir: dir.to_path_buf(),
        name: kind.name,
        file: rec.file,
        generation: rec.generation,
        len: rec.len,
        source,
        max_log_bytes: max,
    })
}

impl Storage {
    /// Opens (creating if needed) the storage directory, loads the stored state into `silences` and `nflog`
    /// (snapshot + log, or Alertmanager's files on the first start), and from then on persists every change of
    /// either. Call it before wiring gossip, so replayed records are not re-broadcast, and before serving.
    ///
    /// Blocking file I/O: call from `main` or `spawn_blocking`.
    pub fn open(
        opts: &StorageOptions,
        silences: Arc<Silences>,
        nflog: Arc<NotificationLog>,
        clock: SharedClock,
    ) -> Result<Self, StorageError> {
        let dir = opts.path.as_path();
        prepare_dir(dir)?;
        let lock = lock_dir(dir)?;
        let now = clock.now();
        // The two kinds are independent files and stores: recover them on two threads, and merge the nflog's
        // chunks into its store on a third while the next chunk is decoded (start-up time is decoding and
        // inserting; a server has more than one core).
        let panicked = |name: &'static str| StorageError::Io {
            op: "recover",
            path: dir.join(name),
            reason: "a recovery thread panicked".to_owned(),
        };
        let (rec_sil, rec_nfl) = std::thread::scope(|scope| {
            let sil = scope.spawn(|| {
                let load = &mut |items: Vec<MeshSilence>| {
                    for m in items {
                        silences.merge(m);
                    }
                };
                recover(dir, &SILENCES, Sink { reserve: &mut |_| {}, load })
            });
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<MeshEntry>>(4);
            let nflog = &nflog;
            let merger = scope.spawn(move || {
                for chunk in rx {
                    for m in chunk {
                        nflog.merge(m, now);
                    }
                }
            });
            let mut send = move |items| {
                // Only fails if the merger panicked, which its join reports.
                let _ = tx.send(items);
            };
            let nfl = recover(dir, &NFLOG, Sink { reserve: &mut |n| nflog.reserve(n), load: &mut send });
            drop(send);
            let nfl = merger.join().map_err(|_| panicked(NFLOG.name)).and(nfl);
            let sil = sil.join().unwrap_or_else(|_| Err(panicked(SILENCES.name)));
            (sil, nfl)
        });
        let (rec_sil, rec_nfl) = (rec_sil?, rec_nfl?);
        tracing::info!(path = %dir.display(), silences = silences.len(), nflog_entries = nflog.len(),
            imported_silences = rec_sil.imported, imported_nflog_entries = rec_nfl.imported, "storage loaded");

        let weak: Weak<Silences> = Arc::downgrade(&silences);
        let source = Box::new(move || weak.upgrade().map(|s| encode_all(s.full_state(), encode_silence)));
        let sil_log = start_log(dir, &SILENCES, rec_sil, opts.max_log_bytes, source)?;
        let weak: Weak<NotificationLog> = Arc::downgrade(&nflog);
        let source = Box::new(move || weak.upgrade().map(|n| encode_all(n.full_state(), encode_entry)));
        let nfl_log = start_log(dir, &NFLOG, rec_nfl, opts.max_log_bytes, source)?;

        // Local and remote changes alike; the hooks run under the stores' write locks and only queue.
        let log = sil_log.clone();
        silences.on_change(move |c| log.enqueue(encode_silence(&c.mesh)));
        let log = nfl_log.clone();
        nflog.on_change(move |c| log.enqueue(encode_entry(&c.mesh)));

        Ok(Self {
            path: dir.to_path_buf(),
            silences: DurableSilences { silences, log: sil_log },
            nflog: DurableNflog { nflog, log: nfl_log },
            clock,
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Durable silence writes for the API.
    pub fn silences(&self) -> &DurableSilences {
        &self.silences
    }

    /// Durable notification-log writes for the set-notifies stage.
    pub fn nflog(&self) -> &DurableNflog {
        &self.nflog
    }

    /// Upstream's maintenance: GC both stores at `now` (dropping what `--data.retention` no longer keeps), then
    /// compact each into a fresh snapshot and an empty log.
    pub async fn maintenance(&self, now: DateTime<Utc>) -> Result<MaintenanceReport, StorageError> {
        let silences_removed = self.silences.silences.gc(now);
        let nflog_removed = self.nflog.nflog.gc(now);
        let silences = self.silences.log.snapshot().await?;
        let nflog = self.nflog.log.snapshot().await?;
        Ok(MaintenanceReport { silences_removed, nflog_removed, silences, nflog })
    }

    /// Runs [`Storage::maintenance`] every `interval` (`--data.maintenance-interval`) until the task is aborted.
    pub fn spawn_maintenance(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + interval;
            let mut ticker = tokio::time::interval_at(start, interval.max(Duration::from_millis(1)));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                match this.maintenance(this.clock.now()).await {
                    Ok(r) => tracing::debug!(
                        silences_removed = r.silences_removed,
                        nflog_removed = r.nflog_removed,
                        silences_snapshot_bytes = r.silences.bytes,
                        nflog_snapshot_bytes = r.nflog.bytes,
                        "maintenance done"
                    ),
                    Err(err) => tracing::error!(%err, "maintenance failed"),
                }
            }
        })
    }

    /// For SIGTERM: makes everything queued durable and compacts both stores into snapshots, so the next start
    /// replays nothing. Writes that arrive later still go to the (new) logs until [`Storage::close`].
    pub async fn flush_and_snapshot(&self) -> Result<(), StorageError> {
        let a = self.silences.log.snapshot().await;
        let b = self.nflog.log.snapshot().await;
        a.and(b).map(|_| ())
    }

    /// Flushes and stops both writers; later durable writes fail with [`StorageError::Closed`].
    pub async fn close(&self) -> Result<(), StorageError> {
        let a = self.silences.log.close().await;
        let b = self.nflog.log.close().await;
        a.and(b)
    }
}
