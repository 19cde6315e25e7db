//! Issue 2's alert-store benchmark on one server: RSS idle; ingest up to the checkpoint; RSS and GET latency there;
//! ingest up to the full count; RSS, GET latency and RSS after the GETs. The ingest rate is over both ingest phases
//! (wall time and the server's CPU time), so the GETs in between are not counted.

use super::{median, millis, Measured};
use crate::client;
use crate::payload;
use crate::report::{count, Metric, Sample, Target, Unit};
use crate::server::{Server, ServerSpec};
use crate::Options;
use anyhow::{anyhow, Result};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::{Clock, SystemClock};

/// Issue 2's targets.
const INGEST_RATIO: f64 = 10.0;
const RSS_RATIO: f64 = 0.2;
const GET_RATIO: f64 = 0.1;
/// Lets a fresh server finish its start-up allocations before "idle" RSS is read.
const IDLE_SETTLE: Duration = Duration::from_millis(500);

pub async fn run(spec: &ServerSpec, opts: &Options) -> Result<Measured> {
    let (n, cp) = (opts.alerts, opts.checkpoint.min(opts.alerts));
    // Serialise every body before the server starts: the client must not be what we measure.
    let now = SystemClock.now();
    let first = Arc::new(payload::batches(0..cp, opts.batch, now));
    let rest = Arc::new(payload::batches(cp..n, opts.batch, now));
    let http = client::http_client(opts.connections)?;

    let (server, _) = Server::start(spec).await?;
    let raw = load(&server, &http, first, rest, opts)
        .await
        .map_err(|e| anyhow!("{e:#}\n{} log tail:\n{}", server.kind().name(), server.log_tail()))?;
    drop(server);
    let Raw { rss_idle, rss_cp, rss_n, rss_after, wall1, wall2, cpu, get_cp, get_n, seen_cp, seen_n } = raw;

    let mut m = Measured::default();
    let mut push = |key: &str, label: String, unit, target, value| {
        m.samples.push(Sample { metric: Metric { key: key.into(), label, unit, target }, value });
    };
    let wall = (wall1 + wall2).as_secs_f64();
    let (n_s, cp_s) = (count(n), count(cp));
    push(
        "ingest_rate",
        format!(
            "Ingest, {} alerts in batches of {}, {} connections",
            n_s,
            count(opts.batch),
            opts.connections
        ),
        Unit::AlertsPerSecond,
        Some(Target::RatioAtLeast(INGEST_RATIO)),
        n as f64 / wall.max(1e-9),
    );
    if cpu > 0.0 {
        push(
            "ingest_cpu",
            "Ingest per server CPU-second".into(),
            Unit::AlertsPerCpuSecond,
            Some(Target::RatioAtLeast(INGEST_RATIO)),
            n as f64 / cpu,
        );
    } else {
        m.notes.push("ingest used less than one clock tick of CPU; per-CPU-second rate omitted".into());
    }
    push("rss_idle", "RSS idle".into(), Unit::Bytes, None, rss_idle as f64);
    push("rss_cp", format!("RSS at {cp_s} alerts"), Unit::Bytes, None, rss_cp as f64);
    push(
        "rss_n",
        format!("RSS at {n_s} alerts"),
        Unit::Bytes,
        Some(Target::RatioAtMost(RSS_RATIO)),
        rss_n as f64,
    );
    push(
        "rss_after_gets",
        format!("RSS at {n_s} after {} GETs", opts.gets),
        Unit::Bytes,
        None,
        rss_after as f64,
    );
    let label = |at: &str| format!("GET /api/v2/alerts at {at} (median of {})", opts.gets);
    push("get_cp", label(&cp_s), Unit::Millis, None, get_cp);
    push("get_n", label(&n_s), Unit::Millis, Some(Target::RatioAtMost(GET_RATIO)), get_n);
    for (seen, want) in [(seen_cp, cp), (seen_n, n)] {
        if seen != want {
            m.notes.push(format!("GET returned {seen} alerts where {want} were posted"));
        }
    }
    Ok(m)
}

/// What [`load`] read off the server, before it is turned into table rows.
struct Raw {
    rss_idle: u64,
    rss_cp: u64,
    rss_n: u64,
    rss_after: u64,
    wall1: Duration,
    wall2: Duration,
    /// Server CPU seconds spent in the two ingest phases.
    cpu: f64,
    get_cp: f64,
    get_n: f64,
    seen_cp: usize,
    seen_n: usize,
}

/// The measuring sequence: idle RSS, ingest to the checkpoint, RSS and GETs there, ingest the rest, RSS, GETs, RSS.
async fn load(
    server: &Server,
    http: &reqwest::Client,
    first: Arc<Vec<Bytes>>,
    rest: Arc<Vec<Bytes>>,
    opts: &Options,
) -> Result<Raw> {
    let url = server.url("/api/v2/alerts");
    tokio::time::sleep(IDLE_SETTLE).await;
    let rss_idle = server.rss_bytes()?;

    let cpu0 = server.cpu_seconds()?;
    let wall1 = client::ingest(http, &url, first, opts.connections).await?;
    let cpu1 = server.cpu_seconds()?;
    let rss_cp = server.rss_bytes()?;
    let (get_cp, seen_cp) = gets(http, &url, opts.gets).await?;

    let cpu2 = server.cpu_seconds()?;
    let wall2 = client::ingest(http, &url, rest, opts.connections).await?;
    let cpu3 = server.cpu_seconds()?;
    let rss_n = server.rss_bytes()?;
    let (get_n, seen_n) = gets(http, &url, opts.gets).await?;
    let rss_after = server.rss_bytes()?;
    let cpu = (cpu1 - cpu0) + (cpu3 - cpu2);
    Ok(Raw { rss_idle, rss_cp, rss_n, rss_after, wall1, wall2, cpu, get_cp, get_n, seen_cp, seen_n })
}

/// `runs` GETs of all alerts; the median latency in ms and the alert count of the last body.
async fn gets(http: &reqwest::Client, url: &str, runs: usize) -> Result<(f64, usize)> {
    let mut times = Vec::with_capacity(runs);
    let mut seen = 0;
    for _ in 0..runs.max(1) {
        let (took, n) = client::get_all(http, url).await?;
        times.push(millis(took));
        seen = n;
    }
    Ok((median(times), seen))
}
