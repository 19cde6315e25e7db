//! Start-up recovery of one kind of state: snapshot, then the log on top of it (the last record of a key wins),
//! or, on the very first start in a directory that Alertmanager used, an import of Alertmanager's snapshot file.

use super::codec::{DecodeCache, DecodeError};
use super::files::{self, Parsed};
use super::StorageError;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;

/// How one kind of state is stored.
pub(crate) struct Kind<T> {
    /// Our file stem: `silences` → `silences.snap`, `silences.log`.
    pub(crate) name: &'static str,
    /// Alertmanager's snapshot file name in the same directory.
    pub(crate) upstream: &'static str,
    pub(crate) decode: fn(&[u8], u64, &mut DecodeCache) -> Result<T, DecodeError>,
    pub(crate) encode: fn(&T) -> Vec<u8>,
    /// Identity of a record: a later record with the same key replaces an earlier one.
    pub(crate) key: fn(&T) -> String,
}

/// The log, open and positioned for appending, once the recovered state was handed over.
pub(crate) struct Recovered {
    pub(crate) generation: u64,
    pub(crate) file: File,
    pub(crate) len: u64,
    /// Records imported from Alertmanager's file (0 when there was none to import).
    pub(crate) imported: usize,
}

/// Records handed to the loader at a time: the loader (merging into the store) runs on another thread while the
/// next chunk is decoded.
const CHUNK: usize = 4096;

/// Decodes every record of `parsed`, in file order.
fn decode_all<T>(
    parsed: &Parsed,
    kind: &Kind<T>,
    cache: &mut DecodeCache,
    corrupt: impl Fn(u64, String) -> StorageError,
) -> Result<Vec<T>, StorageError> {
    let mut out = Vec::with_capacity(parsed.frames.len());
    for (offset, payload) in parsed.records() {
        out.push(
            (kind.decode)(payload, offset, cache).map_err(|e| corrupt(e.offset(), e.reason().to_owned()))?,
        );
    }
    Ok(out)
}

/// The log's records with only the last one of each key kept (in log order), and the set of those keys.
fn last_per_key<T>(log: Vec<T>, kind: &Kind<T>) -> (Vec<T>, HashSet<String>) {
    let mut seen = HashSet::with_capacity(log.len());
    let mut kept: Vec<T> = log.into_iter().rev().filter(|item| seen.insert((kind.key)(item))).collect();
    kept.reverse();
    (kept, seen)
}

