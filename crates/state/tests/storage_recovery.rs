//! Durable storage: acknowledged writes survive a crash, torn log tails are dropped, corrupt snapshots stop
//! start-up with the file and offset, maintenance compacts and applies retention.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod storage_common;

use std::sync::{Arc, Mutex, Once};
use storage_common::*;
use tocsin_state::nflog::{Entry, MeshEntry};
use tocsin_state::storage::StorageError;
use tocsin_state::MeshSilence;

/// Every WARN event of this test binary, as `field=value` text. Recovery reports a torn log tail only as a
/// `tracing` warning (no returned value carries it), and recovers on threads of its own, so a process-wide
/// subscriber captures it; tests pick their lines by their own temporary directory.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct WarnCapture;

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl tracing::Subscriber for WarnCapture {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        *m.level() <= tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        let mut f = Fields(String::new());
        e.record(&mut f);
        WARNINGS.lock().unwrap().push(f.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn capture_warnings() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| tracing::subscriber::set_global_default(WarnCapture).unwrap());
}

/// The captured torn-tail warnings about `log`.
fn torn_warnings(log: &std::path::Path) -> Vec<String> {
    let file = format!("file={} ", log.display());
    WARNINGS
        .lock()
        .unwrap()
        .iter()
        .filter(|w| w.contains("dropping a torn or partially written tail") && w.contains(&file))
        .cloned()
        .collect()
}

#[tokio::test]
async fn acknowledged_writes_survive_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let env = open(tmp.path());
    let d = env.storage.silences();
    let a = d.set(post(1)).await.unwrap();
    let _b = d.set(post(2)).await.unwrap();
    env.clock.advance(chrono::Duration::seconds(5));
    d.expire(&a).await.unwrap();
    // An update that cannot be done in place expires the old silence and creates a new one.
    let mut upd = post(3);
    upd.id = Some(_b.clone());
    let c = d.set(upd).await.unwrap();
    assert_ne!(c, _b);
    log_entry(&env, 1);
    log_entry(&env, 7);
    env.storage.nflog().sync().await.unwrap();
    // A change merged from a peer is persisted too.
    let mut peer = (*env.silences.get(&c).unwrap()).clone();
    peer.id = "from-peer".into();
    assert!(env
        .silences
        .merge(MeshSilence { silence: Arc::new(peer), expires_at: t0() + chrono::Duration::hours(9) }));
    d.sync().await.unwrap();

    let (want_s, want_n) = (silences_sorted(&env.silences), nflog_sorted(&env.nflog));
    assert_eq!(want_s.len(), 4);
    let now = env.clock.now_utc();
    crash(env).await;
    let env = open_with(tmp.path(), now, 0).unwrap();
    assert_eq!(silences_sorted(&env.silences), want_s);
    assert_eq!(nflog_sorted(&env.nflog), want_n);
}

