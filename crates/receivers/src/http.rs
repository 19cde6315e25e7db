//! The HTTP client every HTTP integration shares, built from prometheus/common's `http_config`
//! (`config.NewClientFromConfig` upstream).
//!
//! Credentials and TLS material given as files are read at send time, as common does, so rotating a token or a
//! certificate needs no reload. Errors name the file, never its content, and never the URL being called (an
//! oauth2 token error names the token URL, without userinfo: it is configuration, not a secret).
//!
//! Proxies follow Go's rules: see [`ProxyRule`]. The proxy part would deserve its own module (`proxy.rs`).

use crate::oauth2::{OAuth2Settings, TokenSource};
use crate::tls::{self, TlsMaterial, TlsSettings};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::{SharedClock, SystemClock};
use tocsin_pipeline::notifier::{FailureReason, NotifyError, Retry};

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

/// How requests authenticate (`basic_auth`, `authorization`, legacy `bearer_token(_file)`, `oauth2`; mutually
/// exclusive).
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
    /// `oauth2` client-credentials grant: `Authorization: Bearer <token>`, the token fetched and cached per client.
    OAuth2(Box<OAuth2Settings>),
}

/// The typed `http_config` this crate needs; [`HttpClientSettings::from_config`] maps the config crate's struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpClientSettings {
    pub auth: Auth,
    pub tls: TlsSettings,
    /// May carry credentials in its userinfo, so it is treated as a secret.
    pub proxy_url: Option<SecretSource>,
    /// Comma-separated hosts, domains, IPs and CIDRs reached without `proxy_url` (Go's `NO_PROXY` syntax).
    pub no_proxy: String,
    /// Use `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (or their lower-case forms) instead of `proxy_url`.
    pub proxy_from_environment: bool,
    /// Headers sent on the proxy's `CONNECT` request (HTTPS targets only, as Go's `ProxyConnectHeader`).
    pub proxy_connect_header: BTreeMap<String, Vec<SecretSource>>,
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
            no_proxy: String::new(),
            proxy_from_environment: false,
            proxy_connect_header: BTreeMap::new(),
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
    /// The variable's value is not shown: proxy URLs may carry credentials.
    #[error("invalid proxy URL in environment variable {0}")]
    InvalidEnvProxy(&'static str),
    #[error("invalid {0} header value")]
    InvalidHeader(&'static str),
    #[error("unable to build HTTP client: {0}")]
    Build(String),
    /// The oauth2 token could not be had. `cause` uses golang.org/x/oauth2's wording and never holds the client
    /// secret; `retryable` is false when the token endpoint answered and refused (4xx, bad or empty answer).
    #[error("oauth2 token request to \"{token_url}\" failed: {cause}")]
    OAuth2 { token_url: String, cause: String, retryable: bool },
}

impl HttpError {
    /// Whether trying again later may help: credential files can be fixed and endpoints come back; a token
    /// endpoint that rejected the request or answered nonsense will do it again.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, HttpError::OAuth2 { retryable: false, .. })
    }

    /// The failure of a send whose request could not be prepared.
    pub fn into_notify_error(self) -> NotifyError {
        let retry = if self.is_retryable() { Retry::Yes } else { Retry::No };
        NotifyError { retry, reason: FailureReason::Other, message: self.to_string() }
    }
}

/// Reads an environment variable; injected so tests need not mutate the process environment.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What a client takes from its surroundings rather than from the config: wall time (oauth2 token expiry),
/// environment variables (`proxy_from_environment`) and static name resolutions (tests reach made-up host names
/// on 127.0.0.1 with them; empty in production).
#[derive(Clone)]
pub struct HttpContext {
    pub clock: SharedClock,
    pub env: EnvLookup,
    pub resolve: Vec<(String, SocketAddr)>,
}

impl Default for HttpContext {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            env: Arc::new(|name: &str| std::env::var(name).ok()),
            resolve: Vec::new(),
        }
    }
}

