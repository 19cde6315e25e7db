//! `http_config` and `tls_config` (prometheus/common `HTTPClientConfig`, `TLSConfig`): fields, defaults,
//! validation with common's wording, and the normalisation common applies (`bearer_token` becomes
//! `authorization: {type: Bearer}`), so `/api/v2/status` shows what upstream shows.

use crate::paths::resolve;
use crate::secret::Secret;
use crate::url::Url;
use crate::yamlish::is_false;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// `basic_auth`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BasicAuth {
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username_file: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub password: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub password_file: String,
}

/// `authorization` (type defaults to `Bearer`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Authorization {
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub credentials: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub credentials_file: String,
}

/// `oauth2` (client credentials grant).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuth2 {
    pub client_id: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub client_secret: Secret,
    pub client_secret_file: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    pub token_url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoint_params: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "TlsConfig::is_empty")]
    pub tls_config: TlsConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<Url>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub no_proxy: String,
    #[serde(skip_serializing_if = "is_false")]
    pub proxy_from_environment: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
}

/// `tls_config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ca: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cert: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ca_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cert_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key_file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server_name: String,
    pub insecure_skip_verify: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_version: Option<TlsVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_version: Option<TlsVersion>,
}

/// `TLS10` … `TLS13`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TlsVersion {
    #[serde(rename = "TLS10")]
    Tls10,
    #[serde(rename = "TLS11")]
    Tls11,
    #[serde(rename = "TLS12")]
    Tls12,
    #[serde(rename = "TLS13")]
    Tls13,
}

impl TlsConfig {
    /// Go's yaml `omitempty` on a struct: every field at its zero value.
    pub fn is_empty(&self) -> bool {
        *self == TlsConfig::default()
    }

    fn validate(&self) -> Result<(), String> {
        let pairs = [
            ("ca", !self.ca.is_empty(), "ca_file", !self.ca_file.is_empty()),
            ("cert", !self.cert.is_empty(), "cert_file", !self.cert_file.is_empty()),
            ("key", !self.key.is_empty(), "key_file", !self.key_file.is_empty()),
        ];
        for (a, has_a, b, has_b) in pairs {
            if has_a && has_b {
                return Err(format!("at most one of {a} and {b} must be configured"));
            }
        }
        let has_cert = !self.cert.is_empty() || !self.cert_file.is_empty();
        let has_key = !self.key.is_empty() || !self.key_file.is_empty();
        if has_cert && !has_key {
            return Err(
                "exactly one of key or key_file must be configured when a client certificate is configured"
                    .into(),
            );
        }
        if has_key && !has_cert {
            return Err(
                "exactly one of cert or cert_file must be configured when a client key is configured".into(),
            );
        }
        Ok(())
    }

    pub(crate) fn resolve_paths(&mut self, base: &Path) {
        for f in [&mut self.ca_file, &mut self.cert_file, &mut self.key_file] {
            *f = resolve(base, f);
        }
    }
}

/// `http_config`: defaults `follow_redirects: true`, `enable_http2: true` (common's `DefaultHTTPClientConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpClientConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2>,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub bearer_token: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bearer_token_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<Url>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub no_proxy: String,
    #[serde(skip_serializing_if = "is_false")]
    pub proxy_from_environment: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
    #[serde(skip_serializing_if = "TlsConfig::is_empty")]
    pub tls_config: TlsConfig,
    pub follow_redirects: bool,
    pub enable_http2: bool,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        Self {
            basic_auth: None,
            authorization: None,
            oauth2: None,
            bearer_token: Secret::default(),
            bearer_token_file: String::new(),
            proxy_url: None,
            no_proxy: String::new(),
            proxy_from_environment: false,
            proxy_connect_header: BTreeMap::new(),
            tls_config: TlsConfig::default(),
            follow_redirects: true,
            enable_http2: true,
        }
    }
}

