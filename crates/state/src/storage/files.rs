//! The on-disk layout of one kind of state (`silences` or `nflog`) and the synchronous file operations on it.
//!
//! ```text
//! <name>.snap   header: "TOCSSNP\x01" | generation u64 LE | record count u64 LE | CRC-32 of the previous 24 bytes
//!               then `count` frames, then nothing
//! <name>.log    header: "TOCSLOG\x01" | generation u64 LE | CRC-32 of the previous 16 bytes
//!               then frames, appended in order
//! frame         payload length u32 LE | CRC-32 of (length bytes ‖ payload) | payload (a protobuf MeshSilence/MeshEntry)
//! ```
//!
//! A snapshot of generation N holds the whole state; the log of generation N holds the changes made after it. A
//! log whose generation is older than the snapshot's was superseded (a crash between writing the snapshot and
//! rotating the log) and is discarded. Both files are only ever created as `<file>.tmp`, fsynced, renamed into
//! place and the directory fsynced, so a reader sees either the old or the new complete file.

use super::crc32::{checksum, Crc32};
use super::StorageError;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

pub(crate) const LOG_MAGIC: [u8; 8] = *b"TOCSLOG\x01";
pub(crate) const SNAP_MAGIC: [u8; 8] = *b"TOCSSNP\x01";
pub(crate) const LOG_HEADER_LEN: usize = 20;
pub(crate) const SNAP_HEADER_LEN: usize = 28;
pub(crate) const FRAME_HEADER_LEN: usize = 8;
/// No record comes near this; a larger length is garbage, not an allocation to attempt.
pub(crate) const MAX_RECORD_LEN: usize = 64 << 20;

pub(crate) fn snap_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.snap"))
}

pub(crate) fn log_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.log"))
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StorageError + 'a {
    move |e| StorageError::Io { op, path: path.to_path_buf(), reason: e.to_string() }
}

