//! The `global` block: defaults every integration inherits (upstream `DefaultGlobalConfig`).

use crate::http::{HttpClientConfig, TlsConfig};
use crate::paths::resolve;
use crate::secret::{Secret, SecretUrl};
use crate::url::{HostPort, Url};
use crate::yamlish::{string_like, PromDuration};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// `global:`; field order is upstream's, which is the order `/api/v2/status` renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlobalConfig {
    pub resolve_timeout: PromDuration,
    pub http_config: HttpClientConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jira_api_url: Option<Url>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_from: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_hello: String,
    #[serde(skip_serializing_if = "HostPort::is_empty")]
    pub smtp_smarthost: HostPort,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_auth_username: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub smtp_auth_password: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_auth_password_file: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub smtp_auth_secret: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub smtp_auth_identity: String,
    pub smtp_require_tls: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_tls_config: Option<TlsConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack_api_url: Option<SecretUrl>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub slack_api_url_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagerduty_url: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opsgenie_api_url: Option<Url>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub opsgenie_api_key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub opsgenie_api_key_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wechat_api_url: Option<Url>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub wechat_api_secret: Secret,
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "string_like")]
    pub wechat_api_corp_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub victorops_api_url: Option<Url>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub victorops_api_key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub victorops_api_key_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telegram_api_url: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webex_api_url: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rocketchat_api_url: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rocketchat_token: Option<Secret>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rocketchat_token_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rocketchat_token_id: Option<Secret>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rocketchat_token_id_file: String,
}

fn default_url(s: &str) -> Option<Url> {
    Some(Url::parse(s).expect("built-in default URLs are valid"))
}

impl Default for GlobalConfig {
    fn default() -> Self {
        Self {
            resolve_timeout: PromDuration(Duration::from_secs(300)),
            http_config: HttpClientConfig::default(),
            jira_api_url: None,
            smtp_from: String::new(),
            smtp_hello: "localhost".into(),
            smtp_smarthost: HostPort::default(),
            smtp_auth_username: String::new(),
            smtp_auth_password: Secret::default(),
            smtp_auth_password_file: String::new(),
            smtp_auth_secret: Secret::default(),
            smtp_auth_identity: String::new(),
            smtp_require_tls: true,
            smtp_tls_config: None,
            slack_api_url: None,
            slack_api_url_file: String::new(),
            pagerduty_url: default_url("https://events.pagerduty.com/v2/enqueue"),
            opsgenie_api_url: default_url("https://api.opsgenie.com/"),
            opsgenie_api_key: Secret::default(),
            opsgenie_api_key_file: String::new(),
            wechat_api_url: default_url("https://qyapi.weixin.qq.com/cgi-bin/"),
            wechat_api_secret: Secret::default(),
            wechat_api_corp_id: String::new(),
            victorops_api_url: default_url(
                "https://alert.victorops.com/integrations/generic/20131114/alert/",
            ),
            victorops_api_key: Secret::default(),
            victorops_api_key_file: String::new(),
            telegram_api_url: default_url("https://api.telegram.org"),
            webex_api_url: default_url("https://webexapis.com/v1/messages"),
            rocketchat_api_url: default_url("https://open.rocket.chat/"),
            rocketchat_token: None,
            rocketchat_token_file: String::new(),
            rocketchat_token_id: None,
            rocketchat_token_id_file: String::new(),
        }
    }
}

impl GlobalConfig {
    /// The `resolve_timeout` as a duration.
    pub fn resolve_timeout(&self) -> Duration {
        self.resolve_timeout.0
    }

    /// Upstream's checks in `Config.UnmarshalYAML` on the global block, plus `http_config` validation.
    pub(crate) fn validate(&mut self) -> Result<(), String> {
        let pairs = [
            ("slack_api_url", self.slack_api_url.is_some(), "slack_api_url_file", &self.slack_api_url_file),
            (
                "opsgenie_api_key",
                !self.opsgenie_api_key.is_empty(),
                "opsgenie_api_key_file",
                &self.opsgenie_api_key_file,
            ),
            (
                "victorops_api_key",
                !self.victorops_api_key.is_empty(),
                "victorops_api_key_file",
                &self.victorops_api_key_file,
            ),
            (
                "smtp_auth_password",
                !self.smtp_auth_password.is_empty(),
                "smtp_auth_password_file",
                &self.smtp_auth_password_file,
            ),
            (
                "rocketchat_token",
                self.rocketchat_token.is_some(),
                "rocketchat_token_file",
                &self.rocketchat_token_file,
            ),
            (
                "rocketchat_token_id",
                self.rocketchat_token_id.is_some(),
                "rocketchat_token_id_file",
                &self.rocketchat_token_id_file,
            ),
        ];
        for (a, has_a, b, file) in pairs {
            if has_a && !file.is_empty() {
                return Err(format!("at most one of {a} & {b} must be configured"));
            }
        }
        self.http_config.validate()
    }

    pub(crate) fn resolve_paths(&mut self, base: &Path) {
        self.http_config.resolve_paths(base);
        if let Some(t) = &mut self.smtp_tls_config {
            t.resolve_paths(base);
        }
        for f in [
            &mut self.smtp_auth_password_file,
            &mut self.slack_api_url_file,
            &mut self.opsgenie_api_key_file,
            &mut self.victorops_api_key_file,
            &mut self.rocketchat_token_file,
            &mut self.rocketchat_token_id_file,
        ] {
            *f = resolve(base, f);
        }
    }
}
