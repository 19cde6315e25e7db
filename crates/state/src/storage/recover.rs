//! Start-up recovery of one kind of state: snapshot, then the log on top of it (the last record of a key wins),
//! or, on the very first start in a directory that Alertmanager used, an import of Alertmanager's snapshot file.

use super::codec::{DecodeCache, DecodeError};
use super::files;
use super::StorageError;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;

/// Log records counted in the start-up reservation beyond the snapshot's size (see `recover`).
const LOG_RESERVE: usize = 100_000;

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

/// Where recovered records go.
pub(crate) struct Sink<'a, T> {
    /// Told once, before any record, how many records at most follow: the store sizes its map once instead of
    /// regrowing it by doubling, which rehashes and copies every entry each time (a third of loading 100,000
    /// nflog entries).
    pub(crate) reserve: &'a mut dyn FnMut(usize),
    /// Takes the records in chunks, so the store can merge one while the next is decoded.
    pub(crate) load: &'a mut dyn FnMut(Vec<T>),
}

/// Loads one kind of state into `sink`: the log's last record of each key, then the snapshot's records minus those
/// the log replaces. The snapshot holds each key once, so keys are only computed when the log has records: the
/// common start after a clean shutdown builds no key and no map.
///
/// The log is walked from its end: the first record of a key met that way is the one that wins, so it can be
/// handed over at once (records of distinct keys merge independently, in any order) and the store merges while
/// the rest of the log is decoded, instead of after all of it.
pub(crate) fn recover<T>(dir: &Path, kind: &Kind<T>, sink: Sink<'_, T>) -> Result<Recovered, StorageError> {
    let Sink { reserve, load } = sink;
    files::remove_temp_files(dir, kind.name)?;
    let snap_path = files::snap_path(dir, kind.name);
    let log_path = files::log_path(dir, kind.name);
    let snap = files::read_snapshot(&snap_path)?;
    let log = files::scan_log(&log_path)?;
    let upstream = dir.join(kind.upstream);

    if snap.is_none() && log.is_none() {
        if upstream.is_file() {
            return import(dir, kind, &upstream, reserve, load);
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
    // A log can hold many records of few keys (up to 64 MiB between compactions), and the store never gives
    // capacity back: its records are counted only up to the snapshot's size or LOG_RESERVE, whichever is larger.
    let snap_records = snap.as_ref().map_or(0, |s| s.frames.len());
    let log_records = log.as_ref().map_or(0, |l| l.frames.len());
    let records = snap_records + log_records.min(snap_records.max(LOG_RESERVE));
    if records > 0 {
        reserve(records);
    }
    // The log first (it is short after any compaction), so the snapshot can skip the keys it replaces. A damaged
    // snapshot is still reported before a damaged log, as the files are layered, and of several undecodable log
    // records the first in the file is reported.
    let mut replaced = HashSet::with_capacity(log.as_ref().map_or(0, |l| l.frames.len()));
    let mut log_error = None;
    if let Some(log) = &log {
        let mut chunk = Vec::new();
        for (offset, payload) in log.records().rev() {
            match (kind.decode)(payload, offset, &mut cache) {
                Ok(item) => {
                    if log_error.is_none() && replaced.insert((kind.key)(&item)) {
                        chunk.push(item);
                        if chunk.len() == CHUNK {
                            load(std::mem::take(&mut chunk));
                        }
                    }
                }
                Err(e) => {
                    log_error = Some(StorageError::CorruptLog {
                        path: log_path.clone(),
                        offset: e.offset(),
                        reason: e.reason().to_owned(),
                    })
                }
            }
        }
        if log_error.is_none() && !chunk.is_empty() {
            load(chunk);
        }
    }
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
    if let Some(err) = log_error {
        return Err(err);
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
    reserve: &mut dyn FnMut(usize),
    load: &mut dyn FnMut(Vec<T>),
) -> Result<Recovered, StorageError> {
    let items = read_upstream(upstream, kind)?;
    let payloads: Vec<Vec<u8>> = items.iter().map(kind.encode).collect();
    files::write_snapshot(dir, kind.name, 1, &payloads)?;
    let file = files::create_log(dir, kind.name, 1)?;
    tracing::info!(file = %upstream.display(), records = items.len(),
        "imported Alertmanager's snapshot; the original file is left untouched");
    let imported = items.len();
    reserve(imported);
    load(items);
    Ok(Recovered { generation: 1, file, len: files::LOG_HEADER_LEN as u64, imported })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::proto::ProtoError;
    use std::io::Write;

    /// Records `key=value`; a payload starting with `!` does not decode.
    fn decode(buf: &[u8], at: u64, _: &mut DecodeCache) -> Result<(String, String), DecodeError> {
        let s = std::str::from_utf8(buf).unwrap();
        if s.starts_with('!') {
            return Err(ProtoError { offset: at, reason: "bad".into() }.into());
        }
        let (k, v) = s.split_once('=').unwrap();
        Ok((k.to_owned(), v.to_owned()))
    }

    const TEST: Kind<(String, String)> = Kind {
        name: "t",
        upstream: "t-upstream",
        decode,
        encode: |(k, v)| format!("{k}={v}").into_bytes(),
        key: |(k, _)| k.clone(),
    };

    fn append(dir: &Path, records: &[&str]) {
        let mut bytes = Vec::new();
        for r in records {
            files::put_frame(&mut bytes, r.as_bytes());
        }
        let mut f = std::fs::OpenOptions::new().append(true).open(files::log_path(dir, "t")).unwrap();
        f.write_all(&bytes).unwrap();
    }

    type Run = (Result<Recovered, StorageError>, Vec<usize>, Vec<(String, String)>);

    fn run(dir: &Path) -> Run {
        let (mut reserved, mut loaded) = (Vec::new(), Vec::new());
        let res = recover(
            dir,
            &TEST,
            Sink { reserve: &mut |n| reserved.push(n), load: &mut |items| loaded.extend(items) },
        );
        (res, reserved, loaded)
    }

    #[test]
    fn the_last_log_record_of_a_key_wins_over_earlier_ones_and_the_snapshot() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let snap: Vec<Vec<u8>> = ["a=s", "b=s", "c=s"].iter().map(|r| r.as_bytes().to_vec()).collect();
        files::write_snapshot(dir, "t", 1, &snap).unwrap();
        files::create_log(dir, "t", 1).unwrap();
        append(dir, &["a=1", "b=1", "a=2", "d=1"]);
        let (res, reserved, mut loaded) = run(dir);
        assert_eq!(res.unwrap().generation, 1);
        assert_eq!(reserved, vec![7], "snapshot and log records, told once");
        loaded.sort();
        let want: Vec<(String, String)> = [("a", "2"), ("b", "1"), ("c", "s"), ("d", "1")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(loaded, want);
    }

    #[test]
    fn of_several_undecodable_log_records_the_first_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        files::create_log(dir, "t", 0).unwrap();
        append(dir, &["x=1", "!b1", "y=1", "!b2", "z=1"]);
        let (res, _, _) = run(dir);
        let first_bad =
            (files::LOG_HEADER_LEN + files::FRAME_HEADER_LEN + 3 + files::FRAME_HEADER_LEN) as u64;
        match res {
            Err(StorageError::CorruptLog { offset, .. }) => assert_eq!(offset, first_bad),
            other => panic!("expected a corrupt log, got {:?}", other.map(|r| r.generation)),
        }
    }
}
