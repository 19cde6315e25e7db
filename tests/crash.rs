//! Black-box crash tests (issue 5) with the real `tocsin` binary: `kill -9` must lose nothing the API
//! acknowledged, and the notification log must survive so a restart does not re-notify.
//!
//! - Silences: 4 concurrent clients create silences while the process is `kill -9`ed at a moment drawn from a
//!   seeded RNG (5 rounds on the same `--storage.path`); after every restart each silence that got a 200 must be
//!   there with identical content.
//! - nflog: a group notified before `kill -9` is not notified again after the restart (within repeat_interval),
//!   while a new group still is.
//!
//! Every wait is bounded; processes are killed by PID.

use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::{Clock, SystemClock};
use tocsin_testkit::{Node, NodeBuilder, Sink};
use tokio::time::Instant;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tocsin")
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

/// SplitMix64, seeded: the kill moments are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn between_ms(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo))
    }
}

fn start(config: &str, storage: &Path) -> Node {
    NodeBuilder::new(bin())
        .config(config)
        .arg(format!("--storage.path={}", storage.display()))
        .start()
        .expect("start")
}

/// What a client posted and got a 200 for.
#[derive(Debug, Clone)]
struct Acked {
    id: String,
    matcher_value: String,
    comment: String,
    starts_at: chrono::DateTime<chrono::Utc>,
    ends_at: chrono::DateTime<chrono::Utc>,
}

fn ms(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Creates silences in a loop until the node stops answering; records every acknowledged one.
async fn silence_client(base: String, client_id: usize, round: usize, acked: Arc<Mutex<Vec<Acked>>>) {
    let http = client();
    // Far in the future, so the server keeps startsAt as sent (a past start is replaced by "now").
    let t = SystemClock.now() + chrono::Duration::hours(1);
    let starts_at = t - chrono::Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos() % 1_000_000));
    for n in 0.. {
        let value = format!("r{round}-c{client_id}-{n}");
        let comment = format!("crash test round {round} client {client_id} #{n}");
        let ends_at = starts_at + chrono::Duration::minutes(10 + n);
        let body = format!(
            r#"{{"matchers":[{{"name":"job","value":"{value}","isRegex":false,"isEqual":true}}],
                "startsAt":"{}","endsAt":"{}","createdBy":"client-{client_id}","comment":"{comment}"}}"#,
            ms(starts_at),
            ms(ends_at)
        );
        let resp = http
            .post(format!("{base}/api/v2/silences"))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await;
        let Ok(resp) = resp else { return };
        if resp.status().as_u16() != 200 {
            return;
        }
        let Ok(v) = resp.json::<serde_json::Value>().await else { return };
        let id = v["silenceID"].as_str().expect("silenceID").to_owned();
        acked.lock().push(Acked { id, matcher_value: value, comment, starts_at, ends_at });
    }
}

fn parse_time(v: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("time string")).expect("rfc3339").to_utc()
}

/// Every acknowledged silence is on the node, with the content the client sent.
async fn assert_all_present(node: &Node, acked: &[Acked]) {
    let all: serde_json::Value =
        client().get(node.url("/api/v2/silences")).send().await.expect("GET").json().await.expect("json");
    let all = all.as_array().expect("array");
    let by_id: std::collections::HashMap<&str, &serde_json::Value> =
        all.iter().map(|s| (s["id"].as_str().expect("id"), s)).collect();
    for a in acked {
        let s = by_id.get(a.id.as_str()).unwrap_or_else(|| panic!("acknowledged silence {} lost", a.id));
        assert_eq!(
            s["matchers"],
            serde_json::json!([{"name":"job","value":a.matcher_value,"isRegex":false,"isEqual":true}])
        );
        assert_eq!(s["comment"], a.comment.as_str());
        assert_eq!(parse_time(&s["startsAt"]), a.starts_at, "{s}");
        assert_eq!(parse_time(&s["endsAt"]), a.ends_at, "{s}");
        assert_eq!(s["status"]["state"], "pending", "{s}");
    }
}

const CONFIG: &str = "route:\n  receiver: hook\nreceivers:\n- name: hook\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_silences_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = dir.path().join("data");
    let mut rng = Rng(0x5EED_0005);
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::new(Mutex::new(Vec::new()));
    for round in 0..5 {
        let node = start(CONFIG, &storage);
        let before = acked.lock().clone();
        assert_all_present(&node, &before).await;
        let clients: Vec<_> =
            (0..4).map(|c| tokio::spawn(silence_client(node.url(""), c, round, acked.clone()))).collect();
        let kill_after = rng.between_ms(50, 500);
        tokio::time::sleep(kill_after).await;
        node.signal("KILL");
        for c in clients {
            tokio::time::timeout(Duration::from_secs(15), c)
                .await
                .expect("client stops")
                .expect("client task");
        }
        let n = acked.lock().len();
        println!("round {round}: kill -9 after {kill_after:?}, {} silences acknowledged in total", n);
        drop(node);
    }
    let acked = acked.lock().clone();
    assert!(acked.len() >= 5, "too few silences were created to test anything: {}", acked.len());
    let node = start(CONFIG, &storage);
    assert_all_present(&node, &acked).await;
}

/// Where the nflog file's records end (0 when absent): its size without the zero-filled room the writer
/// preallocates ahead of them.
fn nflog_bytes(storage: &Path) -> u64 {
    let bytes = std::fs::read(storage.join("nflog.log")).unwrap_or_default();
    bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i as u64 + 1)
}

async fn post_alert(node: &Node, name: &str) {
    let r = client()
        .post(node.url("/api/v2/alerts"))
        .header("Content-Type", "application/json")
        .body(format!(r#"[{{"labels":{{"alertname":"{name}"}}}}]"#))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_log_survives_kill_9() {
    let sink = Sink::start().await;
    let config = format!(
        "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
         receivers:\n- name: hook\n  webhook_configs:\n  - url: '{}'\n",
        sink.url("/hook")
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let storage: PathBuf = dir.path().join("data");
    let node = start(&config, &storage);
    let empty = nflog_bytes(&storage);
    post_alert(&node, "BeforeCrash").await;
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).await.len(), 1, "log:\n{}", node.log());
    // The nflog record is written right after the send; kill -9 once it reached the file (the page cache
    // survives a killed process, so no fsync wait is needed for this test).
    let deadline = Instant::now() + Duration::from_secs(5);
    while nflog_bytes(&storage) <= empty {
        assert!(Instant::now() < deadline, "nflog record never written; log:\n{}", node.log());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    node.signal("KILL");
    drop(node);

    let node = start(&config, &storage);
    // Prometheus resends the same alert; a new one shows the pipeline itself works after the restart.
    post_alert(&node, "BeforeCrash").await;
    post_alert(&node, "AfterCrash").await;
    let reqs = sink.wait_for(3, Duration::from_secs(3)).await;
    let names: Vec<String> =
        reqs.iter().map(|r| r.json()["groupLabels"]["alertname"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(names, ["BeforeCrash", "AfterCrash"], "log:\n{}", node.log());
}
