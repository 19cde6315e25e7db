//! `webex_configs` (0.25).

use super::{inherit_http, resolve_http, tmpl, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::url::Url;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebexConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    #[serde(default = "default_message", skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default)]
    pub room_id: String,
}

fn default_message() -> String {
    tmpl("webex.default.message")
}

impl IntegrationConfig for WebexConfig {
    const NAME: &'static str = "webex";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        if self.room_id.is_empty() {
            return Err("missing room_id on webex_config".into());
        }
        // common validates http_config while parsing it, turning bearer_token into authorization first.
        validate_http(&mut self.http_config)?;
        if self.http_config.as_ref().is_none_or(|h| h.authorization.is_none()) {
            return Err("missing webex_configs.http_config.authorization".into());
        }
        Ok(())
    }

    fn inherit(&mut self, global: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, global);
        if self.api_url.is_none() {
            self.api_url = Some(global.webex_api_url.clone().ok_or("no global Webex URL set")?);
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
    }
}
