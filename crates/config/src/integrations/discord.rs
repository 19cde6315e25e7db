//! `discord_configs` (0.25).

use super::{at_most_one, inherit_http, resolve_http, tmpl, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::paths::resolve;
use crate::secret::SecretUrl;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<SecretUrl>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webhook_url_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    #[serde(default = "default_title", skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default = "default_message", skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub avatar_url: String,
}

fn default_title() -> String {
    tmpl("discord.default.title")
}
fn default_message() -> String {
    tmpl("discord.default.message")
}

impl IntegrationConfig for DiscordConfig {
    const NAME: &'static str = "discord";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        if self.webhook_url.is_none() && self.webhook_url_file.is_empty() {
            return Err("one of webhook_url or webhook_url_file must be configured".into());
        }
        at_most_one(
            "webhook_url",
            self.webhook_url.is_some(),
            "webhook_url_file",
            !self.webhook_url_file.is_empty(),
        )?;
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