impl HttpClientConfig {
    /// common's `HTTPClientConfig.Validate`, including its normalisation of `bearer_token(_file)` and the
    /// default authorization type.
    pub fn validate(&mut self) -> Result<(), String> {
        let has_bearer = !self.bearer_token.is_empty() || !self.bearer_token_file.is_empty();
        if !self.bearer_token.is_empty() && !self.bearer_token_file.is_empty() {
            return Err("at most one of bearer_token & bearer_token_file must be configured".into());
        }
        if (self.basic_auth.is_some() || self.oauth2.is_some()) && has_bearer {
            return Err(
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"
                    .into(),
            );
        }
        if let Some(b) = &self.basic_auth {
            if !b.username.is_empty() && !b.username_file.is_empty() {
                return Err("at most one of basic_auth username & username_file must be configured".into());
            }
            if !b.password.is_empty() && !b.password_file.is_empty() {
                return Err("at most one of basic_auth password & password_file must be configured".into());
            }
        }
        if let Some(a) = &mut self.authorization {
            if has_bearer {
                return Err("authorization is not compatible with bearer_token & bearer_token_file".into());
            }
            if !a.credentials.is_empty() && !a.credentials_file.is_empty() {
                return Err(
                    "at most one of authorization credentials & credentials_file must be configured".into()
                );
            }
            a.kind = a.kind.trim().to_owned();
            if a.kind.is_empty() {
                a.kind = "Bearer".into();
            }
            if a.kind.eq_ignore_ascii_case("basic") {
                return Err(r#"authorization type cannot be set to "basic", use "basic_auth" instead"#.into());
            }
            if self.basic_auth.is_some() || self.oauth2.is_some() {
                return Err("at most one of basic_auth, oauth2 & authorization must be configured".into());
            }
        } else if !self.bearer_token.is_empty() {
            self.authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials: std::mem::take(&mut self.bearer_token),
                credentials_file: String::new(),
            });
        } else if !self.bearer_token_file.is_empty() {
            self.authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials: Secret::default(),
                credentials_file: std::mem::take(&mut self.bearer_token_file),
            });
        }
        if let Some(o) = &self.oauth2 {
            if self.basic_auth.is_some() {
                return Err("at most one of basic_auth, oauth2 & authorization must be configured".into());
            }
            if o.client_id.is_empty() {
                return Err("oauth2 client_id must be configured".into());
            }
            if o.client_secret.is_empty() && o.client_secret_file.is_empty() {
                return Err("either oauth2 client_secret or client_secret_file must be configured".into());
            }
            if o.token_url.is_empty() {
                return Err("oauth2 token_url must be configured".into());
            }
            if !o.client_secret.is_empty() && !o.client_secret_file.is_empty() {
                return Err(
                    "at most one of oauth2 client_secret & client_secret_file must be configured".into()
                );
            }
            validate_proxy(&o.proxy_url, &o.no_proxy, o.proxy_from_environment, &o.proxy_connect_header)?;
            o.tls_config.validate()?;
        }
        validate_proxy(
            &self.proxy_url,
            &self.no_proxy,
            self.proxy_from_environment,
            &self.proxy_connect_header,
        )?;
        self.tls_config.validate()
    }

    /// Joins every relative file path with the config file's directory.
    pub(crate) fn resolve_paths(&mut self, base: &Path) {
        self.tls_config.resolve_paths(base);
        self.bearer_token_file = resolve(base, &self.bearer_token_file);
        if let Some(b) = &mut self.basic_auth {
            b.username_file = resolve(base, &b.username_file);
            b.password_file = resolve(base, &b.password_file);
        }
        if let Some(a) = &mut self.authorization {
            a.credentials_file = resolve(base, &a.credentials_file);
        }
        if let Some(o) = &mut self.oauth2 {
            o.client_secret_file = resolve(base, &o.client_secret_file);
            o.tls_config.resolve_paths(base);
        }
    }
}

