//! The config crate's structs → this crate's settings. Kept apart so the senders do not depend on how
//! `alertmanager.yml` spells things (paths are already resolved against the config file's directory).

use crate::http::{Auth, HttpClientSettings, SecretSource};
use crate::tls::{PemSource, TlsSettings, TlsVersion};
use crate::webhook::WebhookSettings;
use std::path::PathBuf;
use tocsin_config::{HttpClientConfig, Secret, TlsConfig, WebhookConfig};

fn secret(inline: &Secret, file: &str) -> Option<SecretSource> {
    if !file.is_empty() {
        Some(SecretSource::File(PathBuf::from(file)))
    } else if !inline.is_empty() {
        Some(SecretSource::Inline(inline.expose().to_owned()))
    } else {
        None
    }
}

fn pem(inline: &str, file: &str) -> Option<PemSource> {
    if !file.is_empty() {
        Some(PemSource::File(PathBuf::from(file)))
    } else if !inline.is_empty() {
        Some(PemSource::Inline(inline.to_owned()))
    } else {
        None
    }
}

fn version(v: tocsin_config::TlsVersion) -> TlsVersion {
    match v {
        tocsin_config::TlsVersion::Tls10 => TlsVersion::Tls10,
        tocsin_config::TlsVersion::Tls11 => TlsVersion::Tls11,
        tocsin_config::TlsVersion::Tls12 => TlsVersion::Tls12,
        tocsin_config::TlsVersion::Tls13 => TlsVersion::Tls13,
    }
}

impl TlsSettings {
    pub fn from_config(c: &TlsConfig) -> Self {
        TlsSettings {
            ca: pem(&c.ca, &c.ca_file),
            cert: pem(&c.cert, &c.cert_file),
            key: pem(c.key.expose(), &c.key_file),
            server_name: Some(c.server_name.clone()).filter(|s| !s.is_empty()),
            insecure_skip_verify: c.insecure_skip_verify,
            min_version: c.min_version.map(version),
            max_version: c.max_version.map(version),
        }
    }
}

impl HttpClientSettings {
    pub fn from_config(c: &HttpClientConfig) -> Self {
        let auth = if let Some(b) = &c.basic_auth {
            let username = secret(&Secret::new(b.username.clone()), &b.username_file)
                .unwrap_or_else(|| SecretSource::Inline(String::new()));
            Auth::Basic { username, password: secret(&b.password, &b.password_file) }
        } else if let Some(a) = &c.authorization {
            Auth::Authorization {
                kind: a.kind.clone(),
                credentials: secret(&a.credentials, &a.credentials_file),
            }
        } else if let Some(creds) = secret(&c.bearer_token, &c.bearer_token_file) {
            // Normally already folded into `authorization` by the config crate; kept for configs built in code.
            Auth::Authorization { kind: "Bearer".to_owned(), credentials: Some(creds) }
        } else if c.oauth2.is_some() {
            Auth::Unsupported("oauth2")
        } else {
            Auth::None
        };
        HttpClientSettings {
            auth,
            tls: TlsSettings::from_config(&c.tls_config),
            proxy_url: c.proxy_url.as_ref().map(|u| SecretSource::Inline(u.as_str().to_owned())),
            follow_redirects: c.follow_redirects,
            enable_http2: c.enable_http2,
        }
    }
}

impl WebhookSettings {
    pub fn from_config(c: &WebhookConfig) -> Self {
        let url = match (&c.url, c.url_file.as_str()) {
            (_, f) if !f.is_empty() => SecretSource::File(PathBuf::from(f)),
            // A `<secret>` placeholder (a config copied from /api/v2/status) has no URL: sends then fail.
            (Some(u), _) => {
                SecretSource::Inline(u.expose().map(|u| u.as_str().to_owned()).unwrap_or_default())
            }
            (None, _) => SecretSource::Inline(String::new()),
        };
        WebhookSettings {
            url,
            send_resolved: c.send_resolved,
            max_alerts: c.max_alerts,
            timeout: Some(c.timeout.0).filter(|t| !t.is_zero()),
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}
