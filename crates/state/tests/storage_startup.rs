//! Start-up cost with a large state (issue 5's target: 10,000 silences and 100,000 nflog entries load in
//! ≤ 200 ms). Not a timed assertion: run `cargo test --release -p tocsin-state --test storage_startup -- --ignored
//! --nocapture` to print the figures; `make bench` owns the real measurement.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod storage_common;

use std::collections::HashSet;
use std::time::Duration;
use storage_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark-style; prints timings"]
async fn load_10k_silences_and_100k_nflog_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let env = open(tmp.path());
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for w in 0..16 {
        let d = env.storage.silences().clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..625 {
                d.set(post(w * 1000 + i)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let created = start.elapsed();
    for i in 0..100_000u64 {
        let firing: HashSet<u64> = [i, i ^ 0xABCD].into_iter().collect();
        env.nflog.log(&recv(), &format!("{{}}:{{g=\"{i}\"}}"), firing, HashSet::new(), Duration::ZERO, t0());
    }
    env.storage.flush_and_snapshot().await.unwrap();
    let stats = env.storage.silences().log().stats();
    crash(env).await;
    let start = tokio::time::Instant::now();
    let env = open(tmp.path());
    let loaded = start.elapsed();
    assert_eq!((env.silences.len(), env.nflog.len()), (10_000, 100_000));
    eprintln!(
        "10k silences created by 16 clients in {created:?} ({:.0}/s, {} fsyncs); start-up with 10k silences + 100k nflog entries: {loaded:?}",
        10_000.0 / created.as_secs_f64(),
        stats.fsyncs
    );
}