/// Loads one kind of state and hands its records to `load` in chunks: the snapshot's records (minus those a log
/// record replaces), then the log's, the last record of a key winning. The snapshot holds each key once, so keys
/// are only computed when the log has records: the common start after a clean shutdown builds no key and no map.
pub(crate) fn recover<T>(
    dir: &Path,
    kind: &Kind<T>,
    load: &mut dyn FnMut(Vec<T>),
) -> Result<Recovered, StorageError> {
    files::remove_temp_files(dir, kind.name)?;
    let snap_path = files::snap_path(dir, kind.name);
    let log_path = files::log_path(dir, kind.name);
    let snap = files::read_snapshot(&snap_path)?;
    let log = files::scan_log(&log_path)?;
    let upstream = dir.join(kind.upstream);

    if snap.is_none() && log.is_none() {
        if upstream.is_file() {
            return import(dir, kind, &upstream, load);
        }
        let file = files::create_log(dir, kind.name, 0)?;
        let len = files::LOG_HEADER_LEN as u64;
        return Ok(Recovered { generation: 0, file, len, imported: 0 });
    }
    if upstream.is_file() {
        tracing::debug!(file = %upstream.display(), "Alertmanager's snapshot ignored: tocsin's own files exist");
    }

    let mut cache = DecodeCache::default();
    let snap_generation = snap.as_ref().map(|s| s.generation);
    let base = snap_generation.unwrap_or(0);
    let log = log.filter(|log| {
        let current = log.generation >= base;
        if !current {
            tracing::info!(file = %log_path.display(), generation = log.generation, snapshot_generation = base,
                "discarding a log already contained in the newer snapshot");
        }
        current
    });
    // The log first (it is short after any compaction), so the snapshot can skip the keys it replaces. A damaged
    // snapshot is still reported before a damaged log, as the files are layered.
    let logged = match &log {
        Some(log) => decode_all(log, kind, &mut cache, |offset, reason| StorageError::CorruptLog {
            path: log_path.clone(),
            offset,
            reason,
        })
        .map(|items| last_per_key(items, kind)),
        None => Ok((Vec::new(), HashSet::new())),
    };
    let replaced = logged.as_ref().map(|(_, keys)| keys.clone()).unwrap_or_default();
    if let Some(snap) = &snap {
        let mut chunk = Vec::with_capacity(CHUNK.min(snap.frames.len()));
        for (offset, payload) in snap.records() {
            let item =
                (kind.decode)(payload, offset, &mut cache).map_err(|e| StorageError::CorruptSnapshot {
                    path: snap_path.clone(),
                    offset: e.offset(),
                    reason: e.reason().to_owned(),
                })?;
            if replaced.is_empty() || !replaced.contains(&(kind.key)(&item)) {
                chunk.push(item);
            }
            if chunk.len() == CHUNK {
                load(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)));
            }
        }
        if !chunk.is_empty() {
            load(chunk);
        }
    }
    // The snapshot's bytes are decoded; free them before the log is opened.
    drop(snap);
    let (logged, _) = logged?;
    if !logged.is_empty() {
        load(logged);
    }
    let (generation, file, len) = match log {
        Some(log) => {
            if log.generation > base || (snap_generation.is_none() && log.generation > 0) {
                tracing::warn!(file = %log_path.display(), generation = log.generation, snapshot_generation = ?snap_generation,
                    "the snapshot this log continues is missing; replaying the log alone");
            }
            if !log.damaged.is_empty() {
                keep_damaged_copy(&log_path, &log.bytes);
            }
            for (range, reason) in &log.damaged {
                tracing::error!(file = %log_path.display(), offset = range.start, damaged_bytes = range.len(), %reason,
                    "skipping damaged bytes inside the log; the records after them are kept, a copy of the file is kept as <file>.damaged");
            }
            if let Some((offset, reason)) = &log.torn {
                let dropped = log.bytes.len() - log.good_len;
                tracing::warn!(file = %log_path.display(), offset, dropped_bytes = dropped, %reason,
                    "dropping a torn or partially written tail of the log (never acknowledged)");
            }
            let file = files::open_log(&log_path, log.good_len as u64)?;
            (log.generation, file, log.good_len as u64)
        }
        None => (base, files::create_log(dir, kind.name, base)?, files::LOG_HEADER_LEN as u64),
    };
    Ok(Recovered { generation, file, len, imported: 0 })
}

/// Keeps the damaged log as `<log>.damaged` for a post-mortem, since the next compaction replaces the log.
/// Best effort: failing to copy must not stop a start-up that can otherwise go on.
fn keep_damaged_copy(log_path: &Path, bytes: &[u8]) {
    let mut name = log_path.as_os_str().to_owned();
    name.push(".damaged");
    if let Err(err) = std::fs::write(&name, bytes) {
        tracing::warn!(file = %log_path.display(), %err, "cannot keep a copy of the damaged log");
    }
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
    let mut cache = DecodeCache::default();
    while !r.is_empty() {
        let start = r.offset();
        let msg = r.delimited().map_err(|e| corrupt(e.offset, e.reason))?;
        let at = r.offset() - msg.len() as u64;
        match (kind.decode)(msg, at, &mut cache) {
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
fn import<T>(
    dir: &Path,
    kind: &Kind<T>,
    upstream: &Path,
    load: &mut dyn FnMut(Vec<T>),
) -> Result<Recovered, StorageError> {
    let items = read_upstream(upstream, kind)?;
    let payloads: Vec<Vec<u8>> = items.iter().map(kind.encode).collect();
    files::write_snapshot(dir, kind.name, 1, &payloads)?;
    let file = files::create_log(dir, kind.name, 1)?;
    tracing::info!(file = %upstream.display(), records = items.len(),
        "imported Alertmanager's snapshot; the original file is left untouched");
    let imported = items.len();
    load(items);
    Ok(Recovered { generation: 1, file, len: files::LOG_HEADER_LEN as u64, imported })
}
