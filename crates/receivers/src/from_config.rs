//! The config crate's structs → this crate's settings. Kept apart so the senders do not depend on how
//! `alertmanager.yml` spells things (paths are already resolved against the config file's directory).

use crate::http::{Auth, HttpClientSettings, SecretSource};
use crate::oauth2::OAuth2Settings;
use crate::tls::{PemSource, TlsSettings, TlsVersion};
use crate::webhook::WebhookSettings;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tocsin_config::{HttpClientConfig, OAuth2, Secret, TlsConfig, Url, WebhookConfig};

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
        } else if let Some(o) = &c.oauth2 {
            Auth::OAuth2(Box::new(OAuth2Settings::from_config(o)))
        } else {
            Auth::None
        };
        HttpClientSettings {
            auth,
            tls: TlsSettings::from_config(&c.tls_config),
            proxy_url: proxy_url(&c.proxy_url),
            no_proxy: c.no_proxy.clone(),
            proxy_from_environment: c.proxy_from_environment,
            proxy_connect_header: connect_header(&c.proxy_connect_header),
            follow_redirects: c.follow_redirects,
            enable_http2: c.enable_http2,
        }
    }
}

fn proxy_url(u: &Option<Url>) -> Option<SecretSource> {
    u.as_ref().map(|u| SecretSource::Inline(u.as_str().to_owned()))
}

fn connect_header(h: &BTreeMap<String, Vec<Secret>>) -> BTreeMap<String, Vec<SecretSource>> {
    h.iter()
        .map(|(k, vs)| (k.clone(), vs.iter().map(|v| SecretSource::Inline(v.expose().to_owned())).collect()))
        .collect()
}

impl OAuth2Settings {
    pub fn from_config(o: &OAuth2) -> Self {
        OAuth2Settings {
            client_id: o.client_id.clone(),
            client_secret: secret(&o.client_secret, &o.client_secret_file)
                .unwrap_or_else(|| SecretSource::Inline(String::new())),
            scopes: o.scopes.clone(),
            token_url: o.token_url.clone(),
            endpoint_params: o.endpoint_params.clone(),
            http: HttpClientSettings {
                tls: TlsSettings::from_config(&o.tls_config),
                proxy_url: proxy_url(&o.proxy_url),
                no_proxy: o.no_proxy.clone(),
                proxy_from_environment: o.proxy_from_environment,
                proxy_connect_header: connect_header(&o.proxy_connect_header),
                ..OAuth2Settings::token_client_defaults()
            },
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
