//! `email_configs`.

use super::{at_most_one, tmpl, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::TlsConfig;
use crate::paths::resolve;
use crate::secret::Secret;
use crate::url::HostPort;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    #[serde(default)]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hello: String,
    #[serde(default, skip_serializing_if = "HostPort::is_empty")]
    pub smarthost: HostPort,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_username: String,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub auth_password: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_password_file: String,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub auth_secret: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_identity: String,
    /// Header names canonicalised (`subject` → `Subject`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default = "default_html", skip_serializing_if = "String::is_empty")]
    pub html: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_tls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
}

fn default_html() -> String {
    tmpl("email.default.html")
}

/// The default `Subject` header template.
pub fn default_subject() -> String {
    tmpl("email.default.subject")
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`; keys with invalid bytes unchanged.
pub fn canonical_header_key(k: &str) -> String {
    let valid = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !k.chars().all(valid) {
        return k.to_owned();
    }
    let mut upper = true;
    k.chars()
        .map(|c| {
            let out = if upper { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
            upper = c == '-';
            out
        })
        .collect()
}

impl EmailConfig {
    /// What upstream's email notifier adds to the config when it is built: default `Subject`, `To`, `From`
    /// headers (visible in `/api/v2/status` for receivers used by a route).
    pub fn fill_default_headers(&mut self) {
        let (to, from) = (self.to.clone(), self.from.clone());
        self.headers.entry("Subject".into()).or_insert_with(default_subject);
        self.headers.entry("To".into()).or_insert(to);
        self.headers.entry("From".into()).or_insert(from);
    }
}

impl IntegrationConfig for EmailConfig {
    const NAME: &'static str = "email";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        if self.to.is_empty() {
            return Err("missing to address in email config".into());
        }
        let mut normalized = BTreeMap::new();
        for (k, v) in std::mem::take(&mut self.headers) {
            let key = canonical_header_key(&k);
            if normalized.contains_key(&key) {
                return Err(format!("duplicate header {key:?} in email config"));
            }
            normalized.insert(key, v);
        }
        self.headers = normalized;
        at_most_one(
            "auth_password",
            !self.auth_password.is_empty(),
            "auth_password_file",
            !self.auth_password_file.is_empty(),
        )
    }

    fn inherit(&mut self, g: &GlobalConfig) -> Result<(), String> {
        if self.tls_config.is_none() {
            self.tls_config.clone_from(&g.smtp_tls_config);
        }
        if self.smarthost.is_empty() {
            if g.smtp_smarthost.is_empty() {
                return Err("no global SMTP smarthost set".into());
            }
            self.smarthost = g.smtp_smarthost.clone();
        }
        if self.from.is_empty() {
            if g.smtp_from.is_empty() {
                return Err("no global SMTP from set".into());
            }
            self.from.clone_from(&g.smtp_from);
        }
        if self.hello.is_empty() {
            self.hello.clone_from(&g.smtp_hello);
        }
        if self.auth_username.is_empty() {
            self.auth_username.clone_from(&g.smtp_auth_username);
        }
        if self.auth_password.is_empty() && self.auth_password_file.is_empty() {
            self.auth_password = g.smtp_auth_password.clone();
            self.auth_password_file.clone_from(&g.smtp_auth_password_file);
        }
        if self.auth_secret.is_empty() {
            self.auth_secret = g.smtp_auth_secret.clone();
        }
        if self.auth_identity.is_empty() {
            self.auth_identity.clone_from(&g.smtp_auth_identity);
        }
        if self.require_tls.is_none() {
            self.require_tls = Some(g.smtp_require_tls);
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        self.auth_password_file = resolve(base, &self.auth_password_file);
        if let Some(t) = &mut self.tls_config {
            t.resolve_paths(base);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_header_key;

    #[test]
    fn canonical_keys() {
        assert_eq!(canonical_header_key("subject"), "Subject");
        assert_eq!(canonical_header_key("x-PRIORITY-level"), "X-Priority-Level");
        assert_eq!(canonical_header_key("bad key"), "bad key");
    }
}
