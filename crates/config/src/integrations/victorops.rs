//! `victorops_configs`.

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
pub struct VictorOpsConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub api_key: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_key_file: String,
    #[serde(default)]
    pub api_url: Option<Url>,
    #[serde(default)]
    pub routing_key: String,
    #[serde(default = "d_message_type")]
    pub message_type: String,
    #[serde(default = "d_state_message")]
    pub state_message: String,
    #[serde(default = "d_entity_display_name")]
    pub entity_display_name: String,
    #[serde(default = "d_monitoring_tool")]
    pub monitoring_tool: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_fields: BTreeMap<String, String>,
}

fn d_message_type() -> String {
    "CRITICAL".to_owned()
}
fn d_state_message() -> String {
    tmpl("victorops.default.state_message")
}
fn d_entity_display_name() -> String {
    tmpl("victorops.default.entity_display_name")
}
fn d_monitoring_tool() -> String {
    tmpl("victorops.default.monitoring_tool")
}

const RESERVED: [&str; 7] = [
    "routing_key",
    "message_type",
    "state_message",
    "entity_display_name",
    "monitoring_tool",
    "entity_id",
    "entity_state",
];

impl IntegrationConfig for VictorOpsConfig {
    const NAME: &'static str = "victorops";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        validate_http(&mut self.http_config)?;
        if self.routing_key.is_empty() {
            return Err("missing Routing key in VictorOps config".into());
        }
        at_most_one("api_key", !self.api_key.is_empty(), "api_key_file", !self.api_key_file.is_empty())?;
        for k in RESERVED {
            if self.custom_fields.contains_key(k) {
                return Err(format!(
                    "victorOps config contains custom field {k} which cannot be used as it conflicts with the fixed/static fields"
                ));
            }
        }
        Ok(())
    }

    fn inherit(&mut self, g: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, g);
        let url = match self.api_url.take() {
            Some(u) => u,
            None => g.victorops_api_url.clone().ok_or("no global VictorOps URL set")?,
        };
        self.api_url = Some(url.with_trailing_slash());
        if self.api_key.is_empty() && self.api_key_file.is_empty() {
            if g.victorops_api_key.is_empty() && g.victorops_api_key_file.is_empty() {
                return Err("no global VictorOps API Key set".into());
            }
            self.api_key = g.victorops_api_key.clone();
            self.api_key_file.clone_from(&g.victorops_api_key_file);
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.api_key_file = resolve(base, &self.api_key_file);
    }
}
