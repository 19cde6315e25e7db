//! Issue 4 on real binaries: two nodes clustered on loopback.
//!
//! * Propagation: a silence POSTed on A, polled on B (`GET /api/v2/silences?filter=…`, every 1 ms, started
//!   together with the POST) until B shows it; median of 20.
//! * Failover: with both nodes settled, the position-0 node is SIGKILLed and an alert is POSTed to the survivor
//!   at once (as Prometheus would, the dead node getting nothing); delay = (kill → notification at the sink) −
//!   (peer_timeout + group_wait), the part of the delay the cluster adds beyond what the configuration asks for.

use super::{median, millis, Measured};
use crate::client;
use crate::report::{Metric, Sample, Target, Unit};
use crate::server::{free_port, Launch, Server, ServerSpec};
use crate::sink::Sink;
use crate::Options;
use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

use super::notify::{group_alert, sink_config};
use super::silences::silence_body;

/// Issue 4: a silence visible on the peer within 20 ms.
const PROPAGATION_TARGET_MS: f64 = 20.0;
/// Issue 4's black-box test: the survivor notifies within peer_timeout + group_wait + 1 s.
const FAILOVER_TARGET_MS: f64 = 1000.0;
const PEER_TIMEOUT: Duration = Duration::from_secs(2);
const GROUP_WAIT: Duration = Duration::from_secs(1);
/// Bound on waiting for the two nodes to see each other and settle.
const SETTLE_LIMIT: Duration = Duration::from_secs(90);

/// Two nodes that list each other as peer, clustering on free loopback ports.
async fn pair(spec: &ServerSpec, config: Option<String>) -> Result<(Server, Server)> {
    let (pa, pb) = (free_port()?, free_port()?);
    let (a, b) = (SocketAddr::from(([127, 0, 0, 1], pa)), SocketAddr::from(([127, 0, 0, 1], pb)));
    let args = |peer: SocketAddr| {
        vec![format!("--cluster.peer={peer}"), format!("--cluster.peer-timeout={}s", PEER_TIMEOUT.as_secs())]
    };
    let la = Launch { config: config.clone(), cluster_listen: Some(a), args: args(b), ..Launch::default() };
    let lb = Launch { config, cluster_listen: Some(b), args: args(a), ..Launch::default() };
    let (na, _) = Server::launch(spec, &la).await?;
    let (nb, _) = Server::launch(spec, &lb).await?;
    Ok((na, nb))
}

/// `(own name, peer names, status)` from `/api/v2/status`.
async fn cluster_status(http: &reqwest::Client, s: &Server) -> Result<(String, Vec<String>, String)> {
    let v: serde_json::Value = http
        .get(s.url("/api/v2/status"))
        .send()
        .await
        .context("GET status")?
        .json()
        .await
        .context("status JSON")?;
    let c = &v["cluster"];
    let peers = c["peers"]
        .as_array()
        .map_or_else(Vec::new, |p| p.iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect());
    Ok((
        c["name"].as_str().unwrap_or_default().to_owned(),
        peers,
        c["status"].as_str().unwrap_or_default().to_owned(),
    ))
}