/// Appends one frame for `payload`.
pub(crate) fn put_frame(out: &mut Vec<u8>, payload: &[u8]) {
    let len = (payload.len() as u32).to_le_bytes();
    let crc = Crc32::new().update(&len).update(payload).finish();
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

pub(crate) fn log_header(generation: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(LOG_HEADER_LEN);
    h.extend_from_slice(&LOG_MAGIC);
    h.extend_from_slice(&generation.to_le_bytes());
    let crc = checksum(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h
}

fn snap_header(generation: u64, count: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(SNAP_HEADER_LEN);
    h.extend_from_slice(&SNAP_MAGIC);
    h.extend_from_slice(&generation.to_le_bytes());
    h.extend_from_slice(&count.to_le_bytes());
    let crc = checksum(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h
}

/// A file's contents with the byte range of every good record payload.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) bytes: Vec<u8>,
    pub(crate) generation: u64,
    pub(crate) frames: Vec<Range<usize>>,
    /// Where the good records end; for a log with a torn tail, where it must be truncated.
    pub(crate) good_len: usize,
    /// A log's bad tail: offset of the first bad frame and why it is bad.
    pub(crate) torn: Option<(usize, String)>,
    /// Damaged byte ranges *inside* a log, each followed by good records (bit rot, a bad sector), and why the
    /// first frame there was bad. The records after them are kept: they were acknowledged.
    pub(crate) damaged: Vec<(Range<usize>, String)>,
}

impl Parsed {
    pub(crate) fn records(&self) -> impl DoubleEndedIterator<Item = (u64, &[u8])> {
        self.frames.iter().map(|r| (r.start as u64, &self.bytes[r.clone()]))
    }
}

/// Checks a header of `len` bytes with `magic`; returns the generation, or why it is bad.
fn check_header(bytes: &[u8], magic: &[u8; 8], len: usize) -> Result<u64, (usize, String)> {
    if bytes.len() < len {
        return Err((0, format!("file of {} bytes is shorter than its {len}-byte header", bytes.len())));
    }
    if bytes[..7] != magic[..7] {
        return Err((0, "bad magic: not a tocsin file of this kind".to_owned()));
    }
    if bytes[7] != magic[7] {
        return Err((7, format!("unsupported format version {}", bytes[7])));
    }
    if checksum(&bytes[..len - 4]) != u32_at(bytes, len - 4) {
        return Err((0, "header checksum mismatch".to_owned()));
    }
    Ok(u64_at(bytes, 8))
}

/// The frame at `pos`: its payload range, or why it is bad.
fn frame_at(bytes: &[u8], pos: usize) -> Result<Range<usize>, String> {
    if bytes.len() - pos < FRAME_HEADER_LEN {
        return Err("incomplete frame header".to_owned());
    }
    let len = u32_at(bytes, pos) as usize;
    if len == 0 || len > MAX_RECORD_LEN {
        return Err(format!("invalid record length {len}"));
    }
    let body = pos + FRAME_HEADER_LEN;
    if bytes.len() - body < len {
        let have = bytes.len() - body;
        return Err(format!("incomplete record: {have} of {len} bytes"));
    }
    let want = u32_at(bytes, pos + 4);
    if Crc32::new().update(&bytes[pos..pos + 4]).update(&bytes[body..body + len]).finish() != want {
        return Err("record checksum mismatch".to_owned());
    }
    Ok(body..body + len)
}

/// Walks frames from `start`; stops at the end or at the first bad frame.
fn walk_frames(bytes: &[u8], start: usize) -> (Vec<Range<usize>>, usize, Option<(usize, String)>) {
    let mut frames = Vec::new();
    let mut pos = start;
    while pos < bytes.len() {
        match frame_at(bytes, pos) {
            Ok(r) => {
                pos = r.end;
                frames.push(r);
            }
            Err(reason) => return (frames, pos, Some((pos, reason))),
        }
    }
    (frames, pos, None)
}

/// After a bad frame at `bad`: the offset of the next good frame, if any. A record's CRC covers its length, so
/// a false match in damaged bytes is a 1-in-2^32 event per offset; garbage lengths (zeros included: a record
/// is never empty) are rejected before hashing.
fn resync(bytes: &[u8], bad: usize) -> Option<usize> {
    (bad + 1..bytes.len().saturating_sub(FRAME_HEADER_LEN)).find(|&p| frame_at(bytes, p).is_ok())
}

/// A log's good frames, where they end, its torn tail and its damaged ranges (see [`Parsed`]).
type LogWalk = (Vec<Range<usize>>, usize, Option<(usize, String)>, Vec<(Range<usize>, String)>);

/// Walks a log's frames; a bad frame followed by good ones is damage to skip, one at the end is a torn tail.
fn walk_log(bytes: &[u8]) -> LogWalk {
    let (mut frames, mut good_len, mut torn) = walk_frames(bytes, LOG_HEADER_LEN);
    let mut damaged = Vec::new();
    while let Some((bad, reason)) = torn.take() {
        // The zero-filled room the writer preallocates: the clean end of the records.
        if bytes[bad..].iter().all(|&b| b == 0) {
            break;
        }
        let Some(next) = resync(bytes, bad) else {
            torn = Some((bad, reason));
            break;
        };
        damaged.push((bad..next, reason));
        let (more, len, rest) = walk_frames(bytes, next);
        frames.extend(more);
        (good_len, torn) = (len, rest);
    }
    (frames, good_len, torn, damaged)
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StorageError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("read", path)(e)),
    }
}

/// Reads and fully verifies a snapshot; any defect is [`StorageError::CorruptSnapshot`]. `None` if absent.
pub(crate) fn read_snapshot(path: &Path) -> Result<Option<Parsed>, StorageError> {
    let Some(bytes) = read_optional(path)? else { return Ok(None) };
    let corrupt = |(offset, reason): (usize, String)| StorageError::CorruptSnapshot {
        path: path.to_path_buf(),
        offset: offset as u64,
        reason,
    };
    let generation = check_header(&bytes, &SNAP_MAGIC, SNAP_HEADER_LEN).map_err(corrupt)?;
    let count = u64_at(&bytes, 16);
    let (frames, good_len, bad) = walk_frames(&bytes, SNAP_HEADER_LEN);
    if let Some(bad) = bad {
        return Err(corrupt(bad));
    }
    if frames.len() as u64 != count {
        let reason = format!("header promises {count} records, file holds {}", frames.len());
        return Err(corrupt((good_len, reason)));
    }
    Ok(Some(Parsed { bytes, generation, frames, good_len, torn: None, damaged: Vec::new() }))
}

