//! `pagerduty_configs` (Events API v2 with `routing_key`, v1 with `service_key`).

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
pub struct PagerdutyConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub service_key: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_key_file: String,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub routing_key: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub routing_key_file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    #[serde(default = "default_client", skip_serializing_if = "String::is_empty")]
    pub client: String,
    #[serde(default = "default_client_url", skip_serializing_if = "String::is_empty")]
    pub client_url: String,
    #[serde(default = "default_description", skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<PagerdutyImage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<PagerdutyLink>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub severity: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub class: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub component: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagerdutyImage {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub src: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub alt: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub href: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagerdutyLink {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub href: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
}

fn default_client() -> String {
    tmpl("pagerduty.default.client")
}
fn default_client_url() -> String {
    tmpl("pagerduty.default.clientURL")
}
fn default_description() -> String {
    // Upstream's default lacks the space before `}}`.
    "{{ template \"pagerduty.default.description\" .}}".to_owned()
}

/// Merged into `details` unless the user set the same key.
pub fn default_details() -> [(&'static str, &'static str); 4] {
    [
        ("firing", "{{ template \"pagerduty.default.instances\" .Alerts.Firing }}"),
        ("resolved", "{{ template \"pagerduty.default.instances\" .Alerts.Resolved }}"),
        ("num_firing", "{{ .Alerts.Firing | len }}"),
        ("num_resolved", "{{ .Alerts.Resolved | len }}"),
    ]
}

impl IntegrationConfig for PagerdutyConfig {
    const NAME: &'static str = "pagerduty";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        validate_http(&mut self.http_config)?;
        if self.routing_key.is_empty()
            && self.service_key.is_empty()
            && self.routing_key_file.is_empty()
            && self.service_key_file.is_empty()
        {
            return Err("missing service or routing key in PagerDuty config".into());
        }
        at_most_one(
            "routing_key",
            !self.routing_key.is_empty(),
            "routing_key_file",
            !self.routing_key_file.is_empty(),
        )?;
        at_most_one(
            "service_key",
            !self.service_key.is_empty(),
            "service_key_file",
            !self.service_key_file.is_empty(),
        )?;
        if self.source.is_empty() {
            self.source.clone_from(&self.client);
        }
        for (k, v) in default_details() {
            self.details.entry(k.to_owned()).or_insert_with(|| v.to_owned());
        }
        Ok(())
    }

    fn inherit(&mut self, global: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, global);
        if self.url.is_none() {
            self.url = Some(global.pagerduty_url.clone().ok_or("no global PagerDuty URL set")?);
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.routing_key_file = resolve(base, &self.routing_key_file);
        self.service_key_file = resolve(base, &self.service_key_file);
    }
}
