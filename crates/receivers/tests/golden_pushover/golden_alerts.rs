//! The alerts of `tests/golden/alerts.json` and the notification context of the messaging captures
//! (`golden_{telegram,pushover,webex,wechat}/capture.sh`), shared by their tests via `#[path]`.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use tocsin_model::time::parse_rfc3339;
use tocsin_model::{Alert, LabelSet};
use tocsin_pipeline::notifier::NotifyCtx;

const ALERTS: &str = include_str!("../golden/alerts.json");

fn labels(v: &serde_json::Value) -> LabelSet {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect())
        .unwrap_or_default()
}

/// All three alerts, in Alertmanager's order (two firing, the last resolved at the flush time).
pub fn alerts() -> Vec<Arc<Alert>> {
    let raw: Vec<serde_json::Value> = serde_json::from_str(ALERTS).unwrap();
    raw.iter()
        .map(|a| {
            let t = |k: &str| parse_rfc3339(a[k].as_str().unwrap()).unwrap();
            Arc::new(Alert {
                labels: labels(&a["labels"]),
                annotations: labels(&a["annotations"]),
                starts_at: t("startsAt"),
                ends_at: t("endsAt"),
                generator_url: a["generatorURL"].as_str().unwrap_or("").into(),
                updated_at: t("startsAt"),
                timeout: false,
            })
        })
        .collect()
}

/// Only the firing ones (what reaches an integration with `send_resolved: false`).
pub fn firing() -> Vec<Arc<Alert>> {
    alerts().into_iter().take(2).collect()
}

/// The capture's context: `--web.external-url=http://am.example:9093/prefix`, `group_by: [alertname]`.
pub fn ctx(receiver: &str) -> NotifyCtx {
    NotifyCtx {
        receiver: receiver.to_owned(),
        group_key: "{}/{}:{alertname=\"Golden\"}".to_owned(),
        group_labels: [("alertname", "Golden")].into_iter().collect(),
        repeat_interval: std::time::Duration::from_secs(4 * 3600),
        now: tocsin_model::time::parse_rfc3339("2024-06-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc),
        external_url: "http://am.example:9093/prefix".to_owned(),
    }
}

/// A captured request: its first line (`METHOD target`), a header, and the body.
pub struct Captured {
    pub line: String,
    pub headers: String,
    pub body: Vec<u8>,
}

impl Captured {
    pub fn load(dir: &str, name: &str) -> Captured {
        let base = format!("{}/tests/{dir}/{name}", env!("CARGO_MANIFEST_DIR"));
        let headers = std::fs::read_to_string(format!("{base}.headers")).unwrap();
        let body = std::fs::read(format!("{base}.body")).unwrap();
        Captured { line: headers.lines().next().unwrap().to_owned(), headers, body }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.headers, name)
    }
}

/// A header value from a raw head (`Name: value` lines), case-insensitively.
pub fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

/// The `METHOD target` of a raw request head.
pub fn request_line(head: &str) -> String {
    head.lines().next().unwrap().rsplit_once(' ').unwrap().0.to_owned()
}

pub fn assert_same(what: &str, got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "{what} differs from Alertmanager 0.25's\n got: {}\nwant: {}",
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(want)
    );
}
