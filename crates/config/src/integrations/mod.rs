//! One file per integration type: its `*_configs` struct (fields in upstream order, upstream defaults), its own
//! validation (upstream's `UnmarshalYAML` checks) and its inheritance from `global`.
//!
//! Adding an integration = one struct here implementing [`IntegrationConfig`] + one line in `receiver.rs`.

pub mod dingtalk;
pub mod discord;
pub mod email;
pub mod feishu;
pub mod jira;
pub mod msteams;
pub mod opsgenie;
pub mod pagerduty;
pub mod pushover;
pub mod rocketchat;
pub mod slack;
pub mod sns;
pub mod telegram;
pub mod victorops;
pub mod webex;
pub mod webhook;
pub mod wechat;
pub mod wecom;

use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use std::path::Path;

/// What every `<type>_configs` entry provides to the loader.
pub trait IntegrationConfig {
    /// The integration name used in nflog keys, metrics and integration identities (`hook/webhook/0`).
    const NAME: &'static str;

    /// Whether resolved notifications are sent.
    fn send_resolved(&self) -> bool;

    /// Upstream's per-type checks (run while parsing, before globals are applied).
    fn validate(&mut self) -> Result<(), String>;

    /// Fills unset fields from `global` and fails when a required value is set nowhere.
    fn inherit(&mut self, global: &GlobalConfig) -> Result<(), String>;

    /// Joins relative file paths with the config file's directory.
    fn resolve_paths(&mut self, base: &Path);
}

/// Every integration without its own `http_config` uses the global one.
pub(crate) fn inherit_http(own: &mut Option<HttpClientConfig>, global: &GlobalConfig) {
    if own.is_none() {
        *own = Some(global.http_config.clone());
    }
}

pub(crate) fn validate_http(own: &mut Option<HttpClientConfig>) -> Result<(), String> {
    own.as_mut().map_or(Ok(()), HttpClientConfig::validate)
}

pub(crate) fn resolve_http(own: &mut Option<HttpClientConfig>, base: &Path) {
    if let Some(h) = own {
        h.resolve_paths(base);
    }
}

/// `at most one of a & b must be configured`.
pub(crate) fn at_most_one(a: &str, has_a: bool, b: &str, has_b: bool) -> Result<(), String> {
    if has_a && has_b {
        return Err(format!("at most one of {a} & {b} must be configured"));
    }
    Ok(())
}

/// `{{ template "<name>" . }}`, the shape of most upstream defaults.
pub(crate) fn tmpl(name: &str) -> String {
    format!("{{{{ template \"{name}\" . }}}}")
}

pub(crate) fn yes() -> bool {
    true
}
