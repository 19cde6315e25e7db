//! `--web.config.file`: the Prometheus exporter-toolkit web configuration (TLS server, HTTP server options and
//! basic auth), as Alertmanager serves it through `web.ListenAndServe`.
//!
//! Upstream re-reads the file on every request and every TLS handshake so certificate rotation needs no restart;
//! [`watch::WebConfigWatch`] does the equivalent cheaply by re-reading only when the file (or a certificate, key or
//! CA file it names) changed, checked at most once per second. [`serve`] runs the HTTP listeners with it.
//!
//! Unknown keys are errors (upstream uses `yaml.UnmarshalStrict`); relative file paths resolve against the
//! directory of the web config file.

pub mod auth;
pub mod serve;
pub mod tls;
pub mod watch;

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a web config file cannot be used. The file is named by [`WebConfigError::File`].
#[derive(Debug, thiserror::Error)]
pub enum WebConfigError {
    #[error("web config file {path:?}: {reason}")]
    File { path: PathBuf, reason: String },
}

impl WebConfigError {
    fn file(path: &Path, reason: impl std::fmt::Display) -> Self {
        WebConfigError::File { path: path.to_path_buf(), reason: reason.to_string() }
    }
}

/// The whole file (exporter-toolkit `web.Config`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    pub tls_server_config: TlsServerConfig,
    pub http_server_config: HttpServerConfig,
    /// User name → bcrypt hash of the password.
    pub basic_auth_users: BTreeMap<String, String>,
}

/// `tls_server_config`. TLS is enabled when any certificate, key, CA or client auth field is set.
/// `Debug` is written by hand: it must never print the inline private key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsServerConfig {
    /// Inline PEM certificate (instead of `cert_file`).
    pub cert: String,
    /// Inline PEM key (instead of `key_file`).
    pub key: String,
    /// Inline PEM client CA bundle (instead of `client_ca_file`).
    pub client_ca: String,
    pub cert_file: String,
    pub key_file: String,
    pub client_auth_type: String,
    pub client_ca_file: String,
    pub cipher_suites: Vec<String>,
    pub curve_preferences: Vec<String>,
    pub min_version: TlsVersion,
    pub max_version: TlsVersion,
    pub prefer_server_cipher_suites: bool,
}

impl std::fmt::Debug for TlsServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = if self.key.is_empty() { "" } else { "<redacted>" };
        f.debug_struct("TlsServerConfig")
            .field("cert", &self.cert)
            .field("key", &key)
            .field("client_ca", &self.client_ca)
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("client_auth_type", &self.client_auth_type)
            .field("client_ca_file", &self.client_ca_file)
            .field("cipher_suites", &self.cipher_suites)
            .field("curve_preferences", &self.curve_preferences)
            .field("min_version", &self.min_version)
            .field("max_version", &self.max_version)
            .field("prefer_server_cipher_suites", &self.prefer_server_cipher_suites)
            .finish()
    }
}

impl Default for TlsServerConfig {
    /// Upstream's defaults: TLS 1.2 to 1.3, server cipher order preferred.
    fn default() -> Self {
        Self {
            cert: String::new(),
            key: String::new(),
            client_ca: String::new(),
            cert_file: String::new(),
            key_file: String::new(),
            client_auth_type: String::new(),
            client_ca_file: String::new(),
            cipher_suites: Vec::new(),
            curve_preferences: Vec::new(),
            min_version: TlsVersion::Tls12,
            max_version: TlsVersion::Tls13,
            prefer_server_cipher_suites: true,
        }
    }
}

impl TlsServerConfig {
    /// Whether this config turns TLS on (exporter-toolkit `TLSConfig.IsEnabled`).
    pub fn is_enabled(&self) -> bool {
        [&self.cert, &self.key, &self.client_ca, &self.cert_file, &self.key_file, &self.client_ca_file]
            .iter()
            .any(|s| !s.is_empty())
            || !self.client_auth_type.is_empty()
    }

    /// The files this config reads; their changes trigger a reload.
    pub fn files(&self) -> Vec<PathBuf> {
        [&self.cert_file, &self.key_file, &self.client_ca_file]
            .iter()
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect()
    }

    fn set_directory(&mut self, dir: &Path) {
        for p in [&mut self.cert_file, &mut self.key_file, &mut self.client_ca_file] {
            if !p.is_empty() && Path::new(p.as_str()).is_relative() {
                *p = dir.join(p.as_str()).to_string_lossy().into_owned();
            }
        }
    }
}

/// `min_version` / `max_version` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
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

