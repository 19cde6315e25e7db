//! `rocketchat_configs` (0.28).
//!
//! Upstream's attachment field/action structs carry no yaml tags, so yaml.v2 names their keys by lower-casing the
//! Go field names (`imageurl`, `iswebview`); we accept those and the snake_case spelling the docs use.

use super::{at_most_one, inherit_http, resolve_http, tmpl, validate_http, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::paths::resolve;
use crate::secret::Secret;
use crate::url::Url;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RocketchatConfig {
    #[serde(default)]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<Secret>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_id_file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    #[serde(default = "d_color", skip_serializing_if = "String::is_empty")]
    pub color: String,
    #[serde(default = "d_title", skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default = "d_title_link", skip_serializing_if = "String::is_empty")]
    pub title_link: String,
    #[serde(default = "d_text", skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<RocketchatAttachmentField>,
    #[serde(default)]
    pub short_fields: bool,
    #[serde(default = "d_emoji", skip_serializing_if = "String::is_empty")]
    pub emoji: String,
    #[serde(default = "d_icon_url", skip_serializing_if = "String::is_empty")]
    pub icon_url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    #[serde(default)]
    pub link_names: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<RocketchatAttachmentAction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RocketchatAttachmentField {
    pub short: Option<bool>,
    pub title: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RocketchatAttachmentAction {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    pub url: String,
    #[serde(rename = "imageurl", alias = "image_url")]
    pub image_url: String,
    #[serde(rename = "iswebview", alias = "is_webview")]
    pub is_webview: bool,
    #[serde(rename = "webviewheightratio", alias = "webview_height_ratio")]
    pub webview_height_ratio: String,
    pub msg: String,
    #[serde(rename = "msginchatwindow", alias = "msg_in_chat_window")]
    pub msg_in_chat_window: bool,
    #[serde(rename = "msgprocessingtype", alias = "msg_processing_type")]
    pub msg_processing_type: String,
}

fn d_color() -> String {
    r#"{{ if eq .Status "firing" }}red{{ else }}green{{ end }}"#.to_owned()
}
fn d_title() -> String {
    tmpl("rocketchat.default.title")
}
fn d_title_link() -> String {
    tmpl("rocketchat.default.titlelink")
}
fn d_text() -> String {
    tmpl("rocketchat.default.text")
}
fn d_emoji() -> String {
    tmpl("rocketchat.default.emoji")
}
fn d_icon_url() -> String {
    tmpl("rocketchat.default.iconurl")
}

impl IntegrationConfig for RocketchatConfig {
    const NAME: &'static str = "rocketchat";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        validate_http(&mut self.http_config)?;
        at_most_one("token", self.token.is_some(), "token_file", !self.token_file.is_empty())?;
        at_most_one("token_id", self.token_id.is_some(), "token_id_file", !self.token_id_file.is_empty())
    }

    fn inherit(&mut self, g: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, g);
        if self.api_url.is_none() {
            self.api_url.clone_from(&g.rocketchat_api_url);
        }
        if self.token_id.is_none() && self.token_id_file.is_empty() {
            if g.rocketchat_token_id.is_none() && g.rocketchat_token_id_file.is_empty() {
                return Err("no global Rocketchat TokenID set either inline or in a file".into());
            }
            self.token_id.clone_from(&g.rocketchat_token_id);
            self.token_id_file.clone_from(&g.rocketchat_token_id_file);
        }
        if self.token.is_none() && self.token_file.is_empty() {
            if g.rocketchat_token.is_none() && g.rocketchat_token_file.is_empty() {
                return Err("no global Rocketchat Token set either inline or in a file".into());
            }
            self.token.clone_from(&g.rocketchat_token);
            self.token_file.clone_from(&g.rocketchat_token_file);
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.token_file = resolve(base, &self.token_file);
        self.token_id_file = resolve(base, &self.token_id_file);
    }
}
