//! `msteams_configs` (0.26, O365 connector cards) and `msteamsv2_configs` (0.28, Power Automate flows).

use super::{at_most_one, inherit_http, resolve_http, tmpl, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::paths::resolve;
use crate::secret::SecretUrl;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MsTeamsConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<SecretUrl>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webhook_url_file: String,
    #[serde(default = "v1_title", skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default = "v1_summary", skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default = "v1_text", skip_serializing_if = "String::is_empty")]
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MsTeamsV2Config {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<SecretUrl>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webhook_url_file: String,
    #[serde(default = "v2_title", skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default = "v2_text", skip_serializing_if = "String::is_empty")]
    pub text: String,
}

fn v1_title() -> String {
    tmpl("msteams.default.title")
}
fn v1_summary() -> String {
    tmpl("msteams.default.summary")
}
fn v1_text() -> String {
    tmpl("msteams.default.text")
}
fn v2_title() -> String {
    tmpl("msteamsv2.default.title")
}
fn v2_text() -> String {
    tmpl("msteamsv2.default.text")
}

fn check_url(url: &Option<SecretUrl>, file: &str) -> Result<(), String> {
    if url.is_none() && file.is_empty() {
        return Err("one of webhook_url or webhook_url_file must be configured".into());
    }
    at_most_one("webhook_url", url.is_some(), "webhook_url_file", !file.is_empty())
}

impl IntegrationConfig for MsTeamsConfig {
    const NAME: &'static str = "msteams";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        check_url(&self.webhook_url, &self.webhook_url_file)?;
        validate_http(&mut self.http_config)
    }

    fn inherit(&mut self, global: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, global);
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.webhook_url_file = resolve(base, &self.webhook_url_file);
    }
}

impl IntegrationConfig for MsTeamsV2Config {
    const NAME: &'static str = "msteamsv2";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        check_url(&self.webhook_url, &self.webhook_url_file)?;
        validate_http(&mut self.http_config)
    }

    fn inherit(&mut self, global: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, global);
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.webhook_url_file = resolve(base, &self.webhook_url_file);
    }
}
