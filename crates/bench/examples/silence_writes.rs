//! Profiling aid for the silences benchmark: durable silence creations per second in this process (no HTTP),
//! with 1 and 16 concurrent writers, to tell the storage's group commit apart from the API's cost.
//!
//! `cargo run --release -p tocsin-bench --example silence_writes -- [seconds]`

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::{SharedClock, SystemClock};
use tocsin_model::MatchType;
use tocsin_state::nflog::NotificationLog;
use tocsin_state::silences::{MatcherSpec, PostableSilence};
use tocsin_state::storage::{Storage, StorageOptions};
use tocsin_state::{Silences, SilencesOptions};

fn main() -> anyhow::Result<()> {
    let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    for clients in [1usize, 16] {
        let dir = tempfile::tempdir()?;
        let clock: SharedClock = Arc::new(SystemClock);
        let sil = Arc::new(Silences::new(SilencesOptions::default(), clock.clone()));
        let nflog = Arc::new(NotificationLog::new(Duration::from_secs(3600)));
        let storage = Arc::new(
            Storage::open(&StorageOptions::new(dir.path()), sil, nflog, clock.clone())
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        let (done, stop, next) =
            (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let rate = rt.block_on(async {
            let t = tokio::time::Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..clients {
                let (storage, done, stop, next, clock) =
                    (storage.clone(), done.clone(), stop.clone(), next.clone(), clock.clone());
                tasks.push(tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let now = clock.now();
                        let post = PostableSilence {
                            id: None,
                            matchers: vec![
                                MatcherSpec {
                                    ty: MatchType::Equal,
                                    name: "alertname".into(),
                                    value: format!("A{i}"),
                                },
                                MatcherSpec {
                                    ty: MatchType::Regexp,
                                    name: "instance".into(),
                                    value: format!("node-{}.*", i % 1000),
                                },
                            ],
                            starts_at: Some(now),
                            ends_at: now + chrono::Duration::hours(1),
                            created_by: "bench".into(),
                            comment: "c".into(),
                        };
                        if storage.silences().set(post).await.is_err() {
                            return;
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }));
            }
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            stop.store(true, Ordering::Relaxed);
            for t in tasks {
                let _ = t.await;
            }
            done.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64()
        });
        let stats = storage.silences().log().stats();
        println!(
            "{clients} writers: {rate:.0} silences/s, {} records in {} fsyncs",
            stats.records, stats.fsyncs
        );
        rt.block_on(storage.close()).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}
