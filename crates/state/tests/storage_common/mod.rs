//! Helpers shared by the storage tests.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::ManualClock;
use tocsin_model::MatchType;
use tocsin_state::nflog::{MeshEntry, NotificationLog, Receiver};
use tocsin_state::storage::{Storage, StorageError, StorageOptions};
use tocsin_state::{MatcherSpec, MeshSilence, PostableSilence, Silences, SilencesOptions};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

pub struct Env {
    pub dir: PathBuf,
    pub clock: Arc<ManualClock>,
    pub silences: Arc<Silences>,
    pub nflog: Arc<NotificationLog>,
    pub storage: Arc<Storage>,
}

pub fn retention() -> Duration {
    Duration::from_secs(2 * 3600)
}

pub fn open_with(dir: &Path, now: DateTime<Utc>, max_log_bytes: u64) -> Result<Env, StorageError> {
    let clock = Arc::new(ManualClock::new(now));
    let opts = SilencesOptions { retention: retention(), ..SilencesOptions::default() };
    let silences = Arc::new(Silences::new(opts, clock.clone()));
    let nflog = Arc::new(NotificationLog::new(retention()));
    let mut sopts = StorageOptions::new(dir);
    sopts.max_log_bytes = max_log_bytes;
    let storage = Storage::open(&sopts, silences.clone(), nflog.clone(), clock.clone())?;
    Ok(Env { dir: dir.to_path_buf(), clock, silences, nflog, storage: Arc::new(storage) })
}

pub fn open(dir: &Path) -> Env {
    open_with(dir, t0(), 0).expect("open storage")
}

pub fn post(i: usize) -> PostableSilence {
    PostableSilence {
        id: None,
        matchers: vec![
            MatcherSpec { ty: MatchType::Equal, name: "alertname".into(), value: format!("A{i}") },
            MatcherSpec { ty: MatchType::NotRegexp, name: "job".into(), value: "api|web".into() },
        ],
        starts_at: None,
        ends_at: t0() + chrono::Duration::hours(1),
        created_by: format!("user{i}"),
        comment: format!("comment {i} ✓"),
    }
}

pub fn recv() -> Receiver {
    Receiver { group_name: "team".into(), integration: "webhook".into(), idx: 0 }
}

pub fn log_entry(env: &Env, i: u64) {
    let firing: HashSet<u64> = [i, i + 1].into_iter().collect();
    env.nflog.log(
        &recv(),
        &format!("{{}}:{{g=\"{i}\"}}"),
        firing,
        HashSet::new(),
        Duration::ZERO,
        env.clock.now_utc(),
    );
}

pub trait NowUtc {
    fn now_utc(&self) -> DateTime<Utc>;
}

impl NowUtc for ManualClock {
    fn now_utc(&self) -> DateTime<Utc> {
        tocsin_model::Clock::now(self)
    }
}

pub fn silences_sorted(s: &Silences) -> Vec<MeshSilence> {
    let mut v = s.full_state();
    v.sort_by(|a, b| a.silence.id.cmp(&b.silence.id));
    v
}

pub fn nflog_sorted(n: &NotificationLog) -> Vec<MeshEntry> {
    let mut v = n.full_state();
    v.sort_by(|a, b| a.entry.group_key.cmp(&b.entry.group_key));
    v
}

/// Drops a store without a graceful shutdown (what `kill -9` leaves is what was fsynced).
pub async fn crash(env: Env) {
    let Env { storage, silences, nflog, .. } = env;
    drop(storage);
    drop(silences);
    drop(nflog);
}

/// Byte ranges `[start, end)` of every frame in a log file (header 20 bytes, frames `len u32 | crc u32 | payload`),
/// up to the zero-filled room the writer preallocates.
pub fn log_frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 20;
    while pos + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        if len == 0 {
            break; // the preallocated zeros after the records
        }
        out.push((pos, pos + 8 + len));
        pos += 8 + len;
    }
    out
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}
