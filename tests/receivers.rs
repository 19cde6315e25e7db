//! Black-box: the real `tocsin` binary with a `dingtalk_configs` receiver pointing at a mock DingTalk robot on
//! loopback (the mock of crates/receivers/tests, which records requests). One alert group → exactly one
//! DingTalk message, signed as DingTalk verifies it (timestamp ms + HmacSHA256 + base64 + URL-encode), rendered
//! with a user template loaded from `templates:`. Also: a template that does not parse fails the reload with
//! upstream's wording and leaves the running configuration in force.

#![allow(clippy::unwrap_used)] // the mock shared with crates/receivers/tests unwraps in its helpers

#[path = "../crates/receivers/tests/dingtalk_mock/mod.rs"]
mod dingtalk_mock;

use dingtalk_mock::{Mock, Req};
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::{Clock, SystemClock};
use tocsin_receivers::dingtalk::sign::dingtalk_sign;
use tocsin_testkit::NodeBuilder;
use tokio::time::Instant;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const SECRET: &str = "SEC0123456789abcdef";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tocsin")
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

/// DingTalk's checks: token, a timestamp within an hour of now, and the signature.
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
    Ok(())
}

async fn robot() -> Mock {
    Mock::start(Arc::new(|req, _| match verify(req) {
        Ok(()) => (200, r#"{"errcode":0,"errmsg":"ok"}"#.to_owned()),
        Err(msg) => (200, serde_json::json!({"errcode": 310000, "errmsg": msg}).to_string()),
    }))
    .await
}

fn config(robot: &Mock, template_glob: &str) -> String {
    format!(
        r#"
templates: ['{template_glob}']
route:
  receiver: ding
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1h
receivers:
- name: ding
  dingtalk_configs:
  - url: '{}'
    secret: '{SECRET}'
    title: '{{{{ template "e2e.title" . }}}}'
"#,
        robot.url(&format!("/robot/send?access_token={TOKEN}"))
    )
}

#[tokio::test]
async fn one_group_gives_one_signed_dingtalk_message() {
    // The signing function the mock verifies with is DingTalk's, as the issue's test vector pins it.
    assert_eq!(dingtalk_sign(SECRET, 1_700_000_000_000), "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D");
    let robot = robot().await;
    let builder = NodeBuilder::new(bin());
    let tmpl = builder.dir().join("ding.tmpl");
    std::fs::write(
        &tmpl,
        r#"{{ define "e2e.title" }}[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ end }}"#,
    )
    .expect("write template");
    let node = builder.config(&config(&robot, &builder_glob(&tmpl))).start().expect("start");
    let alerts = r#"[
      {"labels":{"alertname":"DiskFull","instance":"db-1"},"annotations":{"summary":"disk 95%"}},
      {"labels":{"alertname":"DiskFull","instance":"db-2"},"annotations":{"summary":"disk 97%"}}
    ]"#;
    let r = client()
        .post(node.url("/api/v2/alerts"))
        .header("Content-Type", "application/json")
        .body(alerts)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status().as_u16(), 200);

    // group_wait 1s; wait 3s in all, so a duplicate or a retry would show.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reqs = robot.requests();
    assert_eq!(reqs.len(), 1, "exactly one message; log:\n{}", node.log());
    let req = &reqs[0];
    assert_eq!(verify(req), Ok(()), "query: {}", req.query);
    assert!(req.content_type.starts_with("application/json"), "{}", req.content_type);
    assert_eq!(req.body["msgtype"], "markdown", "{}", req.body);
    assert_eq!(req.body["markdown"]["title"], "[FIRING] DiskFull", "{}", req.body);
    let text = req.body["markdown"]["text"].as_str().expect("markdown text");
    assert!(text.contains("db-1") && text.contains("db-2"), "{text}");
    let metrics = client().get(node.url("/metrics")).send().await.expect("GET").text().await.expect("text");
    assert!(metrics.contains(r#"alertmanager_notifications_total{integration="dingtalk"} 1"#), "{metrics}");
}

fn builder_glob(tmpl: &std::path::Path) -> String {
    tmpl.with_file_name("*.tmpl").display().to_string()
}

#[tokio::test]
async fn unparsable_template_fails_the_reload() {
    let robot = robot().await;
    let builder = NodeBuilder::new(bin());
    let tmpl = builder.dir().join("ding.tmpl");
    std::fs::write(&tmpl, r#"{{ define "e2e.title" }}ok{{ end }}"#).expect("write template");
    let node = builder.config(&config(&robot, &builder_glob(&tmpl))).start().expect("start");
    std::fs::write(&tmpl, "{{ define \"e2e.title\" }}\n{{ .Status ").expect("write template");
    let r = client().post(node.url("/-/reload")).send().await.expect("POST /-/reload");
    assert_eq!(r.status().as_u16(), 500);
    let body = r.text().await.expect("body");
    assert!(body.starts_with("failed to reload config: failed to parse templates: "), "{body}");
    let metrics = client().get(node.url("/metrics")).send().await.expect("GET").text().await.expect("text");
    assert!(metrics.contains("alertmanager_config_last_reload_successful 0"), "{metrics}");
    // The running configuration still serves.
    let r = client().get(node.url("/-/ready")).send().await.expect("GET");
    assert_eq!(r.status().as_u16(), 200);
}
