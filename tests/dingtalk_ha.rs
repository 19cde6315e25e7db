//! Black-box HA with DingTalk (issue 6): two real `tocsin` nodes clustered on 127.0.0.1, both with a
//! `dingtalk_configs` receiver pointing at one mock DingTalk robot on loopback (the mock of
//! crates/receivers/tests, which records every request). The robot checks the access token and the signature
//! (加签: timestamp ms + HmacSHA256 + base64 + URL-encode) as DingTalk does.
//!
//! The same alert is posted to both nodes, as Prometheus does in an HA setup: the robot gets exactly one
//! message for the group, from the node at position 0, `group_wait` after the alert; the node at position 1
//! waits `peer_timeout`, finds the gossiped notification-log entry and sends nothing. The message is markdown
//! and names the alert.
//!
//! Timings are short (`group_wait` 1s, `--cluster.peer-timeout=1s`, gossip 50ms, settle 2s); every wait is
//! bounded, and the nodes are killed by PID when dropped (the testkit's `Node`).

#![allow(clippy::unwrap_used)] // the mock shared with crates/receivers/tests unwraps in its helpers

#[path = "../crates/receivers/tests/dingtalk_mock/mod.rs"]
mod dingtalk_mock;

use dingtalk_mock::{Mock, Req};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::{Clock, SystemClock};
use tocsin_receivers::dingtalk::sign::dingtalk_sign;
use tocsin_testkit::{free_port, Node, NodeBuilder};
use tokio::time::Instant;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const SECRET: &str = "SEC0123456789abcdef";
const PEER_TIMEOUT: Duration = Duration::from_secs(1);
const GROUP_WAIT: Duration = Duration::from_secs(1);
/// After the first message: long enough for position 1 (which would send `PEER_TIMEOUT` after position 0) to
/// send a duplicate if it were going to, with margin for a loaded machine.
const QUIET: Duration = Duration::from_secs(4);

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

/// DingTalk's checks: the token, a timestamp within an hour of now, the signature, a message type.
fn verify(req: &Req) -> Result<(), &'static str> {
    if req.param("access_token") != Some(TOKEN) {
        return Err("token is not exist");
    }
    let ts: i64 = req.param("timestamp").and_then(|t| t.parse().ok()).ok_or("invalid timestamp")?;
    if (ts - SystemClock.now().timestamp_millis()).abs() > 3_600_000 {
        return Err("invalid timestamp");
    }
    if req.param("sign") != Some(dingtalk_sign(SECRET, ts).as_str()) {
        return Err("sign not match");
    }
    if req.body["msgtype"].as_str().is_none() {
        return Err("missing msgtype");
    }
    Ok(())
}

