//! Black-box: the `tocsin` process lifecycle as an operator drives it: start on port 0 and be ready, reload by
//! SIGHUP and `POST /-/reload` (a bad file keeps the old config), SIGTERM exits 0, start-up failures exit 1 with a
//! clear log line, oversize bodies get 413 without hurting the process, and `--web.route-prefix`.
//! Every wait is bounded; nodes are killed by PID when dropped.

use std::process::Command;
use std::time::Duration;
use tocsin_testkit::{Node, NodeBuilder};
use tokio::time::{sleep, Instant};

const GOOD: &str = "route:\n  receiver: hook\nreceivers:\n- name: hook\n";
const GOOD2: &str = "route:\n  receiver: other\nreceivers:\n- name: hook\n- name: other\n";
const BAD: &str = "route:\n  receiver: nope\nreceivers:\n- name: hook\n";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tocsin")
}

fn client() -> reqwest::Client {
    // reqwest is built without a crypto provider (plain HTTP here, but the builder insists).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn get(node: &Node, path: &str) -> (u16, String) {
    let r = client().get(node.url(path)).send().await.expect("GET");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

async fn reload(node: &Node) -> (u16, String) {
    let r = client().post(node.url("/-/reload")).send().await.expect("POST /-/reload");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

/// Waits (bounded) until the node's log contains `needle` `times` times.
async fn wait_for_log(node: &Node, needle: &str, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.log().matches(needle).count() < times {
        assert!(Instant::now() < deadline, "log never showed {needle:?} x{times}:\n{}", node.log());
        sleep(Duration::from_millis(10)).await;
    }
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.parse().ok()))
}

/// The binary with `args`, run to completion (bounded): its exit code and stderr.
fn run_to_exit(args: &[String]) -> (Option<i32>, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    tocsin_testkit::process::run_to_exit(cmd)
}

