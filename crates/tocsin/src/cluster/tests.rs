//! Silences, notification log and in-flight records converging through the real adapters over the in-memory
//! network, in paused time.

use super::*;
use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashSet;
use std::net::SocketAddr;
use tocsin_gossip::MemNetwork;
use tocsin_model::MatchType;
use tocsin_pipeline::testing::TokioClock;
use tocsin_state::nflog::Receiver;
use tocsin_state::{MatcherSpec, PostableSilence, SilencesOptions};

struct TestNode {
    silences: Arc<Silences>,
    nflog: Arc<NotificationLog>,
    runtime: ClusterRuntime,
    clock: SharedClock,
}

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

fn addr(i: usize) -> SocketAddr {
    format!("10.1.0.{}:9094", i + 1).parse().unwrap()
}

async fn node(net: &MemNetwork, i: usize, n: usize, clock: &SharedClock, name: &str) -> TestNode {
    let silences = Arc::new(Silences::new(SilencesOptions::default(), clock.clone()));
    let nflog = Arc::new(NotificationLog::new(Duration::from_secs(3600)));
    let mut config = ClusterConfig::new(name, addr(i).to_string());
    config.peers = (0..n).map(|j| addr(j).to_string()).collect();
    config.rng_seed = Some(i as u64 + 1);
    let mut registry = Registry::default();
    let runtime = start_cluster_with_transport(
        config,
        silences.clone(),
        nflog.clone(),
        &mut registry,
        clock.clone(),
        Arc::new(net.bind(addr(i))),
    )
    .await
    .unwrap();
    TestNode { silences, nflog, runtime, clock: clock.clone() }
}

async fn cluster(n: usize, seed: u64, loss: f64) -> (MemNetwork, Vec<TestNode>) {
    let net = MemNetwork::new(seed);
    net.set_loss(loss);
    let clock: SharedClock = Arc::new(TokioClock::new(start_time()));
    let mut nodes = Vec::new();
    for i in 0..n {
        nodes.push(node(&net, i, n, &clock, &format!("N{i:02}")).await);
    }
    eventually(Duration::from_secs(30), "all members everywhere", || {
        nodes.iter().all(|t| t.runtime.handle().peers().len() == n)
    })
    .await;
    (net, nodes)
}

