//! What the golden tests share: the alerts of a capture (`golden/alerts.json` by default), the notification
//! context of Alertmanager's flush, the capture's config, and comparisons of what we send with what it sent.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use tocsin_model::time::parse_rfc3339;
use tocsin_model::{Alert, Annotations, LabelSet};
use tocsin_pipeline::notifier::NotifyCtx;

/// The alerts posted to Alertmanager by most captures: two firing, the last resolved at the flush time.
pub const ALERTS: &str = include_str!("../golden/alerts.json");

/// The group key of the captures (child routes without matchers, `group_by: [alertname]`).
pub const GROUP_KEY: &str = "{}/{}:{alertname=\"Golden\"}";

fn labels(v: &serde_json::Value) -> LabelSet {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect())
        .unwrap_or_default()
}

/// Alerts as Alertmanager stored them from one of the captures' JSON files (file order = flush order).
pub fn alerts_of(text: &str) -> Vec<Arc<Alert>> {
    let raw: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
    raw.iter()
        .map(|a| {
            let t = |k: &str| parse_rfc3339(a[k].as_str().unwrap()).unwrap();
            let labels_of_alert = labels(&a["labels"]);
            // Packed as ingest packs them, so every golden body also checks that annotations quoting labels
            // render exactly as upstream's plain strings.
            let annotations = Annotations::quoting(labels(&a["annotations"]), &labels_of_alert);
            Arc::new(Alert {
                labels: labels_of_alert,
                annotations,
                starts_at: t("startsAt"),
                ends_at: t("endsAt"),
                generator_url: a["generatorURL"].as_str().unwrap_or("").into(),
                updated_at: t("startsAt").to_utc(),
                timeout: false,
            })
        })
        .collect()
}

/// All three alerts of [`ALERTS`], in Alertmanager's order.
pub fn alerts() -> Vec<Arc<Alert>> {
    alerts_of(ALERTS)
}

/// Only the firing ones (what reaches an integration with `send_resolved: false`).
pub fn firing() -> Vec<Arc<Alert>> {
    alerts().into_iter().take(2).collect()
}

/// The captures' context: `--web.external-url=http://am.example:9093/prefix`, `group_by: [alertname]`,
/// flushed after the resolved alert's end and long before the firing ones' `endsAt` (2099).
pub fn ctx_with(receiver: &str, group_key: &str, alertname: &str) -> NotifyCtx {
    NotifyCtx {
        receiver: receiver.to_owned(),
        group_key: group_key.to_owned(),
        group_labels: [("alertname", alertname)].into_iter().collect(),
        repeat_interval: std::time::Duration::from_secs(4 * 3600),
        now: super::now(),
        external_url: "http://am.example:9093/prefix".to_owned(),
    }
}

/// [`ctx_with`] the group of [`GROUP_KEY`].
pub fn ctx(receiver: &str) -> NotifyCtx {
    ctx_with(receiver, GROUP_KEY, "Golden")
}

/// A config file's text loaded as Alertmanager would (relative paths against `/`).
pub fn load(yml: &str) -> tocsin_config::Config {
    tocsin_config::load_str(yml, std::path::Path::new("/"), tocsin_config::ParseMode::default()).unwrap()
}

/// A capture's `am.yml.in` with the sink at `base` (`http://127.0.0.1:<port>`) and `@PAD@` as `pad`.
pub fn config(am_yml: &str, base: &str, pad: &str) -> tocsin_config::Config {
    load(&am_yml.replace("http://127.0.0.1:@SINK_PORT@", base).replace("@PAD@", pad))
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

/// A header value from a raw head (`Name: value` lines after the request line), case-insensitively.
pub fn header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

/// The `METHOD target` of a raw request head.
pub fn request_line(head: &str) -> String {
    head.lines().next().unwrap().rsplit_once(' ').unwrap().0.to_owned()
}

/// `got` must be, byte for byte, what Alertmanager 0.25 sent.
pub fn assert_same(what: &str, got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "{what} differs from Alertmanager 0.25's\n got: {}\nwant: {}",
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(want)
    );
}
