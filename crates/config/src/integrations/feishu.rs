//! `feishu_configs` (tocsin's own): a Feishu / Lark custom bot webhook, optionally signed.

use super::dingtalk::{check_message_type, check_url};
use super::{at_most_one, inherit_http, resolve_http, tmpl, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::paths::resolve;
use crate::secret::{Secret, SecretUrl};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The message types tocsin sends to a Feishu bot.
pub const FEISHU_MESSAGE_TYPES: [&str; 3] = ["interactive", "text", "post"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeishuConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// `https://open.feishu.cn/open-apis/bot/v2/hook/<token>` (or `open.larksuite.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<SecretUrl>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url_file: String,
    /// The bot's signature secret (签名校验); empty = requests are not signed.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub secret: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret_file: String,
    /// `interactive` (a card coloured by status; default), `text` or `post`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message_type: String,
    #[serde(default = "default_title", skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default = "default_text", skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// 0 = unlimited; further alerts are summarised as "… N more alerts".
    #[serde(default)]
    pub max_alerts: u64,
}

fn default_title() -> String {
    tmpl("feishu.default.title")
}
fn default_text() -> String {
    tmpl("feishu.default.text")
}

impl IntegrationConfig for FeishuConfig {
    const NAME: &'static str = "feishu";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        check_url(&self.url, &self.url_file)?;
        at_most_one("secret", !self.secret.is_empty(), "secret_file", !self.secret_file.is_empty())?;
        check_message_type("feishu", &mut self.message_type, &FEISHU_MESSAGE_TYPES)?;
        validate_http(&mut self.http_config)
    }

    fn inherit(&mut self, global: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, global);
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.url_file = resolve(base, &self.url_file);
        self.secret_file = resolve(base, &self.secret_file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let mut c: FeishuConfig =
            serde_yaml_ng::from_str("url: https://open.feishu.cn/open-apis/bot/v2/hook/t\nsecret: s")
                .unwrap();
        c.validate().unwrap();
        assert_eq!(c.message_type, "interactive");
        assert_eq!(c.title, "{{ template \"feishu.default.title\" . }}");
        let mut c: FeishuConfig = serde_yaml_ng::from_str("url: https://x/y\nmessage_type: image").unwrap();
        assert_eq!(
            c.validate().unwrap_err(),
            "feishu message type \"image\" does not match valid options ^(interactive|text|post)$"
        );
    }
}