impl fmt::Debug for HttpContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpContext").field("clock", &self.clock).field("resolve", &self.resolve).finish()
    }
}

/// A client for one integration: settings plus the reqwest client built from the TLS material last read.
///
/// The cache sits behind a plain mutex held only to compare and clone, never across an await: every send asks for
/// the client, and with an async mutex the sends of a burst that found it taken (e.g. while the first send built
/// the client) each parked and waited for a wake-up. Two sends that both find the cache stale may both build a
/// client; the last one stays, which is harmless.
pub struct HttpClient {
    settings: HttpClientSettings,
    context: HttpContext,
    cache: std::sync::Mutex<Option<(TlsMaterial, reqwest::Client)>>,
    /// Present with `Auth::OAuth2`: the token cache lives as long as the client.
    oauth2: Option<Box<TokenSource>>,
}

/// Only the (redacting) settings: reqwest's own `Debug` would show the proxy.
impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new(settings: HttpClientSettings) -> Self {
        Self::with_context(settings, HttpContext::default())
    }

    pub fn with_context(settings: HttpClientSettings, context: HttpContext) -> Self {
        let oauth2 = match &settings.auth {
            Auth::OAuth2(o) => Some(Box::new(TokenSource::new((**o).clone(), context.clone()))),
            _ => None,
        };
        Self { settings, context, cache: std::sync::Mutex::new(None), oauth2 }
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
        // Upstream ignores HTTP_PROXY & co unless `proxy_from_environment` is set.
        b = b.no_proxy();
        for p in self.proxies().await? {
            b = b.proxy(p);
        }
        for (domain, addr) in &self.context.resolve {
            b = b.resolve(domain, *addr);
        }
        b.build().map_err(|e| HttpError::Build(crate::classify::error_chain(&e.without_url())))
    }

    /// The proxies of the client: one for HTTPS targets (carrying `proxy_connect_header` on its CONNECT) and one
    /// for plain HTTP targets, both deciding per request as Go's transport does (see [`ProxyRule`]).
    async fn proxies(&self) -> Result<Vec<reqwest::Proxy>, HttpError> {
        let s = &self.settings;
        let rule = if s.proxy_from_environment {
            ProxyRule::from_env(&self.context.env)?
        } else if let Some(p) = &s.proxy_url {
            let url = p.read("proxy_url file").await?;
            let url = reqwest::Url::parse(url.trim()).map_err(|_| HttpError::InvalidProxy)?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(HttpError::InvalidProxy);
            }
            ProxyRule::fixed(url, &s.no_proxy)
        } else {
            return Ok(Vec::new());
        };
        let mut headers = HeaderMap::new();
        for (name, values) in &s.proxy_connect_header {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| HttpError::InvalidHeader("proxy_connect_header"))?;
            for v in values {
                let mut value = HeaderValue::from_str(&v.read("proxy_connect_header file").await?)
                    .map_err(|_| HttpError::InvalidHeader("proxy_connect_header"))?;
                value.set_sensitive(true);
                headers.append(header.clone(), value);
            }
        }
        let rule = Arc::new(rule);
        let (https_rule, http_rule) = (rule.clone(), rule);
        let mut https =
            reqwest::Proxy::custom(move |u| https_rule.proxy_for(u).filter(|_| u.scheme() == "https"));
        if !headers.is_empty() {
            // reqwest also adds a proxy's headers to forwarded plain-HTTP requests; Go sends them on CONNECT only,
            // hence the separate proxy for HTTP targets below, without them.
            https = https.headers(headers);
        }
        let http = reqwest::Proxy::custom(move |u| http_rule.proxy_for(u).filter(|_| u.scheme() == "http"));
        Ok(vec![https, http])
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
            Auth::OAuth2(_) => match &self.oauth2 {
                Some(source) => Ok(req.header(AUTHORIZATION, source.authorization().await?)),
                None => Err(HttpError::Build("oauth2 token source missing".to_owned())),
            },
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

