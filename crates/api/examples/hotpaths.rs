//! Measures the API hot paths in process (issue 2's performance targets), without sockets:
//!
//! - ingest: N distinct alerts as Prometheus sends them, POSTed in batches of 1000 through the warp filter
//!   (`warp::test`), reported as µs of CPU per alert (this thread's CPU time, so other load does not count);
//! - memory: RSS growth while the store fills, as bytes per stored alert;
//! - `GET /api/v2/alerts` of all N alerts through the warp filter, in ms, and the body size.
//!
//! Run: `nice -n 10 cargo run --release -p tocsin-api --example hotpaths -- [N]` (default 100000).

use bytes::Bytes;
use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use futures::future::BoxFuture;
use parking_lot::RwLock;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use tocsin_api::*;
use tocsin_config::ParseMode;
use tocsin_model::clock::ManualClock;
use tocsin_state::{AlertStore, Silences, SilencesOptions};

const CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: [severity="critical"]
      receiver: pager
receivers:
  - name: default
  - name: pager
"#;

const ALERTNAMES: [&str; 4] = ["HighCPULoad", "InstanceDown", "DiskWillFillIn4Hours", "HighErrorRate"];
const JOBS: [&str; 5] = ["node", "blackbox", "mysqld", "postgres", "kubelet"];
const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

#[derive(Debug)]
struct NoReload;

impl Reloader for NoReload {
    fn reload(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// The same alert shape as `make bench` (crates/bench/src/payload.rs).
fn alert(i: usize, starts_at: &str, ends_at: &str) -> Value {
    let name = ALERTNAMES[i % ALERTNAMES.len()];
    let instance = format!("node-{i:06}.dc{}.example.net:9100", i % 3);
    json!({
        "labels": {
            "alertname": name,
            "instance": instance,
            "job": JOBS[i % JOBS.len()],
            "severity": SEVERITIES[i % SEVERITIES.len()],
        },
        "annotations": {
            "summary": format!("{name} on {instance}"),
            "description": format!("{name} has been firing on {instance} for more than 5 minutes (value {}.{}).", i % 97, i % 10),
        },
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": format!("http://prometheus.example.net:9090/graph?g0.expr=up%7Bjob%3D%22{}%22%7D&g0.tab=1", JOBS[i % JOBS.len()]),
    })
}

/// Resident set size in bytes (Linux), 0 elsewhere.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

/// CPU time of this thread in ns (`/proc/thread-self/schedstat`), so other load on the machine does not count.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

/// Seconds of CPU `f` took (wall time where schedstat is missing; the example is single-threaded).
#[allow(clippy::disallowed_methods)] // a benchmark measures real time
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = std::time::Instant::now();
    let cpu0 = cpu_ns();
    let out = f();
    let secs = match (cpu0, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9,
        _ => start.elapsed().as_secs_f64(),
    };
    (out, secs)
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let now0: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).single().expect("valid date");
    let clock = Arc::new(ManualClock::new(now0));
    let config = tocsin_config::load_str(CONFIG, Path::new("."), ParseMode::Fallback).expect("config loads");
    let api = Api::new(ApiDeps {
        alerts: Arc::new(AlertStore::new(clock.clone())),
        silences: Arc::new(Silences::new(SilencesOptions::default(), clock.clone())),
        config: Arc::new(RwLock::new(Arc::new(config))),
        cluster: Arc::new(ClusterDisabled),
        reloader: Arc::new(NoReload),
        router: None,
        registry: Arc::new(RwLock::new(prometheus_client::registry::Registry::default())),
        version: build_version_info(),
        start_time: now0,
        clock: clock.clone(),
        options: ApiOptions::default(),
    });
    let filter = routes(Arc::clone(&api));

    let starts_at = now0.to_rfc3339_opts(SecondsFormat::Millis, true);
    let ends_at = (now0 + Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let ids: Vec<usize> = (0..n).collect();
    let bodies: Vec<Bytes> = ids
        .chunks(1000)
        .map(|c| {
            let v: Vec<Value> = c.iter().map(|&i| alert(i, &starts_at, &ends_at)).collect();
            Bytes::from(serde_json::to_vec(&v).expect("serialises"))
        })
        .collect();
    let body_bytes: usize = bodies.iter().map(Bytes::len).sum();

    let rss0 = rss();
    let ((), secs) = timed(|| {
        rt.block_on(async {
            for b in &bodies {
                let resp = warp::test::request()
                    .method("POST")
                    .path("/api/v2/alerts")
                    .header("content-type", "application/json")
                    .body(b.clone())
                    .reply(&filter)
                    .await;
                assert_eq!(resp.status(), 200, "{:?}", resp.body());
            }
        });
    });
    let rss1 = rss();
    assert_eq!(api.alerts.len(), n);
    println!(
        "ingest   {n} alerts ({:.0} B JSON each): {:.3} s, {:.2} µs/alert, {:.0} alerts/s",
        body_bytes as f64 / n as f64,
        secs,
        secs * 1e6 / n as f64,
        n as f64 / secs
    );
    println!(
        "memory   RSS +{:.1} MB, {:.0} B/alert",
        (rss1 - rss0) as f64 / 1e6,
        (rss1 - rss0) as f64 / n as f64
    );

    // Re-posting the same alerts (Prometheus resends every evaluation): merge path.
    clock.advance(Duration::seconds(30));
    let ((), secs) = timed(|| {
        rt.block_on(async {
            for b in &bodies {
                let resp = warp::test::request()
                    .method("POST")
                    .path("/api/v2/alerts")
                    .header("content-type", "application/json")
                    .body(b.clone())
                    .reply(&filter)
                    .await;
                assert_eq!(resp.status(), 200);
            }
        });
    });
    println!(
        "re-post  {n} alerts: {:.2} µs/alert; RSS now {:.1} MB",
        secs * 1e6 / n as f64,
        rss() as f64 / 1e6
    );

    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
        let (resp, secs) =
            timed(|| rt.block_on(warp::test::request().method("GET").path("/api/v2/alerts").reply(&filter)));
        assert_eq!(resp.status(), 200);
        size = resp.body().len();
        times.push(secs * 1e3);
    }
    let fmt: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
    println!("GET      all {n} alerts: {} ms CPU (body {:.1} MB)", fmt.join(" / "), size as f64 / 1e6);
    println!("memory   RSS after 5 GETs {:.1} MB", rss() as f64 / 1e6);
}
