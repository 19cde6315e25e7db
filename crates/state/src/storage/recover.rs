//! Start-up recovery of one kind of state: snapshot, then the log on top of it (the last record of a key wins),
//! or, on the very first start in a directory that Alertmanager used, an import of Alertmanager's snapshot file.

use super::codec::DecodeError;
use super::files::{self, Parsed};
use super::StorageError;
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

/// How one kind of state is stored.
pub(crate) struct Kind<T> {
    /// Our file stem: `silences` → `silences.snap`, `silences.log`.
    pub(crate) name: &'static str,
    /// Alertmanager's snapshot file name in the same directory.
    pub(crate) upstream: &'static str,
    pub(crate) decode: fn(&[u8], u64) -> Result<T, DecodeError>,
    pub(crate) encode: fn(&T) -> Vec<u8>,
    /// Identity of a record: a later record with the same key replaces an earlier one.
    pub(crate) key: fn(&T) -> String,
}

/// The recovered state and the log, open and positioned for appending.
pub(crate) struct Recovered<T> {
    pub(crate) items: Vec<T>,
    pub(crate) generation: u64,
    pub(crate) file: File,
    pub(crate) len: u64,
    /// Records imported from Alertmanager's file (0 when there was none to import).
    pub(crate) imported: usize,
}

fn replay<T>(
    parsed: &Parsed,
    kind: &Kind<T>,
    into: &mut HashMap<String, T>,
    corrupt: impl Fn(u64, String) -> StorageError,
) -> Result<(), StorageError> {
    for (offset, payload) in parsed.records() {
        let item = (kind.decode)(payload, offset).map_err(|e| corrupt(e.offset(), e.reason().to_owned()))?;
        into.insert((kind.key)(&item), item);
    }
    Ok(())
}

pub(crate) fn recover<T>(dir: &Path, kind: &Kind<T>) -> Result<Recovered<T>, StorageError> {
    files::remove_temp_files(dir, kind.name)?;
    let snap_path = files::snap_path(dir, kind.name);
    let log_path = files::log_path(dir, kind.name);
    let snap = files::read_snapshot(&snap_path)?;
    let log = files::scan_log(&log_path)?;
    let upstream = dir.join(kind.upstream);

    if snap.is_none() && log.is_none() {
        if upstream.is_file() {
            return import(dir, kind, &upstream);
        }
        let file = files::create_log(dir, kind.name, 0)?;
        let len = files::LOG_HEADER_LEN as u64;
        return Ok(Recovered { items: Vec::new(), generation: 0, file, len, imported: 0 });
    }
    if upstream.is_file() {
        tracing::debug!(file = %upstream.display(), "Alertmanager's snapshot ignored: tocsin's own files exist");
    }

    let mut items = HashMap::new();
    let snap_generation = snap.as_ref().map(|s| s.generation);
    if let Some(snap) = &snap {
        replay(snap, kind, &mut items, |offset, reason| StorageError::CorruptSnapshot {
            path: snap_path.clone(),
            offset,
            reason,
        })?;
    }
    let base = snap_generation.unwrap_or(0);
    let (generation, file, len) = match log {
        Some(log) if log.generation >= base => {
            if log.generation > base || (snap_generation.is_none() && log.generation > 0) {
                tracing::warn!(file = %log_path.display(), generation = log.generation, snapshot_generation = ?snap_generation,
                    "the snapshot this log continues is missing; replaying the log alone");
            }
            replay(&log, kind, &mut items, |offset, reason| StorageError::CorruptLog {
                path: log_path.clone(),
                offset,
                reason,
            })?;
            if let Some((offset, reason)) = &log.torn {
                let dropped = log.bytes.len() - log.good_len;
                tracing::warn!(file = %log_path.display(), offset, dropped_bytes = dropped, %reason,
                    "dropping a torn or partially written tail of the log (never acknowledged)");
            }
            let file = files::open_log(&log_path, log.good_len as u64)?;
            (log.generation, file, log.good_len as u64)
        }
        Some(log) => {
            tracing::info!(file = %log_path.display(), generation = log.generation, snapshot_generation = base,
                "discarding a log already contained in the newer snapshot");
            (base, files::create_log(dir, kind.name, base)?, files::LOG_HEADER_LEN as u64)
        }
        None => (base, files::create_log(dir, kind.name, base)?, files::LOG_HEADER_LEN as u64),
    };
    Ok(Recovered { items: items.into_values().collect(), generation, file, len, imported: 0 })
}

/// Reads Alertmanager's varint-length-delimited snapshot `path` (keeping it untouched).
pub(crate) fn read_upstream<T>(path: &Path, kind: &Kind<T>) -> Result<Vec<T>, StorageError> {
    let bytes = std::fs::read(path).map_err(|e| StorageError::Io {
        op: "read",
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let corrupt = |offset: u64, reason: String| StorageError::CorruptImport {
        path: path.to_path_buf(),
        offset,
        reason,
    };
    let mut r = super::proto::Reader::new(&bytes, 0);
    let mut items = HashMap::new();
    while !r.is_empty() {
        let start = r.offset();
        let msg = r.delimited().map_err(|e| corrupt(e.offset, e.reason))?;
        let at = r.offset() - msg.len() as u64;
        match (kind.decode)(msg, at) {
            Ok(item) => {
                items.insert((kind.key)(&item), item);
            }
            Err(DecodeError::InvalidSilence { offset, reason }) => {
                tracing::warn!(file = %path.display(), offset, %reason, record_offset = start,
                    "skipping a silence that cannot be imported");
            }
            Err(DecodeError::Wire(e)) => return Err(corrupt(e.offset, e.reason)),
        }
    }
    Ok(items.into_values().collect())
}

/// First start on an Alertmanager data directory: import its snapshot into our generation-1 snapshot.
fn import<T>(dir: &Path, kind: &Kind<T>, upstream: &Path) -> Result<Recovered<T>, StorageError> {
    let items = read_upstream(upstream, kind)?;
    let payloads: Vec<Vec<u8>> = items.iter().map(kind.encode).collect();
    files::write_snapshot(dir, kind.name, 1, &payloads)?;
    let file = files::create_log(dir, kind.name, 1)?;
    tracing::info!(file = %upstream.display(), records = items.len(),
        "imported Alertmanager's snapshot; the original file is left untouched");
    let imported = items.len();
    Ok(Recovered { items, generation: 1, file, len: files::LOG_HEADER_LEN as u64, imported })
}
