//! Black-box `--cluster.tls-config`: two real `tocsin` processes gossiping over mutual TLS on 127.0.0.1
//! (certificates from rcgen, written next to each node's TLS config with relative paths), and the start-up
//! error for a file without `tls_server_config`. Every wait is bounded; processes are killed by PID.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use tocsin_testkit::process::run_to_exit;
use tocsin_testkit::{free_port, Node, NodeBuilder};
use tokio::time::Instant;

const CONFIG: &str = "route:\n  receiver: hook\nreceivers:\n- name: hook\n";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tocsin")
}

/// Writes a CA and one node certificate for 127.0.0.1 (used as server and client certificate) into `dir`,
/// and the TLS config naming them relatively.
fn write_tls(dir: &Path, ca: &rcgen::Certificate, ca_key: &KeyPair) -> std::path::PathBuf {
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&key, ca, ca_key)
        .expect("node cert");
    std::fs::write(dir.join("ca.crt"), ca.pem()).expect("write");
    std::fs::write(dir.join("node.crt"), cert.pem()).expect("write");
    std::fs::write(dir.join("node.key"), key.serialize_pem()).expect("write");
    let path = dir.join("cluster-tls.yml");
    std::fs::write(
        &path,
        "tls_server_config:
  cert_file: node.crt
  key_file: node.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
tls_client_config:
  ca_file: ca.crt
  cert_file: node.crt
  key_file: node.key
",
    )
    .expect("write");
    path
}

async fn status(node: &Node) -> Value {
    match reqwest::get(node.url("/api/v2/status")).await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_gossip_over_mutual_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "tocsin cluster CA");
    let ca = ca_params.self_signed(&ca_key).expect("ca");

    let ports = [free_port(), free_port()];
    let mut nodes = Vec::new();
    for port in ports {
        let builder = NodeBuilder::new(bin()).config(CONFIG);
        let tls = write_tls(builder.dir(), &ca, &ca_key);
        let mut b = builder
            .arg(format!("--cluster.listen-address=127.0.0.1:{port}"))
            .arg(format!("--cluster.tls-config={}", tls.display()))
            .arg("--cluster.gossip-interval=50ms")
            .arg("--cluster.probe-interval=200ms")
            .arg("--cluster.probe-timeout=100ms")
            .arg("--cluster.pushpull-interval=2s")
            .arg("--cluster.reconnect-interval=500ms")
            .arg("--cluster.settle-timeout=2s");
        for p in ports {
            b = b.arg(format!("--cluster.peer=127.0.0.1:{p}"));
        }
        nodes.push(b.start().expect("start tocsin"));
    }
    let (a, b) = (&nodes[0], &nodes[1]);

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (sa, sb) = (status(a).await, status(b).await);
        let ready = |s: &Value| {
            s["cluster"]["status"] == "ready" && s["cluster"]["peers"].as_array().map_or(0, Vec::len) == 2
        };
        if ready(&sa) && ready(&sb) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready with 2 peers within 20s: {sa}\n{sb}\nA:\n{}\nB:\n{}",
            a.log(),
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let client = reqwest::Client::new();
    let body = json!({
        "matchers": [{"name": "alertname", "value": "A", "isRegex": false, "isEqual": true}],
        "startsAt": "2020-01-01T00:00:00.000Z", "endsAt": "2099-01-01T00:00:00.000Z",
        "createdBy": "test", "comment": "over TLS"
    });
    let r: Value =
        client.post(a.url("/api/v2/silences")).json(&body).send().await.unwrap().json().await.unwrap();
    let id = r["silenceID"].as_str().expect("silenceID").to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = client.get(b.url(&format!("/api/v2/silence/{id}"))).send().await.unwrap();
        if r.status().is_success() {
            let s: Value = r.json().await.unwrap();
            assert_eq!(s["comment"], "over TLS");
            break;
        }
        assert!(Instant::now() < deadline, "silence never reached B");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn tls_config_without_server_block_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("alertmanager.yml");
    std::fs::write(&cfg, CONFIG).expect("write");
    let tls = dir.path().join("cluster-tls.yml");
    std::fs::write(&tls, "tls_client_config:\n  insecure_skip_verify: true\n").expect("write");
    let mut cmd = Command::new(bin());
    cmd.arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.path={}", dir.path().join("data").display()))
        .arg("--web.listen-address=127.0.0.1:0")
        .arg(format!("--cluster.listen-address=127.0.0.1:{}", free_port()))
        .arg(format!("--cluster.tls-config={}", tls.display()));
    let (code, stderr) = run_to_exit(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("missing 'tls_server_config' entry in the TLS configuration"), "{stderr}");
    assert!(stderr.contains("cluster-tls.yml"), "{stderr}");

    // Unknown keys are fatal too, naming the key.
    std::fs::write(&tls, "tls_server_config:\n  cert_fiel: x.crt\n").expect("write");
    let mut cmd = Command::new(bin());
    cmd.arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.path={}", dir.path().join("data").display()))
        .arg("--web.listen-address=127.0.0.1:0")
        .arg(format!("--cluster.listen-address=127.0.0.1:{}", free_port()))
        .arg(format!("--cluster.tls-config={}", tls.display()));
    let (code, stderr) = run_to_exit(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("cert_fiel"), "{stderr}");
}