#[tokio::test]
async fn torn_last_record_is_dropped_at_every_offset() {
    capture_warnings();
    let tmp = tempfile::tempdir().unwrap();
    let env = open(tmp.path());
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(env.storage.silences().set(post(i)).await.unwrap());
    }
    let all = silences_sorted(&env.silences);
    crash(env).await;
    let file = std::fs::read(tmp.path().join("silences.log")).unwrap();
    // The writer keeps zero-filled room ahead of the records.
    assert_eq!(file.len(), 1 << 20);
    let frames = log_frames(&file);
    assert_eq!(frames.len(), 4);
    let (last_start, last_end) = frames[3];
    assert!(file[last_end..].iter().all(|&b| b == 0));
    let log = file[..last_end].to_vec();
    let want: Vec<_> = all.iter().filter(|m| m.silence.id != ids[3]).cloned().collect();
    for cut in last_start..last_end {
        let case = tempfile::tempdir().unwrap();
        copy_dir(tmp.path(), case.path());
        std::fs::write(case.path().join("silences.log"), &log[..cut]).unwrap();
        let env = open_with(case.path(), t0(), 0).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(silences_sorted(&env.silences), want, "cut at {cut}");
        // The warning names the log and the offset the good records end at (none for a cut between records).
        let warned = torn_warnings(&case.path().join("silences.log"));
        if cut == last_start {
            assert!(warned.is_empty(), "cut at {cut}: {warned:?}");
        } else {
            assert_eq!(warned.len(), 1, "cut at {cut}: {warned:?}");
            assert!(warned[0].contains(&format!("offset={last_start} ")), "cut at {cut}: {}", warned[0]);
            assert!(warned[0].contains(&format!("dropped_bytes={} ", cut - last_start)), "{}", warned[0]);
        }
        // The torn tail was cut off, so new records follow the last good one.
        assert_eq!(std::fs::metadata(case.path().join("silences.log")).unwrap().len() as usize, last_start);
        let id = env.storage.silences().set(post(9)).await.unwrap();
        crash(env).await;
        let env = open_with(case.path(), t0(), 0).unwrap();
        assert_eq!(env.silences.len(), 4, "cut at {cut}");
        assert!(env.silences.get(&id).is_some());
    }
    // The preallocated zeros are the clean end of the log: no warning, and all records are there.
    {
        let case = tempfile::tempdir().unwrap();
        copy_dir(tmp.path(), case.path());
        let env = open_with(case.path(), t0(), 0).unwrap();
        assert_eq!(silences_sorted(&env.silences), all);
        assert!(torn_warnings(&case.path().join("silences.log")).is_empty());
    }
    // Garbage after the last record (a torn group commit) is dropped with a warning.
    for junk in [vec![0xAB; 37], [vec![0xAB; 5], vec![0u8; 4096]].concat()] {
        let case = tempfile::tempdir().unwrap();
        copy_dir(tmp.path(), case.path());
        let mut bytes = log.clone();
        bytes.extend_from_slice(&junk);
        std::fs::write(case.path().join("silences.log"), &bytes).unwrap();
        let env = open_with(case.path(), t0(), 0).unwrap();
        assert_eq!(silences_sorted(&env.silences), all);
        let warned = torn_warnings(&case.path().join("silences.log"));
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(warned[0].contains(&format!("offset={} ", log.len())), "{}", warned[0]);
    }
}

#[tokio::test]
async fn corrupt_snapshot_is_an_error_naming_file_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let env = open(tmp.path());
    for i in 0..3 {
        env.storage.silences().set(post(i)).await.unwrap();
    }
    env.storage.flush_and_snapshot().await.unwrap();
    crash(env).await;
    let snap_path = tmp.path().join("silences.snap");
    let snap = std::fs::read(&snap_path).unwrap();
    for i in 0..snap.len() {
        let case = tempfile::tempdir().unwrap();
        copy_dir(tmp.path(), case.path());
        let mut bytes = snap.clone();
        bytes[i] ^= 0x5A;
        std::fs::write(case.path().join("silences.snap"), &bytes).unwrap();
        let err = open_with(case.path(), t0(), 0).err().unwrap_or_else(|| panic!("flip at {i} not detected"));
        match &err {
            StorageError::CorruptSnapshot { path, offset, .. } => {
                assert_eq!(path, &case.path().join("silences.snap"));
                assert!(*offset as usize <= i, "flip at {i} reported at {offset}");
            }
            other => panic!("flip at {i}: unexpected {other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.starts_with("corrupt snapshot ") && msg.contains("silences.snap at byte offset "),
            "{msg}"
        );
    }
    // A truncated snapshot (which atomic renames should make impossible) is corrupt, not a silent loss.
    let case = tempfile::tempdir().unwrap();
    copy_dir(tmp.path(), case.path());
    std::fs::write(case.path().join("silences.snap"), &snap[..snap.len() - 1]).unwrap();
    assert!(matches!(open_with(case.path(), t0(), 0), Err(StorageError::CorruptSnapshot { .. })));
}

