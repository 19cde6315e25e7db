//! Black-box: the real Prometheus (Debian's 2.42, /usr/bin/prometheus) sends its alerts to the real `tocsin` binary
//! exactly as it sends them to Alertmanager: the `alerting:` block of prometheus.yml with `api_version: v2`, with
//! and without a route prefix, firing and then resolved. Skipped (visibly) when Prometheus is not installed.
//!
//! Two Prometheus facts shape these tests (both hold for Alertmanager too, see examples/prometheus/prometheus.yml):
//! - Its notifier learns Alertmanager targets from service discovery, which publishes on a 5s tick. Until the first
//!   tick after start-up, and again after every reload, it has no Alertmanager and counts evaluated alerts as
//!   `prometheus_notifications_dropped_total`. With the default `--rules.alert.resend-delay=1m` such an alert
//!   would wait a minute to be sent again, so we run with 1s. "Nothing dropped" is therefore asserted from the
//!   moment tocsin holds the alert on, and `prometheus_notifications_errors_total` (failed sends to tocsin) is
//!   asserted 0 throughout.
//! - Firing alerts are re-sent every resend delay; tocsin must keep them as one alert and notify once.
//!
//! Real time (Prometheus is a real process): every wait is bounded, timings are printed
//! (`cargo test -p tocsin --test prometheus -- --nocapture`). Prometheus is killed by PID when its guard drops.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tocsin_testkit::{free_port, tool, Node, NodeBuilder, Sink};
use tokio::time::{sleep, Instant};

/// Upper bound of every wait: covers Prometheus start-up, the 5s discovery tick, group_wait and slack for a loaded
/// 2-core machine.
const WAIT: Duration = Duration::from_secs(20);

const FIRING_RULES: &str = r#"groups:
- name: tocsin-test
  rules:
  - alert: PromAlwaysFiring
    expr: vector(1)
    labels:
      severity: page
    annotations:
      summary: always firing
"#;

/// Same group, alert name and labels (Prometheus carries the alert's state over a reload by those), an expression
/// that no longer returns anything: the alert resolves on the next evaluation.
const RESOLVED_RULES: &str = r#"groups:
- name: tocsin-test
  rules:
  - alert: PromAlwaysFiring
    expr: vector(1) < 0
    labels:
      severity: page
    annotations:
      summary: always firing
"#;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tocsin")
}

fn prometheus_bin() -> Option<PathBuf> {
    let found = tool("/usr/bin/prometheus");
    if found.is_none() {
        println!("skipped: prometheus not installed");
    }
    found
}

fn client() -> reqwest::Client {
    // reqwest is built without a crypto provider (plain HTTP here, but the builder insists).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client")
}

/// group_wait 1s; group_interval 1s so that a duplicate notification would show within the short quiet window.
fn tocsin_config(sink: &Sink) -> String {
    format!(
        r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: hook
  webhook_configs:
  - url: '{}'
    send_resolved: true
"#,
        sink.url("/hook")
    )
}

fn start_tocsin(sink: &Sink, prefix: &str) -> Node {
    let mut b = NodeBuilder::new(bin()).config(&tocsin_config(sink));
    if !prefix.is_empty() {
        b = b.arg(format!("--web.route-prefix={prefix}"));
    }
    b.start().expect("start tocsin")
}