fn validate_proxy(
    proxy_url: &Option<Url>,
    no_proxy: &str,
    from_env: bool,
    connect_header: &BTreeMap<String, Vec<Secret>>,
) -> Result<(), String> {
    if !connect_header.is_empty() && !from_env && proxy_url.is_none() {
        return Err("if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured".into());
    }
    if from_env && proxy_url.is_some() {
        return Err("if proxy_from_environment is configured, proxy_url must not be configured".into());
    }
    if from_env && !no_proxy.is_empty() {
        return Err("if proxy_from_environment is configured, no_proxy must not be configured".into());
    }
    if proxy_url.is_none() && !no_proxy.is_empty() {
        return Err("if no_proxy is configured, proxy_url must also be configured".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(j: serde_json::Value) -> HttpClientConfig {
        serde_json::from_value(j).unwrap()
    }

    #[test]
    fn defaults() {
        let c = parse(serde_json::json!({}));
        assert!(c.follow_redirects && c.enable_http2);
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({"follow_redirects": true, "enable_http2": true})
        );
    }

    #[test]
    fn bearer_token_becomes_authorization() {
        let mut c = parse(serde_json::json!({"bearer_token": "t"}));
        c.validate().unwrap();
        let a = c.authorization.as_ref().unwrap();
        assert_eq!((a.kind.as_str(), a.credentials.expose()), ("Bearer", "t"));
        assert!(c.bearer_token.is_empty());
    }

    #[test]
    fn validation_errors() {
        struct Case {
            name: &'static str,
            input: serde_json::Value,
            want: &'static str,
        }
        let j = |v| v;
        let cases = [
            Case { name: "bearer both", input: j(serde_json::json!({"bearer_token": "a", "bearer_token_file": "b"})), want: "at most one of bearer_token & bearer_token_file must be configured" },
            Case { name: "basic + bearer", input: j(serde_json::json!({"bearer_token": "a", "basic_auth": {"username": "u"}})), want: "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured" },
            Case { name: "basic + authorization", input: j(serde_json::json!({"authorization": {"credentials": "c"}, "basic_auth": {"username": "u"}})), want: "at most one of basic_auth, oauth2 & authorization must be configured" },
            Case { name: "authorization basic", input: j(serde_json::json!({"authorization": {"type": "Basic"}})), want: r#"authorization type cannot be set to "basic", use "basic_auth" instead"# },
            Case { name: "password both", input: j(serde_json::json!({"basic_auth": {"username": "u", "password": "p", "password_file": "f"}})), want: "at most one of basic_auth password & password_file must be configured" },
            Case { name: "oauth2 id", input: j(serde_json::json!({"oauth2": {"client_secret": "s", "token_url": "t"}})), want: "oauth2 client_id must be configured" },
            Case { name: "oauth2 secret", input: j(serde_json::json!({"oauth2": {"client_id": "i", "token_url": "t"}})), want: "either oauth2 client_secret or client_secret_file must be configured" },
            Case { name: "oauth2 url", input: j(serde_json::json!({"oauth2": {"client_id": "i", "client_secret": "s"}})), want: "oauth2 token_url must be configured" },
            Case { name: "no_proxy alone", input: j(serde_json::json!({"no_proxy": "x"})), want: "if no_proxy is configured, proxy_url must also be configured" },
            Case { name: "env + url", input: j(serde_json::json!({"proxy_from_environment": true, "proxy_url": "http://p:1"})), want: "if proxy_from_environment is configured, proxy_url must not be configured" },
            Case { name: "cert without key", input: j(serde_json::json!({"tls_config": {"cert_file": "c"}})), want: "exactly one of key or key_file must be configured when a client certificate is configured" },
        ];
        for c in cases {
            let got = parse(c.input).validate().expect_err(c.name);
            assert_eq!(got, c.want, "{}", c.name);
        }
    }

    #[test]
    fn resolves_relative_paths() {
        let mut c = parse(
            serde_json::json!({"tls_config": {"ca_file": "ca.pem", "cert_file": "/abs/c.pem", "key_file": "k.pem"}, "basic_auth": {"username": "u", "password_file": "pw"}}),
        );
        c.resolve_paths(Path::new("/etc/am"));
        assert_eq!(c.tls_config.ca_file, "/etc/am/ca.pem");
        assert_eq!(c.tls_config.cert_file, "/abs/c.pem");
        assert_eq!(c.basic_auth.unwrap().password_file, "/etc/am/pw");
    }
}
