//! Issue 3: dispatch under load. 10,000 groups of 10 alerts (100,000 active alerts), `group_wait` 1 s,
//! `group_interval` 10 s and `repeat_interval` 1 s, so every group is flushed and notified at every
//! group_interval tick. The sink records each group's notifications for the first flush plus three intervals;
//! drift of flush k = (t_k − t_0) − k × group_interval, reported as the p99 of |drift| over all groups and
//! ticks, with the server's CPU use over the same window.
//!
//! The groups are created at a steady pace over `ingest_spread` (5 s: a POST of 100 groups every 50 ms), as rule
//! evaluations spread them in practice; posting all 10,000 at once would make every tick a burst of 10,000
//! simultaneous webhooks and measure the sink's queue rather than the dispatcher's timers.

use super::{millis, percentile, Measured};
use crate::client;
use crate::report::{count, Metric, Sample, Target, Unit};
use crate::server::{Launch, Server, ServerSpec};
use crate::sink::Sink;
use crate::Options;
use anyhow::{bail, Context, Result};
use bytes::Bytes;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

use super::notify::{group_alert, group_of, sink_config};

/// Issue 3: p99 flush-time drift ≤ 50 ms.
const DRIFT_TARGET_MS: f64 = 50.0;

pub async fn run(spec: &ServerSpec, opts: &Options) -> Result<Measured> {
    let (groups, per_group, intervals) = (opts.dispatch_groups.max(1), opts.alerts_per_group.max(1), 3u32);
    let interval = opts.dispatch_interval;
    // Whole groups per POST (100 groups × 10 alerts), bodies built before the server starts.
    let groups_per_batch = (1_000 / per_group).max(1);
    let bodies: Vec<Bytes> = (0..groups)
        .collect::<Vec<_>>()
        .chunks(groups_per_batch)
        .map(|chunk| {
            let alerts: Vec<_> = chunk
                .iter()
                .flat_map(|&g| (0..per_group).map(move |i| group_alert("Dispatch", &format!("d{g}"), i)))
                .collect();
            serde_json::to_vec(&alerts).map(Bytes::from)
        })
        .collect::<Result<_, _>>()
        .context("serialise alerts")?;

    let sink = Sink::start()?;
    let gi = format!("{}ms", interval.as_millis());
    let launch = Launch { config: Some(sink_config(&sink.url(), "1s", &gi, "1s")), ..Launch::default() };
    let (server, _) = Server::launch(spec, &launch).await?;
    let http = client::http_client(opts.connections)?;
    let cpu0 = server.cpu_seconds()?;
    let started = Instant::now();
    let ingest = paced_ingest(&http, &server.url("/api/v2/alerts"), bodies, opts.dispatch_spread).await?;
    eprintln!(
        "bench:   {} alerts in {} groups posted in {ingest:?}",
        count(groups * per_group),
        count(groups)
    );
    let want = groups * (intervals as usize + 1);
    // Last group created at `ingest`; its last flush is due group_wait + 3 intervals later.
    let limit = ingest + Duration::from_secs(1) + interval * intervals + Duration::from_secs(10);
    let got = sink.wait_for(want, limit).await;
    let window = started.elapsed();
    let cpu = server.cpu_seconds()? - cpu0;
    drop(server);

    let mut by_group: HashMap<String, Vec<Instant>> = HashMap::with_capacity(groups);
    let mut alerts_seen = 0;
    for a in sink.arrivals() {
        alerts_seen += a.alerts;
        let g = group_of(&a.group_key).unwrap_or_default().to_owned();
        by_group.entry(g).or_default().push(a.at);
    }
    let mut drifts = Vec::with_capacity(groups * intervals as usize);
    let mut short = 0;
    for times in by_group.values_mut() {
        times.sort();
        if times.len() < intervals as usize + 1 {
            short += 1;
        }
        for (k, t) in times.iter().enumerate().skip(1).take(intervals as usize) {
            let ideal = interval * k as u32;
            drifts.push((millis(t.duration_since(times[0])) - millis(ideal)).abs());
        }
    }
    let mut m = Measured::default();
    if drifts.is_empty() {
        bail!("no group was notified twice ({got} notifications for {} groups)", by_group.len());
    }
    if got < want || short > 0 || by_group.len() < groups {
        m.notes.push(format!(
            "dispatch: {got} of {want} notifications; {} of {groups} groups notified, {short} with fewer than {} flushes",
            by_group.len(),
            intervals + 1
        ));
    }
    if alerts_seen < got * per_group {
        m.notes
            .push(format!("dispatch: {alerts_seen} alerts in {got} notifications (want {per_group} each)"));
    }
    let label = format!(
        "Dispatch, {} groups / {} alerts, group_interval {}s: flush drift p99",
        count(groups),
        count(groups * per_group),
        interval.as_secs()
    );
    m.samples.push(Sample {
        metric: Metric {
            key: "dispatch_drift_p99".into(),
            label,
            unit: Unit::Millis,
            target: Some(Target::AtMost(DRIFT_TARGET_MS)),
        },
        value: percentile(drifts.clone(), 99.0),
    });
    m.samples.push(Sample {
        metric: Metric {
            key: "dispatch_drift_p50".into(),
            label: "Dispatch: flush drift median".into(),
            unit: Unit::Millis,
            target: None,
        },
        value: percentile(drifts, 50.0),
    });
    m.samples.push(Sample {
        metric: Metric {
            key: "dispatch_cpu".into(),
            label: format!("Dispatch: server CPU over ingest + {intervals} intervals"),
            unit: Unit::CpuPercent,
            target: None,
        },
        value: 100.0 * cpu / window.as_secs_f64().max(1e-9),
    });
    Ok(m)
}

/// POSTs `bodies` one after the other, starting one every `spread / bodies.len()`; returns the time taken.
async fn paced_ingest(
    http: &reqwest::Client,
    url: &str,
    bodies: Vec<Bytes>,
    spread: Duration,
) -> Result<Duration> {
    let started = Instant::now();
    let period = spread / u32::try_from(bodies.len().max(1)).unwrap_or(u32::MAX);
    let mut ticker = tokio::time::interval(period.max(Duration::from_millis(1)));
    for (i, body) in bodies.into_iter().enumerate() {
        ticker.tick().await;
        let resp = http
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .with_context(|| format!("POST batch {i}"))?;
        let status = resp.status();
        let _ = resp.bytes().await;
        if !status.is_success() {
            bail!("POST batch {i}: {status}");
        }
    }
    Ok(started.elapsed())
}
