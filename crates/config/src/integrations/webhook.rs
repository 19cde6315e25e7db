//! `webhook_configs`.

use super::{at_most_one, inherit_http, resolve_http, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::paths::resolve;
use crate::secret::SecretUrl;
use crate::yamlish::GoDuration;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Secret since 0.26 (a plain URL in 0.25, which showed it in `/api/v2/status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<SecretUrl>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url_file: String,
    /// 0 = unlimited.
    #[serde(default)]
    pub max_alerts: u64,
    /// 0.28; Go duration, 0 = no timeout.
    #[serde(default, skip_serializing_if = "GoDuration::is_zero")]
    pub timeout: GoDuration,
}

impl IntegrationConfig for WebhookConfig {
    const NAME: &'static str = "webhook";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        if self.url.is_none() && self.url_file.is_empty() {
            return Err("one of url or url_file must be configured".into());
        }
        at_most_one("url", self.url.is_some(), "url_file", !self.url_file.is_empty())?;
        validate_http(&mut self.http_config)
    }

    fn inherit(&mut self, global: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, global);
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.url_file = resolve(base, &self.url_file);
    }
}
