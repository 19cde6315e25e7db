//! Profiling aid for the start-up benchmark: writes N silences and M nflog entries with tocsin's storage code
//! (`prepare`), then times `Storage::open` on copies of it in this process.
//!
//! `cargo run --release -p tocsin-bench --example open_state -- [silences] [entries] [snapshot|log] [opens]`

use std::sync::Arc;
use std::time::Duration;
use tocsin_bench::scenario::startup::{prepare, Layout};
use tocsin_model::clock::{SharedClock, SystemClock};
use tocsin_state::nflog::NotificationLog;
use tocsin_state::storage::{Storage, StorageOptions};
use tocsin_state::{Silences, SilencesOptions};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (ns, ne, opens) = (num(0, 10_000), num(1, 100_000), num(3, 20));
    let layout = if args.get(2).map(String::as_str) == Some("log") { Layout::Log } else { Layout::Snapshot };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    // STATE_DIR=<dir>: prepare once into <dir> (if empty) and keep it, so a profiler sees only the opens.
    let kept = std::env::var_os("STATE_DIR").map(std::path::PathBuf::from);
    let tmp = tempfile::tempdir()?;
    let dir_path = kept.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    if !dir_path.join("nflog.snap").exists() && !dir_path.join("nflog.log").exists() {
        rt.block_on(prepare(&dir_path, ns, ne, layout))?;
        if kept.is_some() {
            return Ok(());
        }
    }
    let copies = tempfile::tempdir()?;
    for i in 0..opens {
        let copy = copies.path().join(format!("copy-{i}"));
        std::fs::create_dir_all(&copy)?;
        for e in std::fs::read_dir(&dir_path)? {
            let e = e?;
            if e.file_type()?.is_file() {
                std::fs::copy(e.path(), copy.join(e.file_name()))?;
            }
        }
        let clock: SharedClock = Arc::new(SystemClock);
        let t = tokio::time::Instant::now();
        let sil = Arc::new(Silences::new(SilencesOptions::default(), clock.clone()));
        let nflog = Arc::new(NotificationLog::new(Duration::from_secs(120 * 3600)));
        let storage = rt.block_on(async {
            Storage::open(&StorageOptions::new(&copy), sil.clone(), nflog.clone(), clock)
        });
        let took = t.elapsed();
        let storage = storage.map_err(|e| anyhow::anyhow!("{e}"))?;
        eprintln!("open {i}: {took:?} ({} silences, {} entries)", sil.len(), nflog.len());
        rt.block_on(storage.close()).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}
