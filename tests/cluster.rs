//! Black-box HA: real `tocsin` binaries clustered on 127.0.0.1, a webhook sink, short intervals
//! (`--cluster.peer-timeout=1s`, gossip 50ms, settle 2s, group_wait 1s). Every loop is bounded; nodes are killed by
//! PID when dropped.
//!
//! The seed scenario: every alert is posted to every node, the receiver gets exactly one notification per group,
//! and the survivor notifies when the first node dies.

use serde_json::{json, Value};
use std::time::Duration;
use tocsin_testkit::{free_port, Node, NodeBuilder, Sink};
use tokio::time::Instant;

const PEER_TIMEOUT: Duration = Duration::from_secs(1);
const GROUP_WAIT: Duration = Duration::from_secs(1);

/// The webhook sink; also installs the TLS crypto provider reqwest needs (it is built without a default one).
async fn sink() -> Sink {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Sink::start().await
}

fn config(sink: &Sink) -> String {
    format!(
        r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1m
  repeat_interval: 1h
receivers:
- name: hook
  webhook_configs:
  - url: {}
"#,
        sink.url("/hook")
    )
}

/// A cluster of real nodes, each listing every cluster address (its own included) as peer.
struct Cluster {
    nodes: Vec<Node>,
}

impl Cluster {
    async fn start(n: usize, sink: &Sink) -> Cluster {
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let mut nodes = Vec::new();
        for port in &ports {
            let mut b = NodeBuilder::new(env!("CARGO_BIN_EXE_tocsin"))
                .config(&config(sink))
                .arg(format!("--cluster.listen-address=127.0.0.1:{port}"))
                .arg(format!("--cluster.peer-timeout={}s", PEER_TIMEOUT.as_secs()))
                .arg("--cluster.gossip-interval=50ms")
                .arg("--cluster.probe-interval=200ms")
                .arg("--cluster.probe-timeout=100ms")
                .arg("--cluster.pushpull-interval=2s")
                .arg("--cluster.reconnect-interval=500ms")
                .arg("--cluster.settle-timeout=2s");
            for p in &ports {
                b = b.arg(format!("--cluster.peer=127.0.0.1:{p}"));
            }
            nodes.push(b.start().expect("start tocsin"));
        }
        let cluster = Cluster { nodes };
        cluster.wait_members(n, Duration::from_secs(20)).await;
        cluster
    }

