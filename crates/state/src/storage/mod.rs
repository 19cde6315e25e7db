//! Durable storage under `--storage.path` (DESIGN.md §5; Alertmanager keeps only 15-minute snapshots, reference
//! §6): for silences and for the notification log, an append-only log of changes plus periodic compacted
//! snapshots, so every change the API acknowledged survives `kill -9`.
//!
//! * `files` — on-disk format: frames of `length | CRC-32 | payload`, headers with a generation number.
//! * payloads are Alertmanager's own protobuf `MeshSilence` / `MeshEntry` (hand-written codec), which is also how
//!   Alertmanager's `silences` / `nflog` snapshots are imported on the first start ([`Storage::open`]).
//! * [`DurableLog`] — one writer thread per file, group commit, snapshots and log rotation.
//! * [`DurableSilences`] / [`DurableNflog`] — the stores' write paths that return once the change is fsynced;
//!   every other change (gossip merges) is persisted through the stores' change hooks without blocking anyone.
//!
//! See `docs/operations.md` for the operator's view (files, backup, crash behaviour, migration).

mod codec;
mod crc32;
mod durable;
mod files;
mod flusher;
mod log;
mod proto;
mod recover;
mod store;

pub use durable::{DurableError, DurableNflog, DurableSilences};
pub use log::{DurableLog, LogStats, SnapshotInfo};
pub use store::{MaintenanceReport, Storage, StorageOptions, LOCK_FILE};

use std::path::PathBuf;

/// Storage failures. Start-up errors name the file and, for damaged data, the byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// `--storage.path` cannot be created or written.
    #[error("storage path {} is not usable: {reason}", .path.display())]
    Unwritable { path: PathBuf, reason: String },
    /// Another process holds the storage lock: two writers would interleave records and corrupt the logs.
    #[error("storage path {} is in use by another process (lock file {} is held{holder}); give each tocsin its own --storage.path", .path.display(), .lock.display())]
    Locked { path: PathBuf, lock: PathBuf, holder: String },
    #[error("cannot {op} {}: {reason}", .path.display())]
    Io { op: &'static str, path: PathBuf, reason: String },
    /// A snapshot failed verification; start-up stops rather than lose state silently.
    #[error("corrupt snapshot {} at byte offset {offset}: {reason}", .path.display())]
    CorruptSnapshot { path: PathBuf, offset: u64, reason: String },
    /// A log's header, or a record that passed its checksum but does not decode.
    #[error("corrupt log {} at byte offset {offset}: {reason}", .path.display())]
    CorruptLog { path: PathBuf, offset: u64, reason: String },
    /// Alertmanager's `silences` / `nflog` file could not be imported.
    #[error("cannot import Alertmanager snapshot {} at byte offset {offset}: {reason}", .path.display())]
    CorruptImport { path: PathBuf, offset: u64, reason: String },
    /// The storage was closed (shutdown) before the write could be made durable.
    #[error("storage is closed")]
    Closed,
}
