//! Issue 5: silence creations per second with 1 and 16 concurrent clients (tocsin acknowledges each only once it
//! is fsynced; Alertmanager 0.25 keeps them in memory), each level for a fixed wall time on a fresh server whose
//! storage is a directory on the real disk.

use super::Measured;
use crate::client;
use crate::report::{Metric, Sample, Target, Unit};
use crate::server::{Server, ServerSpec};
use crate::Options;
use anyhow::{bail, Context, Result};
use chrono::SecondsFormat;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::{Clock, SystemClock};
use tokio::time::Instant;

/// Issue 5: tocsin ≥ 1× Alertmanager at 16 clients.
const RATIO_AT_16: f64 = 1.0;

/// A silence like an operator's: an equality and a regex matcher, an hour long, unique per `i`.
pub fn silence_body(i: usize) -> Vec<u8> {
    let now = SystemClock.now();
    let body = json!({
        "matchers": [
            {"name": "alertname", "value": format!("BenchAlert{i}"), "isRegex": false, "isEqual": true},
            {"name": "instance", "value": format!("node-{}.*", i % 1000), "isRegex": true, "isEqual": true},
        ],
        "startsAt": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Millis, true),
        "createdBy": "tocsin-bench",
        "comment": format!("bench silence {i}"),
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

pub async fn run(spec: &ServerSpec, opts: &Options) -> Result<Measured> {
    let mut m = Measured::default();
    for clients in [1usize, 16] {
        let (server, _) = Server::start(spec).await?;
        let rate = create_for(&server, clients, opts.silence_seconds).await?;
        drop(server);
        m.samples.push(Sample {
            metric: Metric {
                key: format!("silences_{clients}"),
                label: format!(
                    "Silence creations, {clients} client{} ({} s)",
                    if clients == 1 { "" } else { "s" },
                    opts.silence_seconds.as_secs_f64()
                ),
                unit: Unit::PerSecond,
                target: (clients == 16).then_some(Target::RatioAtLeast(RATIO_AT_16)),
            },
            value: rate,
        });
    }
    Ok(m)
}

/// `clients` workers POST new silences back to back for `dur`; returns acknowledged creations per second.
async fn create_for(server: &Server, clients: usize, dur: Duration) -> Result<f64> {
    let http = client::http_client(clients)?;
    let url = server.url("/api/v2/silences");
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, url, next, done, stop) =
            (http.clone(), url.clone(), next.clone(), done.clone(), stop.clone());
        workers.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let body = silence_body(next.fetch_add(1, Ordering::Relaxed));
                let resp = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .context("POST silence")?;
                let status = resp.status();
                let text = resp.bytes().await.context("read silence response")?;
                if !status.is_success() {
                    bail!("POST silence: {status}: {}", String::from_utf8_lossy(&text));
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), anyhow::Error>(())
        });
    }
    tokio::time::sleep(dur).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(r) = workers.join_next().await {
        r.context("silence worker panicked")??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64().max(1e-9))
}