async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = tokio::time::Instant::now();
    loop {
        if check() {
            return start.elapsed();
        }
        assert!(start.elapsed() <= limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn post(t: &TestNode, name: &str) -> String {
    t.silences
        .set(PostableSilence {
            id: None,
            matchers: vec![MatcherSpec {
                ty: MatchType::Equal,
                name: "alertname".into(),
                value: name.into(),
            }],
            starts_at: None,
            ends_at: t.clock.now() + chrono::Duration::hours(1),
            created_by: "me".into(),
            comment: format!("silence {name}"),
        })
        .unwrap()
}

fn receiver() -> Receiver {
    Receiver { group_name: "team".into(), integration: "webhook".into(), idx: 0 }
}

async fn converge(n: usize, seed: u64, loss: f64) {
    let (_net, nodes) = cluster(n, seed, loss).await;
    let ids: Vec<String> = nodes.iter().enumerate().map(|(i, t)| post(t, &format!("A{i}"))).collect();
    for (i, t) in nodes.iter().enumerate() {
        t.nflog.log(
            &receiver(),
            &format!("g{i}"),
            [i as u64].into(),
            HashSet::new(),
            Duration::ZERO,
            t.clock.now(),
        );
    }
    let took = eventually(Duration::from_secs(20), "silences and nflog everywhere", || {
        nodes.iter().all(|t| {
            ids.iter().all(|id| t.silences.get(id).is_some())
                && (0..n).all(|i| t.nflog.query(&format!("g{i}"), &receiver()).is_ok())
        })
    })
    .await;
    assert!(took < Duration::from_secs(20));
    // Expiry propagates, and the same silence ends up identical everywhere.
    nodes[n - 1].silences.expire(&ids[0]).unwrap();
    let ended = nodes[n - 1].silences.get(&ids[0]).unwrap();
    eventually(Duration::from_secs(20), "expiry everywhere", || {
        nodes.iter().all(|t| t.silences.get(&ids[0]).as_deref() == Some(&*ended))
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn two_nodes_converge() {
    converge(2, 21, 0.1).await;
}

#[tokio::test(start_paused = true)]
async fn three_nodes_converge() {
    converge(3, 22, 0.1).await;
}

#[tokio::test(start_paused = true)]
async fn seven_nodes_converge() {
    converge(7, 23, 0.2).await;
}

#[tokio::test(start_paused = true)]
async fn silence_reaches_peer_without_waiting_for_a_tick() {
    let (_net, nodes) = cluster(2, 24, 0.0).await;
    let id = post(&nodes[0], "Fast");
    let took =
        eventually(Duration::from_secs(1), "silence on B", || nodes[1].silences.get(&id).is_some()).await;
    assert!(took <= Duration::from_millis(10), "took {took:?}");
    // And the status the API shows.
    let status = nodes[1].runtime.status_source().status();
    assert_eq!(status.name.as_deref(), Some("N01"));
    assert_eq!(status.peers.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["N00", "N01"]);
    assert_eq!(nodes[1].runtime.peer().position(), 1);
    assert!(nodes[1].runtime.peer().inflight().is_some());
}

#[tokio::test(start_paused = true)]
async fn inflight_records_replicate_and_withdraw() {
    let (_net, nodes) = cluster(2, 25, 0.0).await;
    let a = nodes[0].runtime.inflight();
    a.announce(
        "g",
        &receiver(),
        [7].into(),
        HashSet::new(),
        nodes[0].clock.now() + chrono::Duration::seconds(30),
    );
    let b = nodes[1].runtime.inflight().clone();
    eventually(Duration::from_secs(1), "record on B", || {
        b.full_state().iter().any(|r| r.node == "N00" && !r.done)
    })
    .await;
    a.complete("g", &receiver());
    eventually(Duration::from_secs(1), "withdrawal on B", || b.full_state().iter().all(|r| r.done)).await;
}

#[tokio::test(start_paused = true)]
async fn restarted_node_catches_up_via_push_pull() {
    let (net, mut nodes) = cluster(3, 26, 0.0).await;
    let id = post(&nodes[0], "Before");
    nodes[0].nflog.log(&receiver(), "g", [1].into(), HashSet::new(), Duration::ZERO, nodes[0].clock.now());
    eventually(Duration::from_secs(5), "on every node", || {
        nodes.iter().all(|t| t.silences.get(&id).is_some() && t.nflog.query("g", &receiver()).is_ok())
    })
    .await;
    // Crash node 2 (no leave), restart it empty: the join's push-pull brings everything.
    let clock = nodes[2].clock.clone();
    drop(nodes.pop());
    let restarted = node(&net, 2, 3, &clock, "N99").await;
    eventually(Duration::from_secs(15), "restarted node caught up", || {
        restarted.silences.get(&id).is_some() && restarted.nflog.query("g", &receiver()).is_ok()
    })
    .await;
}

#[test]
fn garbage_is_rejected_not_fatal() {
    let clock: SharedClock = Arc::new(tocsin_model::clock::ManualClock::new(start_time()));
    let silences = Arc::new(Silences::new(SilencesOptions::default(), clock.clone()));
    let nflog = Arc::new(NotificationLog::new(Duration::from_secs(3600)));
    let parts = Parts::new("N", silences, nflog, clock);
    for state in parts.states() {
        for bytes in [&b""[..], b"\x01", b"\x02\x00", b"\x01\xff\xff\xff\xff\x0f", b"garbage garbage"] {
            assert!(state.merge(bytes).is_err(), "{} accepted {bytes:?}", state.key());
        }
        // A full state of an empty store is a valid, empty delta.
        assert_eq!(state.merge(&state.full_state()).unwrap(), Vec::<Vec<u8>>::new());
    }
}