/// Which proxy a request goes through. `proxy_url` alone proxies every request, loopback included (Go's
/// `http.ProxyURL`); with `no_proxy`, or from the environment, golang.org/x/net/http/httpproxy decides: `localhost`
/// and loopback addresses are never proxied, `NO_PROXY` entries bypass, and HTTPS targets only use `HTTPS_PROXY`.
#[derive(Clone, Default)]
pub struct ProxyRule {
    http: Option<reqwest::Url>,
    https: Option<reqwest::Url>,
    /// httpproxy's rules apply (else every request is proxied).
    selective: bool,
    no_proxy: NoProxy,
}

/// Proxy URLs may carry credentials.
impl fmt::Debug for ProxyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyRule").field("selective", &self.selective).finish_non_exhaustive()
    }
}

impl ProxyRule {
    /// `proxy_url` with an optional `no_proxy` list.
    pub fn fixed(url: reqwest::Url, no_proxy: &str) -> Self {
        ProxyRule {
            http: Some(url.clone()),
            https: Some(url),
            selective: !no_proxy.trim().is_empty(),
            no_proxy: NoProxy::parse(no_proxy),
        }
    }

    /// httpproxy's `FromEnvironment`: upper-case names win over lower-case ones, empty values count as unset.
    pub fn from_env(env: &EnvLookup) -> Result<Self, HttpError> {
        let get = |names: [&'static str; 2]| names.into_iter().find_map(|n| env(n).filter(|v| !v.is_empty()));
        Ok(ProxyRule {
            http: parse_env_proxy(get(["HTTP_PROXY", "http_proxy"]), "HTTP_PROXY")?,
            https: parse_env_proxy(get(["HTTPS_PROXY", "https_proxy"]), "HTTPS_PROXY")?,
            selective: true,
            no_proxy: NoProxy::parse(&get(["NO_PROXY", "no_proxy"]).unwrap_or_default()),
        })
    }

    /// The proxy for a request to `target`, or `None` to connect directly.
    pub fn proxy_for(&self, target: &reqwest::Url) -> Option<reqwest::Url> {
        let proxy = match target.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        if !self.selective {
            return Some(proxy.clone());
        }
        let host = target.host_str()?.to_ascii_lowercase();
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(&host).to_owned();
        let port = target.port_or_known_default().map(|p| p.to_string()).unwrap_or_default();
        self.no_proxy.use_proxy(&host, &port).then(|| proxy.clone())
    }
}

/// httpproxy's `parseProxy`: a value without scheme or host is read as `http://<value>`.
fn parse_env_proxy(value: Option<String>, var: &'static str) -> Result<Option<reqwest::Url>, HttpError> {
    let Some(value) = value else { return Ok(None) };
    let parsed = match reqwest::Url::parse(&value) {
        Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => Ok(u),
        _ => reqwest::Url::parse(&format!("http://{value}")),
    };
    match parsed {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(Some(u)),
        _ => Err(HttpError::InvalidEnvProxy(var)),
    }
}

/// A `NO_PROXY` list with httpproxy's semantics: `*` matches everything; `1.2.3.0/24` and `::1/128` are CIDRs;
/// `1.2.3.4`, `[::1]:8080` are addresses with an optional port; `example.com` matches it and its subdomains,
/// `.example.com` and `*.example.com` only subdomains, each with an optional `:port`.
#[derive(Debug, Clone, Default, PartialEq)]
struct NoProxy {
    all: bool,
    cidrs: Vec<(IpAddr, u8)>,
    ips: Vec<(IpAddr, String)>,
    /// (suffix starting with '.', port or "", the bare domain itself matches too).
    domains: Vec<(String, String, bool)>,
}

impl NoProxy {
    fn parse(list: &str) -> Self {
        let mut out = NoProxy::default();
        for entry in list.split(',') {
            let p = entry.trim().to_ascii_lowercase();
            if p.is_empty() {
                continue;
            }
            if p == "*" {
                return NoProxy { all: true, ..NoProxy::default() };
            }
            if let Some(cidr) = parse_cidr(&p) {
                out.cidrs.push(cidr);
                continue;
            }
            let (host, port) = split_host_port(&p).unwrap_or((p.as_str(), ""));
            let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
            if host.is_empty() {
                continue;
            }
            if let Ok(ip) = host.parse::<IpAddr>() {
                out.ips.push((canonical_ip(ip), port.to_owned()));
                continue;
            }
            let host = host.strip_prefix("*.").map(|h| format!(".{h}")).unwrap_or_else(|| host.to_owned());
            let (suffix, match_host) =
                if host.starts_with('.') { (host, false) } else { (format!(".{host}"), true) };
            out.domains.push((suffix, port.to_owned(), match_host));
        }
        out
    }

