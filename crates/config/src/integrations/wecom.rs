//! `wecom_configs` (tocsin's own): a WeCom (企业微信) group robot webhook. Not Alertmanager's `wechat_configs`,
//! which talks to the application-message API with a corp id and app secret.

use super::dingtalk::{check_message_type, check_url, string_list};
use super::{inherit_http, resolve_http, tmpl, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::paths::resolve;
use crate::secret::SecretUrl;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The message types tocsin sends to a WeCom robot.
pub const WECOM_MESSAGE_TYPES: [&str; 3] = ["markdown", "text", "markdown_v2"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WecomConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`; the key is the only credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<SecretUrl>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url_file: String,
    /// `markdown` (default), `text` or `markdown_v2`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message_type: String,
    #[serde(default = "default_message", skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// User ids to @-mention (`@all` for everyone); `text` sends them as `mentioned_list`, `markdown` appends
    /// `<@userid>` to the content.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "string_list")]
    pub mentioned_list: Vec<String>,
    /// Mobiles to @-mention (`text` messages only: WeCom ignores them in markdown).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "string_list")]
    pub mentioned_mobile_list: Vec<String>,
    /// 0 = unlimited; further alerts are summarised as "… N more alerts".
    #[serde(default)]
    pub max_alerts: u64,
}

fn default_message() -> String {
    tmpl("wecom.default.message")
}

impl IntegrationConfig for WecomConfig {
    const NAME: &'static str = "wecom";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        check_url(&self.url, &self.url_file)?;
        check_message_type("wecom", &mut self.message_type, &WECOM_MESSAGE_TYPES)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let mut c: WecomConfig =
            serde_yaml_ng::from_str("url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k\nmentioned_mobile_list: [13800000000]")
                .unwrap();
        c.validate().unwrap();
        assert_eq!(c.message_type, "markdown");
        assert_eq!(c.message, "{{ template \"wecom.default.message\" . }}");
        assert_eq!(c.mentioned_mobile_list, ["13800000000"]);
        let mut c: WecomConfig = serde_yaml_ng::from_str("url: https://x/y\nmessage_type: news").unwrap();
        assert_eq!(
            c.validate().unwrap_err(),
            "wecom message type \"news\" does not match valid options ^(markdown|text|markdown_v2)$"
        );
        let mut c: WecomConfig = serde_yaml_ng::from_str("message_type: text").unwrap();
        assert_eq!(c.validate().unwrap_err(), "one of url or url_file must be configured");
    }
}
