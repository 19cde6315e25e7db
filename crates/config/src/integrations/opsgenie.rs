//! `opsgenie_configs`.

use super::{at_most_one, inherit_http, resolve_http, tmpl, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::paths::resolve;
use crate::secret::Secret;
use crate::url::Url;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsGenieConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub api_key: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_key_file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    #[serde(default = "d_message", skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default = "d_description", skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default = "d_source", skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub entity: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responders: Vec<OpsGenieResponder>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actions: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tags: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub priority: String,
    #[serde(default, skip_serializing_if = "crate::yamlish::is_false")]
    pub update_alerts: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsGenieResponder {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

impl OpsGenieResponder {
    /// Go's `%v` of the struct, used in upstream's error messages.
    fn go_v(&self) -> String {
        format!("{{{} {} {} {}}}", self.id, self.name, self.username, self.kind)
    }
}

fn d_message() -> String {
    tmpl("opsgenie.default.message")
}
fn d_description() -> String {
    tmpl("opsgenie.default.description")
}
fn d_source() -> String {
    tmpl("opsgenie.default.source")
}

const VALID_TYPES: &str = "^(team|teams|user|escalation|schedule)$";

impl IntegrationConfig for OpsGenieConfig {
    const NAME: &'static str = "opsgenie";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        validate_http(&mut self.http_config)?;
        at_most_one("api_key", !self.api_key.is_empty(), "api_key_file", !self.api_key_file.is_empty())?;
        for r in &self.responders {
            if r.id.is_empty() && r.username.is_empty() && r.name.is_empty() {
                return Err(format!(
                    "opsGenieConfig responder {} has to have at least one of id, username or name specified",
                    r.go_v()
                ));
            }
            if !r.kind.contains("{{") {
                // Upstream lowercases a copy (`for _, r := range`): the type is sent as written.
                let kind = r.kind.to_lowercase();
                if !matches!(kind.as_str(), "team" | "teams" | "user" | "escalation" | "schedule") {
                    return Err(format!(
                        "opsGenieConfig responder {} type does not match valid options {VALID_TYPES}",
                        r.go_v()
                    ));
                }
            }
        }
        Ok(())
    }

    fn inherit(&mut self, g: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, g);
        let url = match self.api_url.take() {
            Some(u) => u,
            None => g.opsgenie_api_url.clone().ok_or("no global OpsGenie URL set")?,
        };
        self.api_url = Some(url.with_trailing_slash());
        if self.api_key.is_empty() && self.api_key_file.is_empty() {
            if g.opsgenie_api_key.is_empty() && g.opsgenie_api_key_file.is_empty() {
                return Err("no global OpsGenie API Key set either inline or in a file".into());
            }
            self.api_key = g.opsgenie_api_key.clone();
            self.api_key_file.clone_from(&g.opsgenie_api_key_file);
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.api_key_file = resolve(base, &self.api_key_file);
    }
}