/// A robot that answers success to well-signed requests and errcode 310000 to the others.
async fn robot() -> Mock {
    Mock::start(Arc::new(|req, _| match verify(req) {
        Ok(()) => (200, r#"{"errcode":0,"errmsg":"ok"}"#.to_owned()),
        Err(msg) => (200, json!({"errcode": 310000, "errmsg": msg}).to_string()),
    }))
    .await
}

fn config(robot: &Mock) -> String {
    format!(
        r#"
route:
  receiver: ding
  group_by: [alertname]
  group_wait: {}s
  group_interval: 1m
  repeat_interval: 1h
receivers:
- name: ding
  dingtalk_configs:
  - url: '{}'
    secret: '{SECRET}'
"#,
        GROUP_WAIT.as_secs(),
        robot.url(&format!("/robot/send?access_token={TOKEN}"))
    )
}

/// Two nodes, each listing both cluster addresses (its own included) as peers.
fn start_pair(robot: &Mock) -> Vec<Node> {
    let ports = [free_port(), free_port()];
    ports
        .iter()
        .map(|port| {
            let mut b = NodeBuilder::new(env!("CARGO_BIN_EXE_tocsin"))
                .config(&config(robot))
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
            b.start().expect("start tocsin")
        })
        .collect()
}

fn logs(nodes: &[Node]) -> String {
    nodes.iter().enumerate().map(|(i, n)| format!("--- node {i}\n{}", n.log())).collect()
}

async fn get_json(url: String) -> Value {
    match client().get(url).send().await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// Waits until both nodes see two members and have settled, so positions are 0 and 1.
async fn wait_ready(nodes: &[Node], limit: Duration) {
    let start = Instant::now();
    loop {
        let mut ok = true;
        for node in nodes {
            let s = get_json(node.url("/api/v2/status")).await;
            ok &= s["cluster"]["peers"].as_array().map_or(0, Vec::len) == nodes.len()
                && s["cluster"]["status"] == "ready";
        }
        if ok {
            return;
        }
        assert!(start.elapsed() < limit, "cluster not ready within {limit:?}; logs:\n{}", logs(nodes));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls the robot until it has `n` requests or `limit` passed; returns what it has.
async fn wait_requests(robot: &Mock, n: usize, limit: Duration) -> Vec<Req> {
    let end = Instant::now() + limit;
    loop {
        let reqs = robot.requests();
        if reqs.len() >= n || Instant::now() >= end {
            return reqs;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `alertmanager_notifications_total{integration="dingtalk"}` of a node (0 when absent).
async fn dingtalk_notifications(node: &Node) -> u64 {
    let text = match client().get(node.url("/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    text.lines()
        .find_map(|l| l.strip_prefix(r#"alertmanager_notifications_total{integration="dingtalk"} "#))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_send_exactly_one_dingtalk_message() {
    let robot = robot().await;
    let nodes = start_pair(&robot);
    wait_ready(&nodes, Duration::from_secs(20)).await;

    let alerts = json!([{
        "labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "critical"},
        "annotations": {"summary": "disk 95% full"}
    }]);
    let start = Instant::now();
    for node in &nodes {
        let r = client().post(node.url("/api/v2/alerts")).json(&alerts).send().await.expect("POST alerts");
        assert!(r.status().is_success(), "post alerts: {}", r.status());
    }

    // Position 0 sends at group_wait; position 1 would send one peer timeout later if dedup failed.
    let first = wait_requests(&robot, 1, Duration::from_secs(10)).await;
    let took = start.elapsed();
    assert_eq!(first.len(), 1, "no DingTalk message within 10s; logs:\n{}", logs(&nodes));
    eprintln!("dingtalk HA: first message {took:?} after the alert was posted (group_wait {GROUP_WAIT:?})");
    assert!(
        took >= GROUP_WAIT && took <= GROUP_WAIT + PEER_TIMEOUT + Duration::from_secs(1),
        "message after {took:?}, expected group_wait ({GROUP_WAIT:?}) plus scheduling slack; logs:\n{}",
        logs(&nodes)
    );

    let all = wait_requests(&robot, 2, QUIET).await;
    assert_eq!(all.len(), 1, "exactly one DingTalk message for the group; logs:\n{}", logs(&nodes));

    let req = &all[0];
    assert_eq!(verify(req), Ok(()), "signature as DingTalk checks it; query: {}", req.query);
    assert!(req.path.ends_with("/robot/send"), "{}", req.path);
    assert!(req.content_type.starts_with("application/json"), "{}", req.content_type);
    assert_eq!(req.body["msgtype"], "markdown", "{}", req.body);
    let title = req.body["markdown"]["title"].as_str().expect("markdown title");
    let text = req.body["markdown"]["text"].as_str().expect("markdown text");
    assert!(title.contains("DiskFull"), "title: {title}");
    assert!(text.contains("DiskFull"), "text: {text}");

    // Only one node went through the send stage: the other stopped at dedup (the gossiped nflog entry).
    let mut sent = Vec::new();
    for node in &nodes {
        sent.push(dingtalk_notifications(node).await);
    }
    assert_eq!(sent.iter().sum::<u64>(), 1, "notifications_total per node: {sent:?}");
}
