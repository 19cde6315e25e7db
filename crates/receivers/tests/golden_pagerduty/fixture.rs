//! Helpers shared by the pagerduty, opsgenie and victorops golden tests (included with `#[path]`): the
//! captured fixtures, the alerts and notification context of the capture, and its config with the sink address
//! filled in.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::time::parse_rfc3339;
use tocsin_model::{Alert, LabelSet};
use tocsin_pipeline::notifier::NotifyCtx;
use tocsin_template::Template;

/// The group key of every capture (child routes without matchers, `group_by: [alertname]`).
pub const GROUP_KEY: &str = "{}/{}:{alertname=\"Golden\"}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `alerts.json`: two firing alerts and one resolved.
    Firing,
    /// `alerts_resolved.json`: all three resolved.
    Resolved,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Firing => "firing",
            Phase::Resolved => "resolved",
        }
    }
}

pub fn dir(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join(format!("golden_{kind}"))
}

/// A captured body: `<tag>.<phase>.json`.
pub fn body(kind: &str, tag: &str, phase: Phase) -> Vec<u8> {
    let p = dir(kind).join(format!("{tag}.{}.json", phase.name()));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The captured request line and headers: `<tag>.<phase>.headers`.
pub fn headers(kind: &str, tag: &str, phase: Phase) -> Vec<String> {
    let p = dir(kind).join(format!("{tag}.{}.headers", phase.name()));
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The value of header `name` in a captured `.headers` file.
pub fn header(kind: &str, tag: &str, phase: Phase, name: &str) -> Option<String> {
    headers(kind, tag, phase).iter().skip(1).find_map(|l| {
        let (k, v) = l.split_once(": ")?;
        k.eq_ignore_ascii_case(name).then(|| v.to_owned())
    })
}

fn labels(v: &serde_json::Value) -> LabelSet {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect())
        .unwrap_or_default()
}

/// The alerts Alertmanager held at the flush of `phase`, in its order (by `instance`).
pub fn alerts(kind: &str, phase: Phase) -> Vec<Arc<Alert>> {
    let file = match phase {
        Phase::Firing => "alerts.json",
        Phase::Resolved => "alerts_resolved.json",
    };
    let raw: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir(kind).join(file)).unwrap()).unwrap();
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

/// The flush context: after every `endsAt` of the captures except the firing alerts' (2099).
pub fn ctx(receiver: &str) -> NotifyCtx {
    NotifyCtx {
        receiver: receiver.to_owned(),
        group_key: GROUP_KEY.to_owned(),
        group_labels: [("alertname", "Golden")].into_iter().collect(),
        repeat_interval: Duration::from_secs(3600),
        now: parse_rfc3339("2024-06-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc),
        external_url: "http://am.example:9093/prefix".to_owned(),
    }
}

/// The default templates plus the capture's `big.tmpl`.
pub fn template() -> Arc<Template> {
    let big = dir("pagerduty").join("big.tmpl");
    Arc::new(Template::from_globs(&[big.to_string_lossy()]).unwrap())
}

/// The capture's config (`am.yml.in`) with its sink at `sink` (`host:port`).
pub fn config(kind: &str, sink: &str) -> tocsin_config::Config {
    let text = std::fs::read_to_string(dir(kind).join("am.yml.in")).unwrap();
    let work = dir("pagerduty");
    let text = text.replace("@SINK@", sink).replace("@WORK@", &work.to_string_lossy());
    tocsin_config::load_str(&text, &work, tocsin_config::ParseMode::default()).unwrap()
}

pub fn receiver<'a>(cfg: &'a tocsin_config::Config, name: &str) -> &'a tocsin_config::Receiver {
    cfg.receivers.iter().find(|r| r.name == name).unwrap()
}

pub fn assert_same(got: &[u8], want: &[u8], what: &str) {
    assert!(
        got == want,
        "{what}: body differs from Alertmanager 0.25's\n got: {}\nwant: {}",
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(want)
    );
}

/// The request line of a raw request head (`POST /path?query`).
pub fn request_line(head: &str) -> String {
    let line = head.lines().next().unwrap_or_default();
    line.rsplit_once(' ').map(|(l, _)| l.to_owned()).unwrap_or_default()
}

/// A header of a raw request head.
pub fn head_header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}