/// A Prometheus child process on 127.0.0.1; SIGKILLed by PID when dropped.
struct Prometheus {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus alerting to `target` (`host:port`) under `path_prefix` ("" for none) with `rules` as its
    /// rule file, and waits (bounded) until `/-/ready`.
    async fn start(bin: &std::path::Path, target: &str, path_prefix: &str, rules: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let prefix_line =
            if path_prefix.is_empty() { String::new() } else { format!("    path_prefix: {path_prefix}\n") };
        let config = format!(
            "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nalerting:\n  alertmanagers:\n  - api_version: v2\n\
             {prefix_line}    static_configs:\n    - targets: ['{target}']\n"
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).expect("write prometheus.yml");
        std::fs::write(dir.path().join("rules.yml"), rules).expect("write rules.yml");
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("create log");
        let port = free_port();
        let child = Command::new(bin)
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // generatorURL is built from the external URL; the default would use the machine's host name.
            .arg(format!("--web.external-url=http://127.0.0.1:{port}/"))
            .arg("--web.enable-lifecycle")
            .arg("--rules.alert.resend-delay=1s")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn prometheus");
        let prom = Prometheus { child, port, dir };
        let ready = prom.url("/-/ready");
        eventually("Prometheus ready", &prom, || {
            let ready = ready.clone();
            async move { client().get(ready).send().await.ok().filter(|r| r.status().is_success()).map(|_| ()) }
        })
        .await;
        prom
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// Replaces the rule file and reloads the configuration (`POST /-/reload`, answered once it is applied).
    async fn reload_rules(&self, rules: &str) {
        std::fs::write(self.dir.path().join("rules.yml"), rules).expect("write rules.yml");
        let r = client().post(self.url("/-/reload")).send().await.expect("POST /-/reload");
        assert_eq!(
            r.status().as_u16(),
            200,
            "reload: {}\n{}",
            r.text().await.unwrap_or_default(),
            self.log()
        );
    }

    async fn metrics(&self) -> String {
        client()
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// `data.activeAlertmanagers[].url` of `/api/v1/alertmanagers`.
    async fn active_alertmanagers(&self) -> Vec<String> {
        let Ok(r) = client().get(self.url("/api/v1/alertmanagers")).send().await else { return Vec::new() };
        let v: serde_json::Value = r.json().await.unwrap_or_default();
        v["data"]["activeAlertmanagers"]
            .as_array()
            .map(|a| a.iter().filter_map(|am| am["url"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        // Child::kill is SIGKILL to this child's PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` every 100ms until it returns `Some`, at most [`WAIT`]; fails with Prometheus' log otherwise.
async fn eventually<T, F, Fut>(what: &str, prom: &Prometheus, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}; prometheus log:\n{}",
            prom.log()
        );
        sleep(Duration::from_millis(100)).await;
    }
}

/// Sum of every sample of `name` (any labels) in a Prometheus text exposition; `None` when there is none.
fn metric_sum(text: &str, name: &str) -> Option<f64> {
    let values: Vec<f64> = text
        .lines()
        .filter_map(|l| l.strip_prefix(name))
        .filter(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        .filter_map(|rest| rest.rsplit(' ').next().and_then(|v| v.parse().ok()))
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

/// The one alert named `PromAlwaysFiring` in tocsin's `GET /api/v2/alerts` (which lists only unresolved alerts).
async fn tocsin_alert(node: &Node, prefix: &str) -> Option<serde_json::Value> {
    let r = client().get(node.url(&format!("{prefix}/api/v2/alerts"))).send().await.ok()?;
    let v: serde_json::Value = r.json().await.ok()?;
    v.as_array()?.iter().find(|a| a["labels"]["alertname"] == "PromAlwaysFiring").cloned()
}

fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

/// What a fired alert looks like after it went Prometheus → tocsin → webhook. Returns tocsin and Prometheus for
/// the caller to go on with.
struct Fired {
    sink: Sink,
    node: Node,
    prom: Prometheus,
    t0: Instant,
}

/// Starts tocsin (route prefix `prefix`) and Prometheus with the firing rule, and asserts the firing half of the
/// journey: tocsin active in Prometheus, the alert in tocsin's API with Prometheus' labels and generatorURL, one
/// webhook notification, no failed sends.
async fn fire(prom_bin: &std::path::Path, prefix: &str, tag: &str) -> Fired {
    let t0 = Instant::now();
    let sink = Sink::start().await;
    let node = start_tocsin(&sink, prefix);
    let prom = Prometheus::start(prom_bin, &node.addr, prefix, FIRING_RULES).await;
    println!("[{tag}] tocsin and Prometheus ready after {}", secs(t0.elapsed()));

    // Prometheus discovered tocsin (its 5s service-discovery tick) and lists it as active.
    let am_url = format!("http://{}{prefix}/api/v2/alerts", node.addr);
    let want = am_url.clone();
    eventually("tocsin in Prometheus' activeAlertmanagers", &prom, || {
        let (prom, want) = (&prom, want.clone());
        async move { prom.active_alertmanagers().await.contains(&want).then_some(()) }
    })
    .await;
    println!("[{tag}] Prometheus lists {am_url} as active after {}", secs(t0.elapsed()));

    // tocsin holds the alert, with what Prometheus put in it.
    let alert =
        eventually("the alert in tocsin's GET /api/v2/alerts", &prom, || tocsin_alert(&node, prefix)).await;
    println!("[{tag}] alert in tocsin after {}", secs(t0.elapsed()));
    assert_eq!(
        alert["labels"],
        serde_json::json!({"alertname": "PromAlwaysFiring", "severity": "page"}),
        "{alert}"
    );
    assert_eq!(alert["annotations"], serde_json::json!({"summary": "always firing"}), "{alert}");
    assert_eq!(alert["status"]["state"], "active", "{alert}");
    assert_eq!(alert["receivers"], serde_json::json!([{"name": "hook"}]), "{alert}");
    let generator = alert["generatorURL"].as_str().unwrap_or_default().to_owned();
    assert!(
        generator.starts_with(&prom.url("/graph?g0.expr=")),
        "generatorURL {generator:?} does not point at Prometheus"
    );
    let r = client().get(&generator).send().await.expect("GET generatorURL");
    assert_eq!(r.status().as_u16(), 200, "Prometheus serves the generatorURL {generator}");
    // Prometheus sends endsAt = now + 4 x max(resend delay, evaluation interval): still ahead.
    assert_ne!(alert["endsAt"], "0001-01-01T00:00:00Z", "{alert}");

    // Every earlier notifier batch has finished (they are sent one at a time): drops from here on would be ours.
    let metrics = prom.metrics().await;
    let dropped_before = metric_sum(&metrics, "prometheus_notifications_dropped_total").unwrap_or(0.0);
    println!("[{tag}] alerts Prometheus dropped before it had discovered tocsin: {dropped_before}");

    // One webhook notification. It follows the alert's arrival at once: as in Alertmanager, group_wait is counted
    // from the alert's startsAt (Prometheus' activeAt, seconds ago because of the discovery gap), not its arrival.
    let reqs = sink.wait_for(1, WAIT).await;
    assert_eq!(reqs.len(), 1, "firing notification; tocsin log:\n{}", node.log());
    println!("[{tag}] firing notification after {}", secs(t0.elapsed()));
    let body = reqs[0].json();
    assert_eq!(body["version"], "4", "{body}");
    assert_eq!(body["status"], "firing", "{body}");
    assert_eq!(body["receiver"], "hook", "{body}");
    assert_eq!(body["alerts"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["alerts"][0]["status"], "firing", "{body}");
    assert_eq!(body["alerts"][0]["labels"], alert["labels"], "{body}");
    assert_eq!(body["alerts"][0]["annotations"], alert["annotations"], "{body}");
    assert_eq!(body["alerts"][0]["generatorURL"], generator.as_str(), "{body}");
    // The API renders milliseconds (`…56.610Z`), the webhook Go's RFC3339Nano (`…56.61Z`): compare the instants.
    let millis = |v: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default()).map(|t| t.timestamp_millis())
    };
    assert_eq!(
        millis(&body["alerts"][0]["startsAt"]).expect("webhook startsAt"),
        millis(&alert["startsAt"]).expect("API startsAt"),
        "{body}"
    );

    // Prometheus re-sends the firing alert every second: still one notification after two more group intervals.
    let reqs = sink.wait_for(2, Duration::from_millis(2500)).await;
    assert_eq!(
        reqs.len(),
        1,
        "re-sent alerts must not notify again: {:?}",
        reqs.iter().map(|r| r.json()).collect::<Vec<_>>()
    );

    let metrics = prom.metrics().await;
    let sent = metric_sum(&metrics, "prometheus_notifications_sent_total").unwrap_or(0.0);
    assert!(sent >= 2.0, "Prometheus sent (and re-sent) the alert to tocsin: {sent}");
    assert_eq!(metric_sum(&metrics, "prometheus_notifications_errors_total"), Some(0.0), "{metrics}");
    let dropped = metric_sum(&metrics, "prometheus_notifications_dropped_total").unwrap_or(0.0);
    assert_eq!(dropped, dropped_before, "nothing dropped once tocsin was discovered");
    println!("[{tag}] {sent} alerts sent to tocsin, 0 errors, no drops after discovery");
    Fired { sink, node, prom, t0 }
}

#[tokio::test]
async fn prometheus_sends_firing_alert_to_tocsin() {
    let Some(prom_bin) = prometheus_bin() else { return };
    let f = fire(&prom_bin, "", "fire").await;
    println!("[fire] done in {}", secs(f.t0.elapsed()));
}

#[tokio::test]
async fn prometheus_path_prefix_matches_route_prefix() {
    let Some(prom_bin) = prometheus_bin() else { return };
    let f = fire(&prom_bin, "/am", "/am").await;
    // Nothing answers without the prefix: the alert really went through /am.
    let r = client().get(f.node.url("/api/v2/alerts")).send().await.expect("GET");
    assert_eq!(r.status().as_u16(), 404);
    println!("[/am] done in {}", secs(f.t0.elapsed()));
}

#[tokio::test]
async fn prometheus_resolves_alert_in_tocsin() {
    let Some(prom_bin) = prometheus_bin() else { return };
    let Fired { sink, node, prom, t0 } = fire(&prom_bin, "", "res").await;
    let firing = sink.requests()[0].json();

    let t_reload = Instant::now();
    prom.reload_rules(RESOLVED_RULES).await;

    // tocsin took the resolved alert (Prometheus sends endsAt = resolution time; the 5s discovery gap after the
    // reload is bridged by the 1s resend delay): it leaves GET /api/v2/alerts and is counted as received resolved.
    eventually("tocsin to receive the resolved alert", &prom, || async {
        let metrics = client().get(node.url("/metrics")).send().await.ok()?.text().await.ok()?;
        let resolved =
            metric_sum(&metrics, "alertmanager_alerts_received_total{status=\"resolved\",version=\"v2\"}");
        (resolved.unwrap_or(0.0) >= 1.0 && tocsin_alert(&node, "").await.is_none()).then_some(())
    })
    .await;
    println!("[res] tocsin received the resolved alert {} after the reload", secs(t_reload.elapsed()));

    let reqs = sink.wait_for(2, WAIT).await;
    assert_eq!(reqs.len(), 2, "resolved notification; tocsin log:\n{}", node.log());
    println!("[res] resolved notification {} after the reload", secs(t_reload.elapsed()));
    let body = reqs[1].json();
    assert_eq!(body["version"], "4", "{body}");
    assert_eq!(body["status"], "resolved", "{body}");
    let alert = &body["alerts"][0];
    assert_eq!(alert["status"], "resolved", "{body}");
    assert_eq!(alert["labels"], firing["alerts"][0]["labels"], "{body}");
    assert_eq!(alert["startsAt"], firing["alerts"][0]["startsAt"], "{body}");
    let parse = |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default());
    let (starts, ends) =
        (parse(&alert["startsAt"]).expect("startsAt"), parse(&alert["endsAt"]).expect("endsAt"));
    assert!(ends > starts, "endsAt {ends} is the resolution time, after startsAt {starts}");
    // The new rule's expression is in the generatorURL Prometheus sent with the resolved alert.
    let generator = alert["generatorURL"].as_str().unwrap_or_default();
    assert!(generator.starts_with(&prom.url("/graph?g0.expr=")), "{generator}");

    let metrics = prom.metrics().await;
    assert_eq!(metric_sum(&metrics, "prometheus_notifications_errors_total"), Some(0.0), "{metrics}");
    println!("[res] done in {}", secs(t0.elapsed()));
}

/// The operator example stays valid Prometheus configuration (rule file included).
#[test]
fn example_config_passes_promtool() {
    let Some(promtool) = tool("/usr/bin/promtool") else {
        println!("skipped: promtool not installed");
        return;
    };
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/prometheus/prometheus.yml");
    let out = Command::new(promtool).args(["check", "config", example]).output().expect("run promtool");
    assert!(
        out.status.success(),
        "promtool check config {example}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