/// `http_server_config`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpServerConfig {
    /// Offer HTTP/2 over TLS (ALPN `h2`); default true.
    pub http2: bool,
    /// Extra response headers, restricted to upstream's list.
    pub headers: BTreeMap<String, String>,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        Self { http2: true, headers: BTreeMap::new() }
    }
}

/// The response headers an operator may set, with their allowed values (empty: any value). Upstream keeps the
/// list closed "to ensure consistency in the Prometheus ecosystem".
const EXTRA_HTTP_HEADERS: &[(&str, &[&str])] = &[
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

/// Reads and validates `path`: YAML, headers, bcrypt hashes, and that the TLS part builds (certificates load).
pub fn load(
    path: &Path,
) -> Result<(WebConfig, Option<std::sync::Arc<rustls::ServerConfig>>), WebConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| WebConfigError::file(path, format!("open: {e}")))?;
    let config = parse(&text, path.parent().unwrap_or(Path::new("")))
        .map_err(|reason| WebConfigError::file(path, reason))?;
    let tls = tls::server_config(&config).map_err(|reason| WebConfigError::file(path, reason))?;
    Ok((config, tls))
}

/// Parses the YAML and checks everything that needs no file: headers and the users' bcrypt hashes. Relative
/// paths are joined to `dir`.
pub fn parse(text: &str, dir: &Path) -> Result<WebConfig, String> {
    // An empty file is an empty config, as in Go.
    let mut config: WebConfig = if text.trim().is_empty() {
        WebConfig::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?
    };
    for (k, v) in &config.http_server_config.headers {
        let Some((_, allowed)) = EXTRA_HTTP_HEADERS.iter().find(|(name, _)| name == k) else {
            return Err(format!("HTTP header {k:?} can not be configured"));
        };
        if !allowed.is_empty() && !allowed.contains(&v.as_str()) {
            return Err(format!("invalid value for {k}. Expected one of: {allowed:?}, but got: {v:?}"));
        }
    }
    for (user, hash) in &config.basic_auth_users {
        if hash.parse::<bcrypt::HashParts>().is_err() {
            return Err(format!("basic_auth_users: the password of {user:?} is not a bcrypt hash"));
        }
    }
    config.tls_server_config.set_directory(dir);
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        input: &'static str,
        want_err: Option<&'static str>,
    }

    #[test]
    fn parse_validates() {
        let hash = bcrypt::hash("hunter2", 4).expect("hash");
        let users = format!("basic_auth_users:\n  alice: '{hash}'\n");
        let leaked: &'static str = Box::leak(users.into_boxed_str());
        let cases = [
            Case { name: "empty", input: "", want_err: None },
            Case { name: "users", input: leaked, want_err: None },
            Case { name: "unknown top key", input: "foo: 1\n", want_err: Some("unknown field `foo`") },
            Case {
                name: "unknown tls key",
                input: "tls_server_config:\n  certfile: a\n",
                want_err: Some("unknown field `certfile`"),
            },
            Case {
                name: "bad header",
                input: "http_server_config:\n  headers:\n    X-Foo: bar\n",
                want_err: Some("HTTP header \"X-Foo\" can not be configured"),
            },
            Case {
                name: "bad header value",
                input: "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
                want_err: Some("invalid value for X-Frame-Options"),
            },
            Case {
                name: "not a hash",
                input: "basic_auth_users:\n  bob: plain\n",
                want_err: Some("\"bob\" is not a bcrypt hash"),
            },
            Case {
                name: "bad version",
                input: "tls_server_config:\n  min_version: TLS14\n",
                want_err: Some("TLS14"),
            },
        ];
        for c in cases {
            match (parse(c.input, Path::new("/etc/am")), c.want_err) {
                (Ok(_), None) => {}
                (Err(e), Some(want)) => assert!(e.contains(want), "{}: {e}", c.name),
                (got, want) => panic!("{}: got {got:?}, want error {want:?}", c.name),
            }
        }
    }

    #[test]
    fn defaults_and_relative_paths() {
        let c =
            parse("tls_server_config:\n  cert_file: a.crt\n  key_file: /abs/b.key\n", Path::new("/etc/am"))
                .expect("parse");
        assert_eq!(c.tls_server_config.cert_file, "/etc/am/a.crt");
        assert_eq!(c.tls_server_config.key_file, "/abs/b.key");
        assert!(c.http_server_config.http2);
        assert!(c.tls_server_config.prefer_server_cipher_suites);
        assert_eq!(c.tls_server_config.min_version, TlsVersion::Tls12);
        assert!(c.tls_server_config.is_enabled());
        assert!(!WebConfig::default().tls_server_config.is_enabled());
    }
}