    /// Waits until every running node sees `n` members and is ready.
    async fn wait_members(&self, n: usize, limit: Duration) {
        let start = Instant::now();
        loop {
            let mut ok = true;
            for node in &self.nodes {
                let s = status(node).await;
                ok &= s["cluster"]["peers"].as_array().map_or(0, Vec::len) == n
                    && s["cluster"]["status"] == "ready";
            }
            if ok {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "cluster of {n} not ready within {limit:?}; logs:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Index of the node at position 0 (smallest name).
    async fn first(&self) -> usize {
        let mut names = Vec::new();
        for node in &self.nodes {
            names.push(status(node).await["cluster"]["name"].as_str().unwrap_or_default().to_owned());
        }
        (0..names.len()).min_by_key(|&i| names[i].clone()).expect("nodes")
    }

    async fn post_alerts_everywhere(&self, alerts: &Value) {
        for node in &self.nodes {
            post_alerts(node, alerts).await;
        }
    }

    fn logs(&self) -> String {
        self.nodes.iter().enumerate().map(|(i, n)| format!("--- node {i}\n{}", n.log())).collect()
    }
}

async fn status(node: &Node) -> Value {
    match reqwest::get(node.url("/api/v2/status")).await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

async fn post_alerts(node: &Node, alerts: &Value) {
    let r = reqwest::Client::new().post(node.url("/api/v2/alerts")).json(alerts).send().await.expect("post");
    assert!(r.status().is_success(), "post alerts: {}", r.status());
}

fn alert(name: &str) -> Value {
    json!({"labels": {"alertname": name, "instance": "db1"}, "annotations": {"summary": "test"}})
}

/// `alertname` of the (single) group of each notification, in arrival order.
fn groups(sink: &Sink) -> Vec<String> {
    sink.requests()
        .iter()
        .map(|r| r.json()["groupLabels"]["alertname"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Long enough for a node at position 2 to send a duplicate if it were going to.
const QUIET: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_send_exactly_one_notification_per_group() {
    let sink = sink().await;
    let cluster = Cluster::start(2, &sink).await;
    cluster.post_alerts_everywhere(&json!([alert("A"), alert("B")])).await;
    let got = sink.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2, "logs:\n{}", cluster.logs());
    let got = sink.wait_for(3, QUIET).await;
    let mut g = groups(&sink);
    g.sort();
    assert_eq!(g, ["A", "B"], "exactly one per group; got {} requests", got.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_send_exactly_one() {
    let sink = sink().await;
    let cluster = Cluster::start(3, &sink).await;
    cluster.post_alerts_everywhere(&json!([alert("A")])).await;
    assert_eq!(sink.wait_for(1, Duration::from_secs(10)).await.len(), 1, "logs:\n{}", cluster.logs());
    sink.wait_for(2, QUIET).await;
    assert_eq!(groups(&sink), ["A"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survivor_notifies_after_kill_9_of_position_0() {
    let sink = sink().await;
    let mut cluster = Cluster::start(2, &sink).await;
    let first = cluster.first().await;
    let victim = cluster.nodes.remove(first);
    victim.signal("KILL");
    drop(victim);
    let survivor = &cluster.nodes[0];
    let start = Instant::now();
    post_alerts(survivor, &json!([alert("A")])).await;
    let got = sink.wait_for(1, Duration::from_secs(10)).await;
    let took = start.elapsed();
    assert_eq!(got.len(), 1, "survivor never notified; log:\n{}", survivor.log());
    eprintln!("failover: notified {took:?} after the alert reached the survivor (position-0 node killed just before)");
    assert!(took <= PEER_TIMEOUT + GROUP_WAIT + Duration::from_secs(1), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_propagates_suppresses_and_expires() {
    let sink = sink().await;
    let cluster = Cluster::start(2, &sink).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let client = reqwest::Client::new();
    let ends = "2099-01-01T00:00:00.000Z";
    let body = json!({
        "matchers": [{"name": "alertname", "value": "A", "isRegex": false, "isEqual": true}],
        "startsAt": "2020-01-01T00:00:00.000Z", "endsAt": ends, "createdBy": "test", "comment": "maintenance"
    });
    let start = Instant::now();
    let r: Value =
        client.post(a.url("/api/v2/silences")).json(&body).send().await.unwrap().json().await.unwrap();
    let id = r["silenceID"].as_str().expect("silenceID").to_owned();
    let created = start.elapsed();
    let mut took;
    loop {
        took = start.elapsed();
        let r = client.get(b.url(&format!("/api/v2/silence/{id}"))).send().await.unwrap();
        if r.status().is_success() {
            break;
        }
        assert!(took < Duration::from_secs(5), "silence never reached B");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!(
        "silence propagation A→B: visible on B {took:?} after POST on A (POST itself took {created:?})"
    );
    assert!(took <= Duration::from_millis(100), "took {took:?}");

    // Suppresses on both: nothing is sent, both show the alert as suppressed.
    cluster.post_alerts_everywhere(&json!([alert("A")])).await;
    let got = sink.wait_for(1, GROUP_WAIT + PEER_TIMEOUT * 2 + Duration::from_secs(1)).await;
    assert!(got.is_empty(), "silenced alert was notified");
    for node in [a, b] {
        let alerts: Value =
            client.get(node.url("/api/v2/alerts")).send().await.unwrap().json().await.unwrap();
        assert_eq!(alerts[0]["status"]["state"], "suppressed", "{alerts}");
        assert_eq!(alerts[0]["status"]["silencedBy"][0], id.as_str(), "{alerts}");
    }

    // Expiry on A propagates to B.
    let r = client.delete(a.url(&format!("/api/v2/silence/{id}"))).send().await.unwrap();
    assert!(r.status().is_success());
    let start = Instant::now();
    loop {
        let s: Value =
            client.get(b.url(&format!("/api/v2/silence/{id}"))).send().await.unwrap().json().await.unwrap();
        if s["status"]["state"] == "expired" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "expiry never reached B: {s}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_receiver_does_not_cause_a_duplicate() {
    let sink = sink().await;
    // Position 0's send takes twice the peer timeout: upstream's position 1 would send a duplicate.
    sink.set_delay(PEER_TIMEOUT * 2);
    let cluster = Cluster::start(2, &sink).await;
    cluster.post_alerts_everywhere(&json!([alert("A")])).await;
    let got = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "logs:\n{}", cluster.logs());
    let got = sink.wait_for(2, QUIET + PEER_TIMEOUT * 2).await;
    assert_eq!(got.len(), 1, "duplicate sent; logs:\n{}", cluster.logs());
}