#[test]
fn unwritable_or_missing_paths() {
    let tmp = tempfile::tempdir().unwrap();
    // Missing (nested) directories are created.
    let nested = tmp.path().join("a/b/c");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _g = rt.enter();
    open_with(&nested, t0(), 0).unwrap();
    assert!(nested.join("silences.log").is_file() && nested.join("nflog.log").is_file());
    // A path below a regular file can never be created.
    std::fs::write(tmp.path().join("file"), b"x").unwrap();
    let bad = tmp.path().join("file/data");
    let err = open_with(&bad, t0(), 0).err().unwrap();
    assert!(matches!(err, StorageError::Unwritable { ref path, .. } if path == &bad), "{err:?}");
    assert!(err.to_string().starts_with(&format!("storage path {} is not usable: ", bad.display())), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_commit_under_concurrent_writers() {
    let tmp = tempfile::tempdir().unwrap();
    let env = open(tmp.path());
    let mut tasks = Vec::new();
    for w in 0..32 {
        let d = env.storage.silences().clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..20 {
                ids.push(d.set(post(w * 100 + i)).await.unwrap());
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(t.await.unwrap());
    }
    assert_eq!(ids.len(), 640);
    let stats = env.storage.silences().log().stats();
    assert_eq!(stats.records, 640);
    assert!(stats.fsyncs >= 1 && stats.fsyncs <= 640, "{stats:?}");
    let want = silences_sorted(&env.silences);
    crash(env).await;
    let env = open(tmp.path());
    assert_eq!(silences_sorted(&env.silences), want);
}

#[tokio::test]
async fn maintenance_applies_retention_and_compacts() {
    let tmp = tempfile::tempdir().unwrap();
    let env = open(tmp.path());
    let old = env.storage.silences().set(post(1)).await.unwrap(); // ends at t0+1h, expires at t0+3h
    log_entry(&env, 1); // expires at t0+2h (retention)
    env.clock.advance(chrono::Duration::minutes(90));
    let mut p = post(2);
    p.ends_at = t0() + chrono::Duration::hours(10);
    let keep = env.storage.silences().set(p).await.unwrap();
    log_entry(&env, 2);
    env.storage.nflog().sync().await.unwrap();

    let r = env.storage.maintenance(t0() + chrono::Duration::hours(3)).await.unwrap();
    assert_eq!((r.silences_removed, r.nflog_removed), (1, 1));
    assert_eq!((r.silences.records, r.nflog.records), (1, 1));
    assert_eq!(r.silences.generation, 1);
    // The log restarts empty after compaction.
    assert_eq!(std::fs::metadata(tmp.path().join("silences.log")).unwrap().len(), 20);
    assert_eq!(env.storage.silences().log().stats().snapshots, 1);
    let want = (silences_sorted(&env.silences), nflog_sorted(&env.nflog));
    crash(env).await;
    let env = open_with(tmp.path(), t0() + chrono::Duration::hours(3), 0).unwrap();
    assert!(env.silences.get(&old).is_none());
    assert!(env.silences.get(&keep).is_some());
    assert_eq!((silences_sorted(&env.silences), nflog_sorted(&env.nflog)), want);
}

#[tokio::test]
async fn log_is_compacted_when_it_grows_past_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let env = open_with(tmp.path(), t0(), 1024).unwrap();
    for i in 0..50 {
        env.storage.silences().set(post(i)).await.unwrap();
    }
    assert!(env.storage.silences().log().stats().snapshots >= 1);
    let want = silences_sorted(&env.silences);
    crash(env).await;
    let env = open(tmp.path());
    assert_eq!(silences_sorted(&env.silences), want);
}

#[tokio::test]
async fn a_log_superseded_by_a_newer_snapshot_is_ignored() {
    // Crash between renaming the new snapshot into place and rotating the log.
    let tmp = tempfile::tempdir().unwrap();
    let env = open(tmp.path());
    let id = env.storage.silences().set(post(1)).await.unwrap();
    let stale_log = std::fs::read(tmp.path().join("silences.log")).unwrap();
    env.clock.advance(chrono::Duration::seconds(1));
    env.storage.silences().expire(&id).await.unwrap();
    env.storage.flush_and_snapshot().await.unwrap();
    let want = silences_sorted(&env.silences);
    crash(env).await;
    std::fs::write(tmp.path().join("silences.log"), &stale_log).unwrap();
    std::fs::write(tmp.path().join("silences.snap.tmp"), b"half a snapshot").unwrap();
    let env = open_with(tmp.path(), t0() + chrono::Duration::seconds(1), 0).unwrap();
    assert_eq!(silences_sorted(&env.silences), want, "the older record in the stale log must not win");
    assert!(!tmp.path().join("silences.snap.tmp").exists());
}

#[tokio::test]
async fn durable_nflog_and_close() {
    let tmp = tempfile::tempdir().unwrap();
    let env = open(tmp.path());
    let firing = [1u64].into_iter().collect();
    let written = env
        .storage
        .nflog()
        .log_notification(&recv(), "g", firing, Default::default(), std::time::Duration::ZERO, t0())
        .await
        .unwrap();
    assert!(written);
    env.storage.close().await.unwrap();
    assert_eq!(
        env.storage.silences().set(post(1)).await.err().map(|e| e.to_string()),
        Some("storage is closed".into())
    );
    crash(env).await;
    let env = open(tmp.path());
    let got = nflog_sorted(&env.nflog);
    assert_eq!(
        got,
        vec![MeshEntry {
            entry: Entry {
                group_key: "g".into(),
                receiver: recv(),
                timestamp: t0(),
                firing_alerts: [1u64].into_iter().collect(),
                resolved_alerts: Default::default(),
            },
            expires_at: t0() + retention(),
        }]
    );
}

#[test]
fn a_second_process_on_the_same_path_is_refused_until_the_first_is_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _g = rt.enter();
    let first = open(tmp.path());
    // flock locks belong to open file descriptions, so a second open in this process conflicts like another
    // process would.
    let err = open_with(tmp.path(), t0(), 0).err().expect("second open must fail");
    let lock = tmp.path().join(tocsin_state::storage::LOCK_FILE);
    assert!(matches!(err, StorageError::Locked { lock: ref l, .. } if l == &lock), "{err:?}");
    let msg = err.to_string();
    let pid = std::process::id();
    assert!(
        msg.contains(&format!(
            "is in use by another process (lock file {} is held by pid {pid})",
            lock.display()
        )),
        "{msg}"
    );
    assert!(msg.ends_with("give each tocsin its own --storage.path"), "{msg}");
    drop(first);
    open(tmp.path());
}

/// Bit rot inside the log (not a torn tail): the damaged record is skipped, every record after it is kept,
/// the original file is kept as `.damaged`, and later appends land after the last good record.
#[tokio::test]
async fn damage_inside_the_log_skips_one_record_and_keeps_the_rest() {
    capture_warnings();
    let tmp = tempfile::tempdir().unwrap();
    let env = open(tmp.path());
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(env.storage.silences().set(post(i)).await.unwrap());
    }
    let all = silences_sorted(&env.silences);
    crash(env).await;
    let log_path = tmp.path().join("silences.log");
    let log = std::fs::read(&log_path).unwrap();
    let frames = log_frames(&log);
    assert_eq!(frames.len(), 5);
    let (start, end) = frames[1];
    // A flipped payload byte, a flipped CRC byte, a flipped length byte (too long and too short).
    for (name, at) in
        [("payload", (start + end) / 2), ("crc", start + 5), ("len", start), ("len-lo", start + 1)]
    {
        let case = tempfile::tempdir().unwrap();
        copy_dir(tmp.path(), case.path());
        let mut bad = log.clone();
        bad[at] ^= 0x40;
        let case_log = case.path().join("silences.log");
        std::fs::write(&case_log, &bad).unwrap();
        let env = open_with(case.path(), t0(), 0).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want: Vec<_> = all.iter().filter(|m| m.silence.id != ids[1]).cloned().collect();
        assert_eq!(silences_sorted(&env.silences), want, "{name}");
        assert_eq!(std::fs::read(case.path().join("silences.log.damaged")).unwrap(), bad, "{name}");
        let file = format!("file={} ", case_log.display());
        let logged = WARNINGS.lock().unwrap().iter().any(|w| {
            w.contains("skipping damaged bytes inside the log")
                && w.contains(&file)
                && w.contains(&format!("offset={start} "))
        });
        assert!(logged, "{name}: no error naming the file and offset {start}");
        // Appends continue after the last good record and survive the next crash.
        let extra = env.storage.silences().set(post(9)).await.unwrap();
        crash(env).await;
        let env = open_with(case.path(), t0(), 0).unwrap();
        assert!(env.silences.get(&extra).is_some(), "{name}");
        assert_eq!(silences_sorted(&env.silences).len(), 5, "{name}");
    }
}
