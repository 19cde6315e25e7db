//! `wechat_configs`.

use super::{inherit_http, resolve_http, tmpl, validate_http, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::secret::Secret;
use crate::url::Url;
use crate::yamlish::string_like;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatConfig {
    #[serde(default)]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub api_secret: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty", deserialize_with = "string_like")]
    pub corp_id: String,
    #[serde(default = "d_message", skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    #[serde(
        default = "d_to_user",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "string_like"
    )]
    pub to_user: String,
    #[serde(
        default = "d_to_party",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "string_like"
    )]
    pub to_party: String,
    #[serde(
        default = "d_to_tag",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "string_like"
    )]
    pub to_tag: String,
    #[serde(
        default = "d_agent_id",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "string_like"
    )]
    pub agent_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message_type: String,
}

fn d_message() -> String {
    tmpl("wechat.default.message")
}
fn d_to_user() -> String {
    tmpl("wechat.default.to_user")
}
fn d_to_party() -> String {
    tmpl("wechat.default.to_party")
}
fn d_to_tag() -> String {
    tmpl("wechat.default.to_tag")
}
fn d_agent_id() -> String {
    tmpl("wechat.default.agent_id")
}

impl IntegrationConfig for WechatConfig {
    const NAME: &'static str = "wechat";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        validate_http(&mut self.http_config)?;
        if self.message_type.is_empty() {
            self.message_type = "text".into();
        }
        if self.message_type != "text" && self.message_type != "markdown" {
            return Err(format!(
                "weChat message type {:?} does not match valid options ^(text|markdown)$",
                self.message_type
            ));
        }
        Ok(())
    }

    fn inherit(&mut self, g: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, g);
        let url = match self.api_url.take() {
            Some(u) => u,
            None => g.wechat_api_url.clone().ok_or("no global Wechat URL set")?,
        };
        if self.api_secret.is_empty() {
            if g.wechat_api_secret.is_empty() {
                return Err("no global Wechat ApiSecret set".into());
            }
            self.api_secret = g.wechat_api_secret.clone();
        }
        if self.corp_id.is_empty() {
            if g.wechat_api_corp_id.is_empty() {
                return Err("no global Wechat CorpID set".into());
            }
            self.corp_id.clone_from(&g.wechat_api_corp_id);
        }
        self.api_url = Some(url.with_trailing_slash());
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
    }
}
