//! `telegram_configs`.

use super::{at_most_one, inherit_http, resolve_http, tmpl, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::paths::resolve;
use crate::secret::Secret;
use crate::url::Url;
use crate::yamlish::{is_false, is_zero_i64};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default)]
    pub api_url: Option<Url>,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub bot_token: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bot_token_file: String,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub chat_id: i64,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub message_thread_id: i64,
    #[serde(default = "d_message", skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_notifications: bool,
    #[serde(default = "d_parse_mode", skip_serializing_if = "String::is_empty")]
    pub parse_mode: String,
}

fn d_message() -> String {
    tmpl("telegram.default.message")
}
fn d_parse_mode() -> String {
    "HTML".to_owned()
}

impl IntegrationConfig for TelegramConfig {
    const NAME: &'static str = "telegram";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        validate_http(&mut self.http_config)?;
        if self.bot_token.is_empty() && self.bot_token_file.is_empty() {
            return Err("missing bot_token or bot_token_file on telegram_config".into());
        }
        at_most_one(
            "bot_token",
            !self.bot_token.is_empty(),
            "bot_token_file",
            !self.bot_token_file.is_empty(),
        )?;
        if self.chat_id == 0 {
            return Err("missing chat_id on telegram_config".into());
        }
        if !matches!(self.parse_mode.as_str(), "" | "Markdown" | "MarkdownV2" | "HTML") {
            return Err(
                "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string"
                    .into(),
            );
        }
        Ok(())
    }

    fn inherit(&mut self, g: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, g);
        if self.api_url.is_none() {
            self.api_url.clone_from(&g.telegram_api_url);
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.bot_token_file = resolve(base, &self.bot_token_file);
    }
}
