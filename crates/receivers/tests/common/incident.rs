//! What the pagerduty, opsgenie and victorops golden tests share: their captured fixtures
//! (`golden_<kind>/<tag>.<phase>.{json,headers}`), the alerts and context of the capture, and its config with
//! the sink address filled in.
#![allow(dead_code, unused_imports, clippy::unwrap_used)]

use super::golden;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::NotifyCtx;
use tocsin_template::Template;

pub use super::golden::{assert_same, header as head_header, request_line};

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
    golden::header(&headers(kind, tag, phase).join("\n"), name)
}

/// The alerts Alertmanager held at the flush of `phase`, in its order (by `instance`).
pub fn alerts(kind: &str, phase: Phase) -> Vec<Arc<Alert>> {
    let file = match phase {
        Phase::Firing => "alerts.json",
        Phase::Resolved => "alerts_resolved.json",
    };
    golden::alerts_of(&std::fs::read_to_string(dir(kind).join(file)).unwrap())
}

/// The flush context: after every `endsAt` of the captures except the firing alerts' (2099).
pub fn ctx(receiver: &str) -> NotifyCtx {
    NotifyCtx { repeat_interval: Duration::from_secs(3600), ..golden::ctx(receiver) }
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