    /// httpproxy's `useProxy` for a lower-case host (brackets removed) and its decimal port.
    fn use_proxy(&self, host: &str, port: &str) -> bool {
        if host == "localhost" {
            return false;
        }
        let ip = host.parse::<IpAddr>().ok().map(canonical_ip);
        if ip.is_some_and(|ip| ip.is_loopback()) {
            return false;
        }
        if self.all {
            return false;
        }
        let port_ok = |want: &str| want.is_empty() || want == port;
        if let Some(ip) = ip {
            if self.cidrs.iter().any(|(net, len)| cidr_contains(*net, *len, ip)) {
                return false;
            }
            if self.ips.iter().any(|(want, p)| *want == ip && port_ok(p)) {
                return false;
            }
        }
        !self.domains.iter().any(|(suffix, p, match_host)| {
            (host.ends_with(suffix.as_str()) || (*match_host && host == &suffix[1..])) && port_ok(p)
        })
    }
}

/// IPv4-mapped IPv6 addresses compare as IPv4, as Go's `net.IP` does.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// `net.SplitHostPort` for the forms NO_PROXY entries take (`host:port`, `[v6]:port`).
fn split_host_port(p: &str) -> Option<(&str, &str)> {
    if let Some(rest) = p.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    let (host, port) = p.rsplit_once(':')?;
    (!host.contains(':')).then_some((host, port))
}

fn parse_cidr(p: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = p.split_once('/')?;
    let ip = canonical_ip(addr.parse::<IpAddr>().ok()?);
    let len: u8 = len.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((ip, len))
}

fn cidr_contains(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    let bits = |a: IpAddr| -> (u128, u32) {
        match a {
            IpAddr::V4(v) => (u128::from(u32::from(v)) << 96, 32),
            IpAddr::V6(v) => (u128::from(v), 128),
        }
    };
    let ((n, nw), (i, iw)) = (bits(net), bits(ip));
    if nw != iw {
        return false;
    }
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
    n & mask == i & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_matching() {
        struct Case {
            name: &'static str,
            list: &'static str,
            url: &'static str,
            want_proxy: bool,
        }
        let cases = [
            Case { name: "not listed", list: "other.com", url: "http://a.example.com/", want_proxy: true },
            Case {
                name: "domain itself",
                list: "example.com",
                url: "http://example.com/",
                want_proxy: false,
            },
            Case { name: "subdomain", list: "example.com", url: "http://a.example.com/", want_proxy: false },
            Case {
                name: "suffix is not subdomain",
                list: "example.com",
                url: "http://badexample.com/",
                want_proxy: true,
            },
            Case {
                name: "leading dot: not itself",
                list: ".example.com",
                url: "http://example.com/",
                want_proxy: true,
            },
            Case {
                name: "leading dot: subdomain",
                list: ".example.com",
                url: "http://a.example.com/",
                want_proxy: false,
            },
            Case {
                name: "wildcard subdomain",
                list: "*.example.com",
                url: "https://a.example.com/",
                want_proxy: false,
            },
            Case {
                name: "case and spaces",
                list: " foo , EXAMPLE.com ",
                url: "http://Example.COM/",
                want_proxy: false,
            },
            Case {
                name: "port matches",
                list: "example.com:8080",
                url: "http://example.com:8080/",
                want_proxy: false,
            },
            Case {
                name: "port differs",
                list: "example.com:8080",
                url: "http://example.com/",
                want_proxy: true,
            },
            Case {
                name: "default port",
                list: "example.com:443",
                url: "https://example.com/",
                want_proxy: false,
            },
            Case { name: "ip", list: "10.1.2.3", url: "http://10.1.2.3:9/", want_proxy: false },
            Case { name: "ip other", list: "10.1.2.3", url: "http://10.1.2.4/", want_proxy: true },
            Case { name: "ip port", list: "10.1.2.3:80", url: "http://10.1.2.3/", want_proxy: false },
            Case { name: "cidr", list: "10.0.0.0/8", url: "http://10.200.0.1/", want_proxy: false },
            Case { name: "cidr outside", list: "10.0.0.0/8", url: "http://11.0.0.1/", want_proxy: true },
            Case { name: "v6 cidr", list: "fd00::/8", url: "http://[fd12::1]/", want_proxy: false },
            Case {
                name: "v6 bracket port",
                list: "[fd00::1]:8080",
                url: "http://[fd00::1]:8080/",
                want_proxy: false,
            },
            Case { name: "star", list: "*", url: "http://anything.example/", want_proxy: false },
            Case {
                name: "loopback always direct",
                list: "other",
                url: "http://127.0.0.1:1/",
                want_proxy: false,
            },
            Case {
                name: "localhost always direct",
                list: "other",
                url: "http://localhost:1/",
                want_proxy: false,
            },
            Case { name: "v6 loopback", list: "other", url: "http://[::1]:1/", want_proxy: false },
        ];
        let proxy = reqwest::Url::parse("http://proxy.example:3128").unwrap();
        for c in cases {
            let rule = ProxyRule::fixed(proxy.clone(), c.list);
            let got = rule.proxy_for(&reqwest::Url::parse(c.url).unwrap()).is_some();
            assert_eq!(got, c.want_proxy, "{}", c.name);
        }
    }

    #[test]
    fn proxy_url_alone_proxies_loopback_too() {
        let rule = ProxyRule::fixed(reqwest::Url::parse("http://p:1").unwrap(), "");
        assert!(rule.proxy_for(&reqwest::Url::parse("http://127.0.0.1:9/").unwrap()).is_some());
    }

    #[test]
    fn from_env() {
        let env: EnvLookup = Arc::new(|n: &str| match n {
            "http_proxy" => Some("proxy.example:3128".to_owned()),
            "HTTPS_PROXY" => Some(String::new()),
            "https_proxy" => Some("https://secure.example".to_owned()),
            "NO_PROXY" => Some("skip.example".to_owned()),
            _ => None,
        });
        let rule = ProxyRule::from_env(&env).unwrap();
        let at = |u: &str| rule.proxy_for(&reqwest::Url::parse(u).unwrap()).map(|u| u.to_string());
        assert_eq!(at("http://a.example/").as_deref(), Some("http://proxy.example:3128/"));
        assert_eq!(at("https://a.example/").as_deref(), Some("https://secure.example/"));
        assert_eq!(at("http://skip.example/"), None);
        let bad: EnvLookup = Arc::new(|n: &str| (n == "HTTP_PROXY").then(|| "socks5://u:pw@h:1".to_owned()));
        let e = ProxyRule::from_env(&bad).unwrap_err().to_string();
        assert_eq!(e, "invalid proxy URL in environment variable HTTP_PROXY");
    }
}