/// Waits until both nodes list two peers and, if `settled`, report status `ready`.
async fn wait_joined(http: &reqwest::Client, nodes: [&Server; 2], settled: bool) -> Result<Duration> {
    let started = Instant::now();
    loop {
        let mut ok = true;
        for n in nodes {
            let (_, peers, status) = cluster_status(http, n).await?;
            ok &= peers.len() == 2 && (!settled || status == "ready");
        }
        if ok {
            return Ok(started.elapsed());
        }
        if started.elapsed() > SETTLE_LIMIT {
            bail!("nodes did not form a settled two-node cluster within {SETTLE_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn run(spec: &ServerSpec, opts: &Options) -> Result<Measured> {
    let mut m = Measured::default();
    let http = client::http_client(2)?;
    let (a, b) = pair(spec, None).await?;
    wait_joined(&http, [&a, &b], false).await?;
    let mut times = Vec::new();
    for i in 0..opts.propagation_runs.max(1) {
        times.push(propagate(&http, &a, &b, 900_000 + i).await?);
    }
    drop((a, b));
    m.samples.push(Sample {
        metric: Metric {
            key: "cluster_propagation".into(),
            label: format!("Silence propagation A → B on loopback (median of {})", times.len()),
            unit: Unit::Millis,
            target: Some(Target::AtMost(PROPAGATION_TARGET_MS)),
        },
        value: median(times),
    });

    let sink = Sink::start()?;
    let config = sink_config(&sink.url(), &format!("{}s", GROUP_WAIT.as_secs()), "1h", "4h");
    let (a, b) = pair(spec, Some(config)).await?;
    let settle = wait_joined(&http, [&a, &b], true).await?;
    eprintln!("bench:   two nodes settled after {settle:?}");
    let (na, _, _) = cluster_status(&http, &a).await?;
    let (nb, _, _) = cluster_status(&http, &b).await?;
    // Position = rank of the name among live members; the lower name is position 0.
    let (mut first, survivor) = if na <= nb { (a, b) } else { (b, a) };
    let killed = Instant::now();
    first.kill();
    let body = serde_json::to_vec(&[group_alert("Failover", "f0", 0)]).context("serialise alert")?;
    let resp = http
        .post(survivor.url("/api/v2/alerts"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .context("POST alert to survivor")?;
    if !resp.status().is_success() {
        bail!("POST alert to survivor: {}", resp.status());
    }
    let limit = PEER_TIMEOUT + GROUP_WAIT + Duration::from_secs(30);
    if sink.wait_for(1, limit).await == 0 {
        bail!("the survivor sent nothing within {limit:?}; log tail:\n{}", survivor.log_tail());
    }
    let arrived = sink.arrivals()[0].at;
    drop(survivor);
    let expected = millis(PEER_TIMEOUT + GROUP_WAIT);
    m.samples.push(Sample {
        metric: Metric {
            key: "cluster_failover".into(),
            label: format!(
                "Failover after kill -9 of position 0: delay beyond peer_timeout {}s + group_wait {}s",
                PEER_TIMEOUT.as_secs(),
                GROUP_WAIT.as_secs()
            ),
            unit: Unit::Millis,
            target: Some(Target::AtMost(FAILOVER_TARGET_MS)),
        },
        value: millis(arrived.duration_since(killed)) - expected,
    });
    Ok(m)
}

/// POSTs silence `i` on `a` while polling `b` every millisecond for it; returns POST-sent → visible on B.
async fn propagate(http: &reqwest::Client, a: &Server, b: &Server, i: usize) -> Result<f64> {
    let filter = format!("alertname%3D%22BenchAlert{i}%22");
    let needle = format!("\"BenchAlert{i}\"").into_bytes();
    let poll_url = b.url(&format!("/api/v2/silences?filter={filter}"));
    let post = http
        .post(a.url("/api/v2/silences"))
        .header("content-type", "application/json")
        .body(silence_body(i))
        .send();
    let started = Instant::now();
    let post = tokio::spawn(post);
    let deadline = started + Duration::from_secs(10);
    loop {
        let body =
            http.get(&poll_url).send().await.context("GET silences on B")?.bytes().await.context("body")?;
        // Look for this silence itself: a server that ignores the filter returns the earlier ones too.
        if body.windows(needle.len()).any(|w| w == needle.as_slice()) {
            let took = started.elapsed();
            let resp = post.await.context("POST task")?.context("POST silence on A")?;
            if !resp.status().is_success() {
                bail!("POST silence on A: {}", resp.status());
            }
            return Ok(millis(took));
        }
        if Instant::now() >= deadline {
            bail!("silence {i} not visible on B within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