/// Reads a log: a bad header is [`StorageError::CorruptLog`]; a bad frame at the end is a torn tail (`torn`),
/// one followed by good frames is skipped (`damaged`).
pub(crate) fn scan_log(path: &Path) -> Result<Option<Parsed>, StorageError> {
    let Some(bytes) = read_optional(path)? else { return Ok(None) };
    let generation = check_header(&bytes, &LOG_MAGIC, LOG_HEADER_LEN).map_err(|(offset, reason)| {
        StorageError::CorruptLog { path: path.to_path_buf(), offset: offset as u64, reason }
    })?;
    let (frames, good_len, torn, damaged) = walk_log(&bytes);
    Ok(Some(Parsed { bytes, generation, frames, good_len, torn, damaged }))
}

/// Makes a rename or creation in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err("fsync directory", dir))
}

/// Writes `tmp`, fsyncs it and renames it to `dest` (not yet syncing the directory); returns the open file.
fn write_atomically(
    tmp: &Path,
    dest: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> std::io::Result<()>,
) -> Result<File, StorageError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(io_err("create", tmp))?;
    let mut w = BufWriter::with_capacity(1 << 20, &file);
    write(&mut w).and_then(|()| w.flush()).map_err(io_err("write", tmp))?;
    drop(w);
    file.sync_all().map_err(io_err("fsync", tmp))?;
    fs::rename(tmp, dest).map_err(io_err("rename", tmp))?;
    Ok(file)
}

/// Writes a complete snapshot atomically (temp file, fsync, rename, directory fsync); returns its size.
pub(crate) fn write_snapshot(
    dir: &Path,
    name: &str,
    generation: u64,
    payloads: &[Vec<u8>],
) -> Result<u64, StorageError> {
    let dest = snap_path(dir, name);
    let tmp = dir.join(format!("{name}.snap.tmp"));
    let mut size = SNAP_HEADER_LEN as u64;
    let mut frame = Vec::new();
    write_atomically(&tmp, &dest, |w| {
        w.write_all(&snap_header(generation, payloads.len() as u64))?;
        for p in payloads {
            frame.clear();
            put_frame(&mut frame, p);
            size += frame.len() as u64;
            w.write_all(&frame)?;
        }
        Ok(())
    })?;
    sync_dir(dir)?;
    Ok(size)
}

/// Creates an empty log of `generation` atomically, replacing any previous one; returns it open for appending.
pub(crate) fn create_log(dir: &Path, name: &str, generation: u64) -> Result<File, StorageError> {
    let dest = log_path(dir, name);
    let tmp = dir.join(format!("{name}.log.tmp"));
    let file = write_atomically(&tmp, &dest, |w| w.write_all(&log_header(generation)))?;
    sync_dir(dir)?;
    Ok(file)
}

/// Opens an existing log for appending after cutting it to `len` bytes (dropping a torn tail or the
/// preallocated zeros) durably.
pub(crate) fn open_log(path: &Path, len: u64) -> Result<File, StorageError> {
    // Not O_APPEND: the writer writes at explicit offsets, inside the zero-filled room it preallocates.
    let file = OpenOptions::new().write(true).open(path).map_err(io_err("open", path))?;
    let actual = file.metadata().map_err(io_err("stat", path))?.len();
    if actual != len {
        file.set_len(len).map_err(io_err("truncate", path))?;
        file.sync_all().map_err(io_err("fsync", path))?;
    }
    Ok(file)
}

/// Removes leftovers of an interrupted snapshot or rotation.
pub(crate) fn remove_temp_files(dir: &Path, name: &str) -> Result<(), StorageError> {
    for tmp in [format!("{name}.snap.tmp"), format!("{name}.log.tmp")] {
        let p = dir.join(tmp);
        match fs::remove_file(&p) {
            Ok(()) => {
                tracing::info!(file = %p.display(), "removed temporary file of an interrupted snapshot")
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("remove", &p)(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_walk_and_stop_at_damage() {
        let mut b = vec![0u8; 3];
        put_frame(&mut b, b"hello");
        put_frame(&mut b, b"world!");
        let (frames, end, bad) = walk_frames(&b, 3);
        assert_eq!(frames, vec![11..16, 24..30]);
        assert_eq!((end, bad), (30, None));
        let mut zeroed = b.clone();
        zeroed.extend_from_slice(&[0; 64]);
        let (frames, end, bad) = walk_frames(&zeroed, 3);
        assert_eq!(frames.len(), 2);
        assert_eq!(bad, Some((30, "invalid record length 0".to_owned())));
        assert_eq!(end, 30);
        b[20] ^= 1;
        let (frames, _, bad) = walk_frames(&b, 3);
        assert_eq!((frames.len(), bad), (1, Some((16, "record checksum mismatch".to_owned()))));
    }
}
