//! Black-box: the notification pipeline of the real `tocsin` binary, on loopback, against a webhook sink
//! (tocsin-testkit `Sink`). Real time with short intervals (group_wait 1s, group_interval 2s); every wait is
//! bounded and the measured delays are printed (`cargo test --test pipeline -- --nocapture`).
//!
//! Covered: the firing → resolved timeline of one group and `/api/v2/alerts/groups`; a 500 is retried until a
//! 200; a 400 is not retried; the webhook body equals, byte for byte, what Alertmanager 0.25 sent for the same
//! alerts and config (the fixtures of crates/receivers/tests/golden, captured as their README explains); an
//! inhibited alert is not sent and shows `inhibitedBy`; a silence suppresses.

use std::time::Duration;
use tocsin_model::clock::{Clock, SystemClock};
use tocsin_testkit::{Node, NodeBuilder, Sink, SinkRequest};
use tokio::time::Instant;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tocsin")
}

fn client() -> reqwest::Client {
    // reqwest is built without a crypto provider (plain HTTP here, but the builder insists).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

/// group_wait 1s, group_interval 2s, one webhook with send_resolved.
fn config(sink: &Sink, extra: &str) -> String {
    format!(
        r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
- name: hook
  webhook_configs:
  - url: '{}'
    send_resolved: true
{extra}"#,
        sink.url("/hook")
    )
}

async fn post(node: &Node, path: &str, body: &str) -> (u16, String) {
    let r = client()
        .post(node.url(path))
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("POST");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

async fn get_json(node: &Node, path: &str) -> serde_json::Value {
    let r = client().get(node.url(path)).send().await.expect("GET");
    assert_eq!(r.status().as_u16(), 200, "GET {path}");
    r.json().await.expect("json")
}

fn rfc3339(offset: chrono::Duration) -> String {
    (SystemClock.now() + offset).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn alertnames(req: &SinkRequest) -> Vec<String> {
    req.json()["alerts"]
        .as_array()
        .map(|a| a.iter().map(|a| a["labels"]["alertname"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default()
}

/// Polls `f` until it returns `Some` (bounded by 10s).
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[tokio::test]
async fn firing_then_resolved_timeline_and_groups() {
    let sink = Sink::start().await;
    let node = NodeBuilder::new(bin()).config(&config(&sink, "")).start().expect("start");

    let t0 = Instant::now();
    let (status, body) =
        post(&node, "/api/v2/alerts", r#"[{"labels":{"alertname":"Timeline","job":"a"}}]"#).await;
    assert_eq!(status, 200, "{body}");
    let reqs = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(reqs.len(), 1, "firing notification; log:\n{}", node.log());
    let firing = &reqs[0];
    let first = firing.at - t0;
    println!("firing notification after {:.3}s (group_wait 1s)", secs(first));
    assert!(first >= Duration::from_millis(900) && first < Duration::from_millis(2500), "{first:?}");
    let v = firing.json();
    assert_eq!(v["status"], "firing");
    assert_eq!(v["groupKey"], r#"{}:{alertname="Timeline"}"#);
    assert_eq!(v["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");

    // The dispatcher's group, as the API shows it.
    let groups = get_json(&node, "/api/v2/alerts/groups").await;
    assert_eq!(groups.as_array().map(Vec::len), Some(1), "{groups}");
    assert_eq!(groups[0]["labels"], serde_json::json!({"alertname": "Timeline"}));
    assert_eq!(groups[0]["receiver"]["name"], "hook");
    assert_eq!(groups[0]["alerts"][0]["labels"]["job"], "a");
    let alerts = get_json(&node, "/api/v2/alerts").await;
    assert_eq!(alerts[0]["receivers"], serde_json::json!([{"name": "hook"}]), "{alerts}");

    // Resolve it: the next group_interval tick (2s after the first flush) sends the resolved notification.
    let body = format!(
        r#"[{{"labels":{{"alertname":"Timeline","job":"a"}},"endsAt":"{}"}}]"#,
        rfc3339(chrono::Duration::zero())
    );
    assert_eq!(post(&node, "/api/v2/alerts", &body).await.0, 200);
    let reqs = sink.wait_for(2, Duration::from_secs(6)).await;
    assert_eq!(reqs.len(), 2, "resolved notification; log:\n{}", node.log());
    let gap = reqs[1].at - reqs[0].at;
    println!("resolved notification {:.3}s after the firing one (group_interval 2s)", secs(gap));
    assert!(gap >= Duration::from_millis(1800) && gap < Duration::from_millis(3500), "{gap:?}");
    let v = reqs[1].json();
    assert_eq!(v["status"], "resolved");
    assert_eq!(v["alerts"][0]["status"], "resolved");
    assert_ne!(v["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");

    // Nothing more: the resolved alert left the group after it was notified.
    let reqs = sink.wait_for(3, Duration::from_millis(2500)).await;
    assert_eq!(reqs.len(), 2);
}

#[tokio::test]
async fn server_error_is_retried_until_success() {
    let sink = Sink::start().await;
    sink.script(&[500]);
    let node = NodeBuilder::new(bin()).config(&config(&sink, "")).start().expect("start");
    assert_eq!(post(&node, "/api/v2/alerts", r#"[{"labels":{"alertname":"Retry"}}]"#).await.0, 200);
    let reqs = sink.wait_for(2, Duration::from_secs(6)).await;
    assert_eq!(reqs.len(), 2, "log:\n{}", node.log());
    let gap = reqs[1].at - reqs[0].at;
    println!("retry {:.3}s after the 500 (backoff 500ms ±50%)", secs(gap));
    assert!(gap >= Duration::from_millis(200) && gap < Duration::from_millis(1500), "{gap:?}");
    assert_eq!(reqs[0].body, reqs[1].body);
    // Delivered: no further attempt.
    assert_eq!(sink.wait_for(3, Duration::from_millis(1500)).await.len(), 2);
    let metrics = client().get(node.url("/metrics")).send().await.expect("GET").text().await.expect("text");
    assert!(
        metrics.contains(r#"alertmanager_notification_requests_failed_total{integration="webhook"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"alertmanager_notifications_total{integration="webhook"} 1"#), "{metrics}");
}

#[tokio::test]
async fn client_error_is_not_retried() {
    let sink = Sink::start().await;
    sink.script(&[400, 400, 400]);
    let node = NodeBuilder::new(bin()).config(&config(&sink, "")).start().expect("start");
    assert_eq!(post(&node, "/api/v2/alerts", r#"[{"labels":{"alertname":"NoRetry"}}]"#).await.0, 200);
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).await.len(), 1, "log:\n{}", node.log());
    // Backoff would have retried within ~0.75s; wait well past that and the next group_interval would not
    // resend either (nothing changed and the flush failed, so the nflog has no entry: upstream retries then).
    assert_eq!(sink.wait_for(2, Duration::from_millis(1500)).await.len(), 1);
    let metrics = client().get(node.url("/metrics")).send().await.expect("GET").text().await.expect("text");
    assert!(
        metrics.contains(
            r#"alertmanager_notifications_failed_total{integration="webhook",reason="clientError"} 1"#
        ),
        "{metrics}"
    );
}

/// The capture setup of crates/receivers/tests/golden/capture.sh, with the sink in Alertmanager's place, except
/// `group_interval: 1s` instead of 1h (it is not part of the body). The alerts started in 2024, long before
/// `group_wait`, so their group flushes as soon as its first alert arrives, as upstream does; that first flush
/// may race the rest of the batch (in Alertmanager too). With a short interval the next tick then sends the
/// complete group, so the test compares the last body per receiver once the group is complete and stable.
#[tokio::test]
async fn webhook_body_equals_alertmanager_golden() {
    const ALERTS: &str = include_str!("../crates/receivers/tests/golden/alerts.json");
    const FULL: &[u8] = include_bytes!("../crates/receivers/tests/golden/full.json");
    const TRUNCATED: &[u8] = include_bytes!("../crates/receivers/tests/golden/truncated.json");
    let sink = Sink::start().await;
    let cfg = format!(
        r#"
route:
  receiver: 'golden-hook.v1+'
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4h
  routes:
    - receiver: 'golden-hook.v1+'
      continue: true
    - receiver: 'truncating'
      matchers: ['alertname="Golden"']
receivers:
  - name: 'golden-hook.v1+'
    webhook_configs:
      - url: '{}'
  - name: 'truncating'
    webhook_configs:
      - url: '{}'
        max_alerts: 2
"#,
        sink.url("/full"),
        sink.url("/truncated")
    );
    let node = NodeBuilder::new(bin())
        .config(&cfg)
        .arg("--web.external-url=http://am.example:9093/prefix")
        .start()
        .expect("start");
    let (status, body) = post(&node, "/prefix/api/v2/alerts", ALERTS).await;
    assert_eq!(status, 200, "{body}");
    let first = sink.wait_for(2, Duration::from_secs(5)).await;
    assert!(first.len() >= 2, "log:\n{}", node.log());
    // One more tick: a flush that missed part of the batch is completed; a complete one is not repeated.
    let reqs = sink.wait_for(5, Duration::from_millis(2500)).await;
    println!("golden: {} notification(s) ({} at the first flush)", reqs.len(), first.len());
    let by_path = |p: &str| reqs.iter().rev().find(|r| r.path == p).map(|r| r.body.to_vec()).expect(p);
    let (full, truncated) = (by_path("/full"), by_path("/truncated"));
    assert_eq!(String::from_utf8_lossy(&full), String::from_utf8_lossy(FULL));
    assert_eq!(String::from_utf8_lossy(&truncated), String::from_utf8_lossy(TRUNCATED));
    let v: serde_json::Value = serde_json::from_slice(&truncated).expect("json");
    assert_eq!(v["version"], "4");
    assert_eq!(v["truncatedAlerts"], 1);
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn inhibited_alert_is_not_sent_and_shows_inhibited_by() {
    let sink = Sink::start().await;
    let rules = r#"
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [cluster]
"#;
    let node = NodeBuilder::new(bin()).config(&config(&sink, rules)).start().expect("start");
    let alerts = r#"[
      {"labels":{"alertname":"Source","severity":"critical","cluster":"c1"}},
      {"labels":{"alertname":"Target","severity":"warning","cluster":"c1"}},
      {"labels":{"alertname":"Elsewhere","severity":"warning","cluster":"c2"}}
    ]"#;
    assert_eq!(post(&node, "/api/v2/alerts", alerts).await.0, 200);
    // Two groups notify (Source, Elsewhere); Target's group flushes too but everything in it is inhibited.
    let reqs = sink.wait_for(3, Duration::from_secs(4)).await;
    let mut sent: Vec<String> = reqs.iter().flat_map(alertnames).collect();
    sent.sort();
    assert_eq!(sent, ["Elsewhere", "Source"], "log:\n{}", node.log());

    let source_fp = get_json(&node, "/api/v2/alerts?filter=alertname%3D%22Source%22").await[0]["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_owned();
    let target = eventually("inhibitedBy on Target", || async {
        let v = get_json(&node, "/api/v2/alerts?filter=alertname%3D%22Target%22").await;
        let status = v[0]["status"].clone();
        (status["inhibitedBy"].as_array().is_some_and(|a| !a.is_empty())).then_some(status)
    })
    .await;
    assert_eq!(target["inhibitedBy"], serde_json::json!([source_fp]));
    assert_eq!(target["state"], "suppressed");
    let metrics = client().get(node.url("/metrics")).send().await.expect("GET").text().await.expect("text");
    // Counted per flush of Target's group (every group_interval while it stays inhibited).
    let suppressed = metrics
        .lines()
        .find_map(|l| l.strip_prefix(r#"alertmanager_notifications_suppressed_total{reason="inhibition"} "#))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(suppressed.is_some_and(|n| n >= 1.0), "{metrics}");
}

#[tokio::test]
async fn silence_suppresses() {
    let sink = Sink::start().await;
    let node = NodeBuilder::new(bin()).config(&config(&sink, "")).start().expect("start");
    let silence = format!(
        r#"{{"matchers":[{{"name":"alertname","value":"Quiet","isRegex":false,"isEqual":true}}],
            "startsAt":"{}","endsAt":"{}","createdBy":"test","comment":"e2e"}}"#,
        rfc3339(chrono::Duration::seconds(-1)),
        rfc3339(chrono::Duration::hours(1))
    );
    let (status, body) = post(&node, "/api/v2/silences", &silence).await;
    assert_eq!(status, 200, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).expect("json")["silenceID"]
        .as_str()
        .expect("silenceID")
        .to_owned();
    let alerts = r#"[{"labels":{"alertname":"Quiet"}},{"labels":{"alertname":"Loud"}}]"#;
    assert_eq!(post(&node, "/api/v2/alerts", alerts).await.0, 200);
    let reqs = sink.wait_for(2, Duration::from_secs(4)).await;
    assert_eq!(reqs.len(), 1, "log:\n{}", node.log());
    assert_eq!(alertnames(&reqs[0]), ["Loud"]);
    let quiet = get_json(&node, "/api/v2/alerts?filter=alertname%3D%22Quiet%22").await;
    assert_eq!(quiet[0]["status"]["silencedBy"], serde_json::json!([id]), "{quiet}");
    assert_eq!(quiet[0]["status"]["state"], "suppressed");
}

#[tokio::test]
async fn reload_rebuilds_the_pipeline() {
    let sink = Sink::start().await;
    let node = NodeBuilder::new(bin()).config(&config(&sink, "")).start().expect("start");
    let path = node.dir().join("alertmanager.yml");
    std::fs::write(&path, config(&sink, "").replace("/hook", "/after-reload")).expect("rewrite config");
    node.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.log().matches("Completed loading of configuration file").count() < 2 {
        assert!(Instant::now() < deadline, "no reload; log:\n{}", node.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(post(&node, "/api/v2/alerts", r#"[{"labels":{"alertname":"Reloaded"}}]"#).await.0, 200);
    let reqs = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(reqs.len(), 1, "log:\n{}", node.log());
    assert_eq!(reqs[0].path, "/after-reload");
}