#[tokio::test]
async fn ready_reload_and_sigterm() {
    let mut node = NodeBuilder::new(bin()).config(GOOD).start().expect("start");
    assert_eq!(get(&node, "/-/ready").await, (200, "OK".to_owned()));
    assert_eq!(get(&node, "/-/healthy").await, (200, "OK".to_owned()));
    let head = client().head(node.url("/-/ready")).send().await.expect("HEAD");
    assert_eq!(head.status().as_u16(), 200);

    // A bad file by SIGHUP: logged, old config kept, process alive.
    let cfg = node.dir().join("alertmanager.yml");
    std::fs::write(&cfg, BAD).expect("write");
    node.signal("HUP");
    wait_for_log(&node, "Loading configuration file failed", 1).await;
    assert_eq!(get(&node, "/-/ready").await.0, 200);
    let (_, metrics) = get(&node, "/metrics").await;
    assert_eq!(metric(&metrics, "alertmanager_config_last_reload_successful"), Some(0.0), "{metrics}");

    // The same by POST /-/reload: 500 with upstream's text.
    let (status, body) = reload(&node).await;
    assert_eq!(status, 500);
    assert_eq!(body, "failed to reload config: undefined receiver \"nope\" used in route\n");
    let (_, receivers) = get(&node, "/api/v2/receivers").await;
    assert_eq!(receivers, r#"[{"name":"hook"}]"#);

    // A good new file takes effect, by SIGHUP and by POST.
    std::fs::write(&cfg, GOOD2).expect("write");
    node.signal("HUP");
    wait_for_log(&node, "Completed loading of configuration file", 2).await;
    let (_, receivers) = get(&node, "/api/v2/receivers").await;
    assert_eq!(receivers, r#"[{"name":"hook"},{"name":"other"}]"#);
    assert_eq!(reload(&node).await, (200, String::new()));
    let (_, metrics) = get(&node, "/metrics").await;
    assert_eq!(metric(&metrics, "alertmanager_config_last_reload_successful"), Some(1.0), "{metrics}");
    assert_eq!(metric(&metrics, "alertmanager_receivers"), Some(1.0), "{metrics}");
    let (_, status) = get(&node, "/api/v2/status").await;
    assert!(status.contains("receiver: other"), "{status}");

    assert_eq!(node.terminate(Duration::from_secs(10)), Some(0), "{}", node.log());
    assert!(node.log().contains("msg=\"Received SIGTERM, exiting gracefully...\""), "{}", node.log());
}

#[tokio::test]
async fn invalid_config_at_start_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("alertmanager.yml");
    std::fs::write(&cfg, BAD).expect("write");
    let (code, stderr) = run_to_exit(&[
        format!("--config.file={}", cfg.display()),
        format!("--storage.path={}", dir.path().join("data").display()),
        "--web.listen-address=127.0.0.1:0".to_owned(),
        "--cluster.listen-address=".to_owned(),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("level=error component=configuration msg=\"Loading configuration file failed\""),
        "{stderr}"
    );
    assert!(stderr.contains("undefined receiver"), "{stderr}");
    assert!(!stderr.contains("Listening on"), "{stderr}");
}

#[tokio::test]
async fn unusable_storage_path_and_busy_address_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("alertmanager.yml");
    std::fs::write(&cfg, GOOD).expect("write");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    let (code, stderr) = run_to_exit(&[
        format!("--config.file={}", cfg.display()),
        format!("--storage.path={}", file.join("data").display()),
        "--web.listen-address=127.0.0.1:0".to_owned(),
        "--cluster.listen-address=".to_owned(),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("msg=\"Unable to create data directory\""), "{stderr}");
    assert!(stderr.contains(&file.join("data").display().to_string()), "{stderr}");

    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy_addr = busy.local_addr().expect("addr").to_string();
    let (code, stderr) = run_to_exit(&[
        format!("--config.file={}", cfg.display()),
        format!("--storage.path={}", dir.path().join("data").display()),
        "--web.listen-address=127.0.0.1:0".to_owned(),
        format!("--web.listen-address={busy_addr}"),
        "--cluster.listen-address=".to_owned(),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("msg=\"Listen error\""), "{stderr}");
    assert!(stderr.contains(&format!("listen tcp {busy_addr}")), "{stderr}");
}

#[tokio::test]
async fn every_listen_address_serves() {
    let node = NodeBuilder::new(bin())
        .config(GOOD)
        .arg("--web.listen-address=127.0.0.1:0")
        .arg("--web.listen-address=127.0.0.1:0")
        .start()
        .expect("start");
    wait_for_log(&node, "msg=\"Listening on\"", 2).await;
    let log = node.log();
    let addrs: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("msg=\"Listening on\""))
        .filter_map(|l| l.split("address=").nth(1))
        .collect();
    assert_eq!(addrs.len(), 2, "{log}");
    assert_ne!(addrs[0], addrs[1]);
    for a in addrs {
        let r = client().get(format!("http://{a}/-/ready")).send().await.expect("GET");
        assert_eq!(r.status().as_u16(), 200, "{a}");
    }
}

#[tokio::test]
async fn oversize_body_gets_413_and_process_stays_healthy() {
    let node =
        NodeBuilder::new(bin()).config(GOOD).arg("--web.max-request-body-bytes=1KiB").start().expect("start");
    let big = format!(r#"[{{"labels":{{"alertname":"A","x":"{}"}}}}]"#, "y".repeat(4096));
    let r = client()
        .post(node.url("/api/v2/alerts"))
        .header("Content-Type", "application/json")
        .body(big)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(get(&node, "/-/healthy").await.0, 200);
    let r = client()
        .post(node.url("/api/v2/alerts"))
        .header("Content-Type", "application/json")
        .body(r#"[{"labels":{"alertname":"A"}}]"#)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status().as_u16(), 200);
    let (_, alerts) = get(&node, "/api/v2/alerts").await;
    assert!(alerts.contains(r#""alertname":"A""#), "{alerts}");
}

#[tokio::test]
async fn route_prefix_mounts_everything_and_redirects_root() {
    let node = NodeBuilder::new(bin()).config(GOOD).arg("--web.route-prefix=/am").start().expect("start");
    let (status, body) = get(&node, "/am/api/v2/status").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""status":"disabled""#), "{body}");
    assert_eq!(get(&node, "/am/-/ready").await.0, 200);
    assert_eq!(get(&node, "/-/ready").await.0, 404);
    let r = client().get(node.url("/")).send().await.expect("GET /");
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(r.headers().get("location").and_then(|v| v.to_str().ok()), Some("/am"));
}

#[tokio::test]
async fn cluster_listen_address_reports_this_node_as_only_peer() {
    let node = NodeBuilder::new(bin())
        .config(GOOD)
        .arg("--cluster.listen-address=127.0.0.1:0")
        .arg("--cluster.settle-timeout=200ms")
        .start()
        .expect("start");
    // A lone node settles when the settle timeout passes; poll (bounded) until it reports ready.
    let mut body = String::new();
    for _ in 0..100 {
        body = get(&node, "/api/v2/status").await.1;
        if body.contains(r#""status":"ready""#) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let cluster = &v["cluster"];
    assert_eq!(cluster["status"], "ready", "{body}");
    let name = cluster["name"].as_str().expect("name");
    assert_eq!(name.len(), 26, "{name}");
    assert_eq!(cluster["peers"][0]["name"], name, "{body}");
    let (_, metrics) = get(&node, "/metrics").await;
    assert_eq!(metric(&metrics, "alertmanager_cluster_enabled"), Some(1.0), "{metrics}");
    // prometheus-client appends the final full stop itself; a help text written with one would end in "..".
    let doubled: Vec<&str> =
        metrics.lines().filter(|l| l.starts_with("# HELP") && l.ends_with("..")).collect();
    assert!(doubled.is_empty(), "help texts ending in '..': {doubled:#?}");
}

/// SIGTERM compacts both stores into snapshots (`silences.snap`, `nflog.snap` in `--storage.path`), and a silence
/// created before it is served again by a node restarted on the same storage path.
#[tokio::test]
async fn sigterm_snapshots_storage_and_a_restart_keeps_silences() {
    let mut first = NodeBuilder::new(bin()).config(GOOD).start().expect("start");
    let data = first.dir().join("data");
    let silence = r#"{"matchers":[{"name":"alertname","value":"Kept","isRegex":false,"isEqual":true}],
        "startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"lifecycle",
        "comment":"survives a restart"}"#;
    let r = client()
        .post(first.url("/api/v2/silences"))
        .header("Content-Type", "application/json")
        .body(silence)
        .send()
        .await
        .expect("POST /api/v2/silences");
    assert_eq!(r.status().as_u16(), 200);
    let created: serde_json::Value = r.json().await.expect("json");
    let id = created["silenceID"].as_str().expect("silenceID").to_owned();

    assert_eq!(first.terminate(Duration::from_secs(10)), Some(0), "{}", first.log());
    for name in ["silences.snap", "nflog.snap"] {
        let path = data.join(name);
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{} missing or empty after SIGTERM; log:\n{}", path.display(), first.log());
    }
    // Beyond the 28-byte snapshot header: the silence itself is in the snapshot, not only in the log.
    assert!(std::fs::metadata(data.join("silences.snap")).expect("snap").len() > 28);

    // `first` (and with it the directory) stays alive while the second node reads it.
    let second = NodeBuilder::new(bin())
        .config(GOOD)
        .arg(format!("--storage.path={}", data.display()))
        .start()
        .expect("restart");
    let (status, body) = get(&second, &format!("/api/v2/silence/{id}")).await;
    assert_eq!(status, 200, "{body}\n{}", second.log());
    let got: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(got["id"], id.as_str(), "{body}");
    assert_eq!(got["status"]["state"], "active", "{body}");
    assert_eq!(got["comment"], "survives a restart", "{body}");
    assert_eq!(got["matchers"][0]["value"], "Kept", "{body}");
}

#[tokio::test]
async fn a_second_node_on_the_same_storage_path_exits_1_naming_the_lock() {
    let first = NodeBuilder::new(bin()).config(GOOD).start().expect("start");
    let data = first.dir().join("data");
    let cfg = first.dir().join("second.yml");
    std::fs::write(&cfg, GOOD).expect("write");
    let (code, stderr) = run_to_exit(&[
        format!("--config.file={}", cfg.display()),
        format!("--storage.path={}", data.display()),
        "--web.listen-address=127.0.0.1:0".to_owned(),
        "--cluster.listen-address=".to_owned(),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("msg=\"Unable to open storage\""), "{stderr}");
    let lock = data.join("tocsin.lock");
    assert!(
        stderr.contains(&format!("lock file {} is held by pid {}", lock.display(), first.pid())),
        "{stderr}"
    );
    // The first node is untouched and still serves.
    let (status, _) = get(&first, "/-/healthy").await;
    assert_eq!(status, 200, "{}", first.log());
}
