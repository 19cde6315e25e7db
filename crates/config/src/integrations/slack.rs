//! `slack_configs`.

use super::{at_most_one, inherit_http, resolve_http, tmpl, validate_http, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::paths::resolve;
use crate::secret::SecretUrl;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    #[serde(default)]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<SecretUrl>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_url_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    #[serde(default = "d_username", skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default = "d_color", skip_serializing_if = "String::is_empty")]
    pub color: String,
    #[serde(default = "d_title", skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default = "d_title_link", skip_serializing_if = "String::is_empty")]
    pub title_link: String,
    #[serde(default = "d_pretext", skip_serializing_if = "String::is_empty")]
    pub pretext: String,
    #[serde(default = "d_text", skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<SlackField>,
    #[serde(default)]
    pub short_fields: bool,
    #[serde(default = "d_footer", skip_serializing_if = "String::is_empty")]
    pub footer: String,
    #[serde(default = "d_fallback", skip_serializing_if = "String::is_empty")]
    pub fallback: String,
    #[serde(default = "d_callback_id", skip_serializing_if = "String::is_empty")]
    pub callback_id: String,
    #[serde(default = "d_icon_emoji", skip_serializing_if = "String::is_empty")]
    pub icon_emoji: String,
    #[serde(default = "d_icon_url", skip_serializing_if = "String::is_empty")]
    pub icon_url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    #[serde(default)]
    pub link_names: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mrkdwn_in: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<SlackAction>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackField {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackAction {
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub style: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(rename = "confirm", skip_serializing_if = "Option::is_none")]
    pub confirm: Option<SlackConfirmationField>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackConfirmationField {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ok_text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dismiss_text: String,
}

fn d_username() -> String {
    tmpl("slack.default.username")
}
fn d_color() -> String {
    r#"{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}"#.to_owned()
}
fn d_title() -> String {
    tmpl("slack.default.title")
}
fn d_title_link() -> String {
    tmpl("slack.default.titlelink")
}
fn d_pretext() -> String {
    tmpl("slack.default.pretext")
}
fn d_text() -> String {
    tmpl("slack.default.text")
}
fn d_footer() -> String {
    tmpl("slack.default.footer")
}
fn d_fallback() -> String {
    tmpl("slack.default.fallback")
}
fn d_callback_id() -> String {
    tmpl("slack.default.callbackid")
}
fn d_icon_emoji() -> String {
    tmpl("slack.default.iconemoji")
}
fn d_icon_url() -> String {
    tmpl("slack.default.iconurl")
}

impl IntegrationConfig for SlackConfig {
    const NAME: &'static str = "slack";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        validate_http(&mut self.http_config)?;
        for f in &self.fields {
            if f.title.is_empty() {
                return Err("missing title in Slack field configuration".into());
            }
            if f.value.is_empty() {
                return Err("missing value in Slack field configuration".into());
            }
        }
        for a in &mut self.actions {
            if a.kind.is_empty() {
                return Err("missing type in Slack action configuration".into());
            }
            if a.text.is_empty() {
                return Err("missing text in Slack action configuration".into());
            }
            if let Some(c) = &a.confirm {
                if c.text.is_empty() {
                    return Err("missing text in Slack confirmation configuration".into());
                }
            }
            if !a.url.is_empty() {
                a.name.clear();
                a.value.clear();
                a.confirm = None;
            } else if a.name.is_empty() {
                return Err("missing name or url in Slack action configuration".into());
            }
        }
        at_most_one("api_url", self.api_url.is_some(), "api_url_file", !self.api_url_file.is_empty())
    }

    fn inherit(&mut self, g: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, g);
        if self.api_url.is_none() && self.api_url_file.is_empty() {
            if g.slack_api_url.is_none() && g.slack_api_url_file.is_empty() {
                return Err("no global Slack API URL set either inline or in a file".into());
            }
            self.api_url.clone_from(&g.slack_api_url);
            self.api_url_file.clone_from(&g.slack_api_url_file);
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.api_url_file = resolve(base, &self.api_url_file);
    }
}
