//! `jira_configs` (0.28).

use super::{inherit_http, resolve_http, tmpl, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::url::Url;
use crate::yamlish::PromDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Url>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project: String,
    #[serde(default = "d_summary", skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default = "d_description", skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(default = "d_priority", skip_serializing_if = "String::is_empty")]
    pub priority: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub issue_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reopen_transition: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resolve_transition: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub wont_fix_resolution: String,
    #[serde(default, skip_serializing_if = "PromDuration::is_zero")]
    pub reopen_duration: PromDuration,
    /// Arbitrary issue fields (JSON name `custom_fields` upstream).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, serde_json::Value>,
}

fn d_summary() -> String {
    tmpl("jira.default.summary")
}
fn d_description() -> String {
    tmpl("jira.default.description")
}
fn d_priority() -> String {
    tmpl("jira.default.priority")
}

impl IntegrationConfig for JiraConfig {
    const NAME: &'static str = "jira";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        validate_http(&mut self.http_config)?;
        if self.project.is_empty() {
            return Err("missing project in jira_config".into());
        }
        if self.issue_type.is_empty() {
            return Err("missing issue_type in jira_config".into());
        }
        Ok(())
    }

    fn inherit(&mut self, g: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, g);
        if self.api_url.is_none() {
            self.api_url = Some(g.jira_api_url.clone().ok_or("no global Jira Cloud URL set")?);
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
    }
}
