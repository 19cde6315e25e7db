//! The HTTP client every HTTP integration shares, built from prometheus/common's `http_config`
//! (`config.NewClientFromConfig` upstream).
//!
//! Credentials and TLS material given as files are read at send time, as common does, so rotating a token or a
//! certificate needs no reload. Errors name the file, never its content, and never the URL being called.

use crate::tls::{self, TlsMaterial, TlsSettings};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The `User-Agent` of every request. Upstream sends `Alertmanager/<version>`; we say who we are, since no
/// receiver we know of inspects it (see the crate README).
pub const USER_AGENT: &str = concat!("tocsin/", env!("CARGO_PKG_VERSION"));

/// Go's `http.Client` follows at most 10 redirects.
const MAX_REDIRECTS: usize = 10;

/// A secret value, written inline in the config or kept in a file that is read at every use.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Inline(String),
    File(PathBuf),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Inline(_) => f.write_str("<secret>"),
            SecretSource::File(p) => write!(f, "File({})", p.display()),
        }
    }
}

impl SecretSource {
    /// The value; file contents are trimmed of surrounding white space as common's `readCredentialsFile` does.
    pub async fn read(&self, what: &'static str) -> Result<String, HttpError> {
        match self {
            SecretSource::Inline(s) => Ok(s.clone()),
            SecretSource::File(path) => match tokio::fs::read_to_string(path).await {
                Ok(s) => Ok(s.trim().to_owned()),
                Err(source) => Err(HttpError::ReadFile { what, path: path.clone(), source }),
            },
        }
    }
}

/// How requests authenticate (`basic_auth`, `authorization`, legacy `bearer_token(_file)`; mutually exclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: SecretSource,
        password: Option<SecretSource>,
    },
    /// `Authorization: <kind> <credentials>`; `bearer_token` is `kind = "Bearer"`.
    Authorization {
        kind: String,
        credentials: Option<SecretSource>,
    },
    /// An authentication scheme tocsin does not implement yet (`oauth2`): every send fails, naming it.
    Unsupported(&'static str),
}

/// The typed `http_config` this crate needs; [`HttpClientSettings::from_config`] maps the config crate's struct.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpClientSettings {
    pub auth: Auth,
    pub tls: TlsSettings,
    /// May carry credentials in its userinfo, so it is treated as a secret.
    pub proxy_url: Option<SecretSource>,
    pub follow_redirects: bool,
    pub enable_http2: bool,
}

impl Default for HttpClientSettings {
    /// common's `DefaultHTTPClientConfig`: follow redirects, HTTP/2 on.
    fn default() -> Self {
        Self {
            auth: Auth::None,
            tls: TlsSettings::default(),
            proxy_url: None,
            follow_redirects: true,
            enable_http2: true,
        }
    }
}

/// Why a request could not be prepared. Messages name files, never their content or the target URL.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("unable to read {what} {path}: {source}", path = .path.display())]
    ReadFile { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Tls(String),
    #[error("invalid proxy_url")]
    InvalidProxy,
    #[error("invalid {0} header value")]
    InvalidHeader(&'static str),
    #[error("http_config: {0} is not implemented yet")]
    Unsupported(&'static str),
    #[error("unable to build HTTP client: {0}")]
    Build(String),
}

/// A client for one integration: settings plus the reqwest client built from the TLS material last read.
///
/// The cache sits behind a plain mutex held only to compare and clone, never across an await: every send asks for
/// the client, and with an async mutex the sends of a burst that found it taken (e.g. while the first send built
/// the client) each parked and waited for a wake-up. Two sends that both find the cache stale may both build a
/// client; the last one stays, which is harmless.
pub struct HttpClient {
    settings: HttpClientSettings,
    cache: std::sync::Mutex<Option<(TlsMaterial, reqwest::Client)>>,
}

/// Only the (redacting) settings: reqwest's own `Debug` would show the proxy.
impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new(settings: HttpClientSettings) -> Self {
        Self { settings, cache: std::sync::Mutex::new(None) }
    }

    pub fn settings(&self) -> &HttpClientSettings {
        &self.settings
    }

    /// The reqwest client, rebuilt when the TLS files changed since the last send.
    pub async fn client(&self) -> Result<reqwest::Client, HttpError> {
        let material = TlsMaterial::read(&self.settings.tls).await?;
        let hit = self.cached().as_ref().filter(|(cached, _)| *cached == material).map(|(_, c)| c.clone());
        if let Some(client) = hit {
            return Ok(client);
        }
        let client = self.build(&material).await?;
        *self.cached() = Some((material, client.clone()));
        Ok(client)
    }

    /// The cache; a panic while it was held cannot leave it half-written (it is replaced whole), so a poisoned
    /// lock is used as is.
    fn cached(&self) -> std::sync::MutexGuard<'_, Option<(TlsMaterial, reqwest::Client)>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn build(&self, material: &TlsMaterial) -> Result<reqwest::Client, HttpError> {
        let s = &self.settings;
        let tls = tls::client_config(&s.tls, material, s.enable_http2)?;
        let mut b = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .tls_backend_preconfigured(tls)
            .redirect(if s.follow_redirects {
                reqwest::redirect::Policy::limited(MAX_REDIRECTS)
            } else {
                reqwest::redirect::Policy::none()
            });
        if !s.enable_http2 {
            b = b.http1_only();
        }
        // Upstream ignores HTTP_PROXY & co unless `proxy_from_environment` is set, which we do not support yet.
        b = b.no_proxy();
        if let Some(p) = &s.proxy_url {
            let url = p.read("proxy_url file").await?;
            b = b.proxy(reqwest::Proxy::all(url.as_str()).map_err(|_| HttpError::InvalidProxy)?);
        }
        b.build().map_err(|e| HttpError::Build(crate::classify::error_chain(&e.without_url())))
    }

    /// A POST to `url` with the configured authentication (credential files read now) and `timeout` if any.
    /// `url` may be a [`reqwest::Url`] parsed once by the caller, which saves parsing it at every send.
    pub async fn post(
        &self,
        url: impl reqwest::IntoUrl,
        timeout: Option<Duration>,
    ) -> Result<reqwest::RequestBuilder, HttpError> {
        let client = self.client().await?;
        let mut req = client.post(url);
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        self.authorize(req).await
    }

    /// Adds the `Authorization` header per the settings.
    pub async fn authorize(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, HttpError> {
        match &self.settings.auth {
            Auth::None => Ok(req),
            Auth::Unsupported(what) => Err(HttpError::Unsupported(what)),
            Auth::Basic { username, password } => {
                let user = username.read("basic auth username file").await?;
                let pass = match password {
                    Some(p) => Some(p.read("basic auth password file").await?),
                    None => None,
                };
                Ok(req.basic_auth(user, pass))
            }
            Auth::Authorization { kind, credentials } => {
                let creds = match credentials {
                    Some(c) => c.read("authorization credentials file").await?,
                    None => String::new(),
                };
                let kind = if kind.is_empty() { "Bearer" } else { kind.as_str() };
                let mut v = HeaderValue::from_str(&format!("{kind} {creds}"))
                    .map_err(|_| HttpError::InvalidHeader("Authorization"))?;
                v.set_sensitive(true);
                Ok(req.header(AUTHORIZATION, v))
            }
        }
    }
}
