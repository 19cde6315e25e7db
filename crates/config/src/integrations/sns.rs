//! `sns_configs` (AWS SNS with SigV4).

use super::{inherit_http, resolve_http, tmpl, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnsConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_url: String,
    #[serde(default)]
    pub sigv4: SigV4Config,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub topic_arn: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone_number: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target_arn: String,
    #[serde(default = "d_subject", skip_serializing_if = "String::is_empty")]
    pub subject: String,
    #[serde(default = "d_message", skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// prometheus/sigv4 `SigV4Config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigV4Config {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub region: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub access_key: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub secret_key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub profile: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub role_arn: String,
}

fn d_subject() -> String {
    tmpl("sns.default.subject")
}
fn d_message() -> String {
    tmpl("sns.default.message")
}

impl IntegrationConfig for SnsConfig {
    const NAME: &'static str = "sns";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        validate_http(&mut self.http_config)?;
        if self.sigv4.access_key.is_empty() != self.sigv4.secret_key.is_empty() {
            return Err("must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config".into());
        }
        // Upstream's expression, including its quirk that all three set passes.
        let (t, p, n) = (self.target_arn.is_empty(), self.topic_arn.is_empty(), self.phone_number.is_empty());
        if (t != p) != n {
            return Err("must provide either a Target ARN, Topic ARN, or Phone Number for SNS config".into());
        }
        Ok(())
    }

    fn inherit(&mut self, g: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, g);
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
    }
}
