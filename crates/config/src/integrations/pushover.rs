//! `pushover_configs`. `retry`, `expire` and `ttl` are Go durations (no `d` unit).

use super::{at_most_one, inherit_http, resolve_http, tmpl, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::paths::resolve;
use crate::secret::Secret;
use crate::yamlish::GoDuration;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushoverConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub user_key: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_key_file: String,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub token: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_file: String,
    #[serde(default = "d_title", skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default = "d_message", skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default = "d_url", skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url_title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub device: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sound: String,
    #[serde(default = "d_priority", skip_serializing_if = "String::is_empty")]
    pub priority: String,
    #[serde(default = "d_retry", skip_serializing_if = "GoDuration::is_zero")]
    pub retry: GoDuration,
    #[serde(default = "d_expire", skip_serializing_if = "GoDuration::is_zero")]
    pub expire: GoDuration,
    #[serde(default, skip_serializing_if = "GoDuration::is_zero")]
    pub ttl: GoDuration,
    /// Rendered even when false, as 0.25 does.
    #[serde(default)]
    pub html: bool,
}

fn d_title() -> String {
    tmpl("pushover.default.title")
}
fn d_message() -> String {
    tmpl("pushover.default.message")
}
fn d_url() -> String {
    tmpl("pushover.default.url")
}
fn d_priority() -> String {
    r#"{{ if eq .Status "firing" }}2{{ else }}0{{ end }}"#.to_owned()
}
fn d_retry() -> GoDuration {
    GoDuration(Duration::from_secs(60))
}
fn d_expire() -> GoDuration {
    GoDuration(Duration::from_secs(3600))
}

impl IntegrationConfig for PushoverConfig {
    const NAME: &'static str = "pushover";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        validate_http(&mut self.http_config)?;
        if self.user_key.is_empty() && self.user_key_file.is_empty() {
            return Err("one of user_key or user_key_file must be configured".into());
        }
        at_most_one("user_key", !self.user_key.is_empty(), "user_key_file", !self.user_key_file.is_empty())?;
        if self.token.is_empty() && self.token_file.is_empty() {
            return Err("one of token or token_file must be configured".into());
        }
        at_most_one("token", !self.token.is_empty(), "token_file", !self.token_file.is_empty())
    }

    fn inherit(&mut self, g: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, g);
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.user_key_file = resolve(base, &self.user_key_file);
        self.token_file = resolve(base, &self.token_file);
    }
}
