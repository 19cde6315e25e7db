//! Black-box: secrets never leave the process (DESIGN §7). The real binary runs at `--log.level=debug` with one
//! receiver whose every integration (webhook, DingTalk, WeCom, Feishu, email) carries recognisable secrets and
//! fails (connection refused on a closed loopback port). Once the log shows a failed attempt for each integration,
//! no `SECRET_*` string may appear in the log, `GET /api/v2/status`, `GET /api/v2/receivers`, `GET /metrics`, or
//! the body of a failed `POST /-/reload` of a broken file that contains a secret URL.
//! Every wait is bounded; the node is killed by PID when dropped.

use std::time::Duration;
use tocsin_testkit::{Node, NodeBuilder};
use tokio::time::{sleep, Instant};

/// Every secret of the configs below: each contains `SECRET`, so a leak of any one is caught by name.
const SECRETS: [&str; 10] = [
    "SECRET_WEBHOOK_TOKEN",
    "SECRET_BASIC_PASSWORD",
    "SECRET_DINGTALK_TOKEN",
    "SECSECRETDINGTALKSIGN",
    "SECRET_WECOM_KEY",
    "SECRET_FEISHU_HOOK",
    "SECRET_FEISHU_SIGN",
    "SECRET_SMTP_PASSWORD",
    "SECRET_RELOAD_TOKEN",
    "SECRET_RELOAD_PASSWORD",
];

/// The integrations of the failing receiver, as the pipeline names them in its log (`<name>[<idx>]`).
const INTEGRATIONS: [&str; 5] = ["webhook[0]", "dingtalk[0]", "wecom[0]", "feishu[0]", "email[0]"];

/// A loopback port nothing listens on: bound, then released (connections to it are refused).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("addr").port()
}

fn config(port: u16) -> String {
    format!(
        r#"
route:
  receiver: everything
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: everything
  webhook_configs:
  - url: http://127.0.0.1:{port}/hook?token=SECRET_WEBHOOK_TOKEN
    http_config:
      basic_auth: {{username: tocsin, password: SECRET_BASIC_PASSWORD}}
  dingtalk_configs:
  - url: http://127.0.0.1:{port}/robot/send?access_token=SECRET_DINGTALK_TOKEN
    secret: SECSECRETDINGTALKSIGN
  wecom_configs:
  - url: http://127.0.0.1:{port}/cgi-bin/webhook/send?key=SECRET_WECOM_KEY
  feishu_configs:
  - url: http://127.0.0.1:{port}/open-apis/bot/v2/hook/SECRET_FEISHU_HOOK
    secret: SECRET_FEISHU_SIGN
  email_configs:
  - to: oncall@example.com
    from: tocsin@example.com
    smarthost: 127.0.0.1:{port}
    auth_username: tocsin
    auth_password: SECRET_SMTP_PASSWORD
    require_tls: false
"#
    )
}

/// Broken files for `POST /-/reload`, each with secrets in it: a YAML syntax error, and a semantic error in a
/// secret-bearing URL (upstream's wording names the scheme, never the URL).
fn broken_configs(port: u16) -> [String; 2] {
    [
        format!(
            "route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: http://127.0.0.1:{port}/x?token=SECRET_RELOAD_TOKEN\n    http_config:\n      basic_auth: {{username: u, password: SECRET_RELOAD_PASSWORD\n   bad: [indent\n"
        ),
        "route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: ftp://user:SECRET_RELOAD_PASSWORD@127.0.0.1/x?token=SECRET_RELOAD_TOKEN\n"
            .to_owned(),
    ]
}

fn client() -> reqwest::Client {
    // reqwest is built without a crypto provider (plain HTTP here, but the builder insists).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

async fn get(node: &Node, path: &str) -> (u16, String) {
    let r = client().get(node.url(path)).send().await.expect("GET");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

/// Panics naming the secret and the place if any secret appears in `text`.
fn assert_clean(place: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "secret {s} leaked into {place}:\n{text}");
    }
}

/// Waits (bounded) until the log shows a failed notification attempt for every integration.
async fn wait_for_failures(node: &Node) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = node.log();
        let failed = |i: &&str| {
            log.lines().any(|l| {
                (l.contains("Notify attempt failed") || l.contains("Notify for alerts failed"))
                    && l.contains(&format!("integration={i}"))
            })
        };
        let missing: Vec<&str> = INTEGRATIONS.iter().filter(|i| !failed(i)).copied().collect();
        if missing.is_empty() && log.contains("Notify for alerts failed") {
            return;
        }
        assert!(Instant::now() < deadline, "no notify failure logged for {missing:?}:\n{log}");
        sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn secrets_stay_out_of_logs_status_metrics_and_reload_errors() {
    let port = closed_port();
    let node = NodeBuilder::new(env!("CARGO_BIN_EXE_tocsin"))
        .config(&config(port))
        .arg("--log.level=debug")
        .start()
        .expect("start");
    let r = client()
        .post(node.url("/api/v2/alerts"))
        .header("Content-Type", "application/json")
        .body(r#"[{"labels":{"alertname":"SecretsTest","severity":"critical"}}]"#)
        .send()
        .await
        .expect("POST /api/v2/alerts");
    assert_eq!(r.status().as_u16(), 200);
    wait_for_failures(&node).await;

    let (status, body) = get(&node, "/api/v2/status").await;
    assert_eq!(status, 200, "{body}");
    assert_clean("GET /api/v2/status", &body);
    assert!(body.contains("<secret>"), "status shows no redacted field:\n{body}");
    let (_, receivers) = get(&node, "/api/v2/receivers").await;
    assert_clean("GET /api/v2/receivers", &receivers);
    let (status, metrics) = get(&node, "/metrics").await;
    assert_eq!(status, 200);
    assert_clean("GET /metrics", &metrics);
    assert!(
        metrics.contains("alertmanager_notifications_failed_total{integration=\"webhook\""),
        "failures are counted:\n{metrics}"
    );

    let cfg = node.dir().join("alertmanager.yml");
    for broken in broken_configs(port) {
        std::fs::write(&cfg, &broken).expect("write config");
        let r = client().post(node.url("/-/reload")).send().await.expect("POST /-/reload");
        let status = r.status().as_u16();
        let body = r.text().await.expect("body");
        assert_eq!(status, 500, "{broken}\n{body}");
        assert!(body.starts_with("failed to reload config: "), "{body}");
        assert_clean("the body of a failed POST /-/reload", &body);
    }
    // The old config is still running, and still redacted.
    let (_, body) = get(&node, "/api/v2/status").await;
    assert_clean("GET /api/v2/status after a failed reload", &body);
    assert!(body.contains("receiver: everything"), "{body}");

    let log = node.log();
    assert!(log.contains("level=debug"), "debug logging is on:\n{log}");
    assert!(log.contains("Loading configuration file failed"), "{log}");
    assert_clean("the log", &log);
}
