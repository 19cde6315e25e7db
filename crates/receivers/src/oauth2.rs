//! `http_config.oauth2`: the OAuth 2.0 client-credentials grant as prometheus/common does it with
//! golang.org/x/oauth2's `clientcredentials` package.
//!
//! A token is fetched from `token_url` at the first send, reused until 10 s before it expires (x/oauth2's
//! `expiryDelta`; a token without `expires_in` never expires), and fetched again after. The client secret is
//! read at every send (`client_secret_file` may be rotated): a changed secret discards the cached token, as common
//! builds a new token source then. Client credentials go in HTTP basic auth first; if the endpoint fails that,
//! once, they go in the form body, and whichever worked is kept (x/oauth2's `AuthStyleAutoDetect`).
//! Token requests use oauth2's own `tls_config` and proxy settings, never the notification's.

use crate::classify::{bounded_text, error_chain, redact, redact_bounded, MAX_ERROR_BODY};
use crate::http::{HttpClient, HttpClientSettings, HttpContext, HttpError, SecretSource};
use crate::incident::escape_query;
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use std::collections::BTreeMap;
use std::fmt;

/// x/oauth2 treats a token as expired this long before its expiry.
const EXPIRY_DELTA: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// x/oauth2 reads at most 1 MiB of a token response.
const MAX_TOKEN_RESPONSE: usize = 1 << 20;

/// x/oauth2 caps `expires_in` at `math.MaxInt32` seconds (about 68 years).
const MAX_EXPIRES_IN: i64 = i32::MAX as i64;

/// The most characters of the server's `error_description` and `error_uri` put in an error message.
const MAX_ERROR_FIELD: usize = 256;

/// The `oauth2` block of `http_config`.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuth2Settings {
    pub client_id: String,
    pub client_secret: SecretSource,
    pub scopes: Vec<String>,
    pub token_url: String,
    pub endpoint_params: BTreeMap<String, String>,
    /// The client of token requests: oauth2's `tls_config`, `proxy_url`, `no_proxy`, `proxy_from_environment`,
    /// `proxy_connect_header` (its `auth` is ignored).
    pub http: HttpClientSettings,
}

/// Endpoint parameters may carry secrets (an `audience` is harmless, a `client_assertion` is not) and the token
/// URL may carry userinfo: only the parameter names and the URL without userinfo are printed.
impl fmt::Debug for OAuth2Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Settings")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("scopes", &self.scopes)
            .field("token_url", &display_url(&self.token_url))
            .field("endpoint_params", &self.endpoint_params.keys().collect::<Vec<_>>())
            .field("http", &self.http)
            .finish()
    }
}

impl OAuth2Settings {
    /// The settings of a token client as common builds it: redirects followed, HTTP/1.1 (Go's transport with a
    /// custom TLS configuration does not attempt HTTP/2).
    pub fn token_client_defaults() -> HttpClientSettings {
        HttpClientSettings { enable_http2: false, ..HttpClientSettings::default() }
    }
}

/// Where the client credentials go in the token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthStyle {
    Header,
    Params,
}

#[derive(Clone)]
struct Token {
    /// `<type> <access token>`, ready to send.
    header: HeaderValue,
    expiry: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Cache {
    /// The secret the token was fetched with.
    secret: String,
    token: Option<Token>,
    style: Option<AuthStyle>,
}

/// Fetches, caches and refreshes the token of one client.
pub struct TokenSource {
    settings: OAuth2Settings,
    client: HttpClient,
    context: HttpContext,
    /// Held only to read or replace, never across an await.
    cache: std::sync::Mutex<Cache>,
    /// Held across a fetch, so the sends of a burst that find the token expired share one token request.
    refresh: tokio::sync::Mutex<()>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl TokenSource {
    pub fn new(settings: OAuth2Settings, context: HttpContext) -> Self {
        let http = HttpClientSettings { auth: crate::http::Auth::None, ..settings.http.clone() };
        Self {
            client: HttpClient::with_context(http, context.clone()),
            settings,
            context,
            cache: std::sync::Mutex::new(Cache::default()),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    fn cached(&self) -> std::sync::MutexGuard<'_, Cache> {
        // Every write replaces whole fields, so a poisoned lock holds consistent data.
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The valid cached token fetched with `secret`, if any.
    fn valid(&self, secret: &str) -> Option<HeaderValue> {
        let now = self.context.clock.now();
        let cache = self.cached();
        let token = cache.token.as_ref().filter(|_| cache.secret == secret)?;
        match token.expiry {
            // An expiry too early to subtract the delta from is long past.
            Some(expiry) if expiry.checked_sub_signed(EXPIRY_DELTA).is_none_or(|e| e < now) => None,
            _ => Some(token.header.clone()),
        }
    }

    /// The `Authorization` header value for the next request, fetching a token when there is no valid one.
    pub async fn authorization(&self) -> Result<HeaderValue, HttpError> {
        let secret = self.settings.client_secret.read("oauth2 client_secret_file").await?;
        if let Some(h) = self.valid(&secret) {
            return Ok(h);
        }
        let _refreshing = self.refresh.lock().await;
        if let Some(h) = self.valid(&secret) {
            return Ok(h);
        }
        let style = self.cached().style;
        let (token, style) = match style {
            Some(style) => (self.fetch(&secret, style).await?, style),
            None => match self.fetch(&secret, AuthStyle::Header).await {
                Ok(t) => (t, AuthStyle::Header),
                Err(_) => (self.fetch(&secret, AuthStyle::Params).await?, AuthStyle::Params),
            },
        };
        let header = token.header.clone();
        *self.cached() = Cache { secret, token: Some(token), style: Some(style) };
        Ok(header)
    }

    fn error(&self, cause: String, retryable: bool, secret: &str) -> HttpError {
        HttpError::OAuth2 {
            token_url: display_url(&self.settings.token_url),
            cause: redact(cause, &[secret]),
            retryable,
        }
    }

    /// One token request (x/oauth2 `RetrieveToken` + `doTokenRoundTrip`).
    async fn fetch(&self, secret: &str, style: AuthStyle) -> Result<Token, HttpError> {
        let s = &self.settings;
        let mut form: BTreeMap<String, String> = BTreeMap::new();
        form.insert("grant_type".to_owned(), "client_credentials".to_owned());
        if !s.scopes.is_empty() {
            form.insert("scope".to_owned(), s.scopes.join(" "));
        }
        for (k, v) in &s.endpoint_params {
            // grant_type may be overridden, for non-compliant servers; nothing else may.
            if form.contains_key(k) && k != "grant_type" {
                return Err(self.error(format!("oauth2: cannot overwrite parameter {k:?}"), false, secret));
            }
            form.insert(k.clone(), v.clone());
        }
        if style == AuthStyle::Params {
            form.insert("client_id".to_owned(), s.client_id.clone());
            if !secret.is_empty() {
                form.insert("client_secret".to_owned(), secret.to_owned());
            }
        }
        let client = self.client.client().await?;
        let mut req = client
            .post(s.token_url.as_str())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(encode_form(&form));
        if style == AuthStyle::Header {
            req = req.basic_auth(escape_query(&s.client_id), Some(escape_query(secret)));
        }
        let resp = req.send().await.map_err(|e| self.error(error_chain(&e.without_url()), true, secret))?;
        let status = resp.status();
        let content_type =
            resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let body = read_limited(resp).await.map_err(|e| {
            self.error(format!("oauth2: cannot fetch token: {}", error_chain(&e.without_url())), true, secret)
        })?;
        let failed = !status.is_success();
        let retrieve_error = || {
            let cause = format!(
                "oauth2: cannot fetch token: {} {}\nResponse: {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                bounded_text(&redact_bounded(
                    &body[..body.len().min(MAX_ERROR_BODY + secret.len())],
                    &[secret]
                ))
            );
            self.error(cause, status.is_server_error(), secret)
        };
        let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let is_form = media == "application/x-www-form-urlencoded" || media == "text/plain";
        let fields = if is_form {
            parse_form(&String::from_utf8_lossy(&body))
        } else {
            match parse_json(&body) {
                Ok(f) => f,
                Err(_) if failed => return Err(retrieve_error()),
                Err(e) => return Err(self.error(format!("oauth2: cannot parse json: {e}"), false, secret)),
            }
        };
        let error_code = fields.get("error").filter(|e| !e.is_empty());
        if let Some(code) = error_code {
            let mut cause =
                format!("oauth2: {:?}", cap_chars(&redact(code.clone(), &[secret]), MAX_ERROR_FIELD));
            for k in ["error_description", "error_uri"] {
                if let Some(v) = fields.get(k).filter(|v| !v.is_empty()) {
                    cause.push_str(&format!(
                        " {:?}",
                        cap_chars(&redact(v.clone(), &[secret]), MAX_ERROR_FIELD)
                    ));
                }
            }
            return Err(self.error(cause, status.is_server_error(), secret));
        }
        if failed {
            return Err(retrieve_error());
        }
        let access = fields.get("access_token").filter(|t| !t.is_empty()).ok_or_else(|| {
            self.error("oauth2: server response missing access_token".to_owned(), false, secret)
        })?;
        let expires_in: i64 = match fields.get("expires_in").map(String::as_str) {
            None | Some("") => 0,
            // Form answers: x/oauth2 ignores an unparsable expires_in; JSON ones fail to decode.
            Some(v) => match v.parse() {
                Ok(n) => n,
                Err(_) if is_form => 0,
                Err(_) => {
                    let cause = format!("oauth2: cannot parse json: invalid expires_in {v:?}");
                    return Err(self.error(cause, false, secret));
                }
            },
        };
        let expiry = token_expiry(self.context.clock.now(), expires_in);
        let kind = token_type(fields.get("token_type").map(String::as_str).unwrap_or(""));
        let mut header = HeaderValue::from_str(&format!("{kind} {access}")).map_err(|_| {
            self.error("oauth2: access_token is not a valid header value".to_owned(), false, secret)
        })?;
        header.set_sensitive(true);
        Ok(Token { header, expiry })
    }
}

/// When a token answered with `expires_in` at `now` expires: as x/oauth2, no expiry information when it is not
/// positive, and at most [`MAX_EXPIRES_IN`] seconds ahead. Never panics, whatever the server sent.
fn token_expiry(now: DateTime<Utc>, expires_in: i64) -> Option<DateTime<Utc>> {
    if expires_in <= 0 {
        return None;
    }
    chrono::TimeDelta::try_seconds(expires_in.min(MAX_EXPIRES_IN)).and_then(|d| now.checked_add_signed(d))
}

/// At most `n` characters of `s`, `…` marking a cut.
fn cap_chars(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        None => s.to_owned(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

/// x/oauth2 `Token.Type`: the usual types in their canonical case, `Bearer` when unset.
fn token_type(t: &str) -> String {
    for canonical in ["Bearer", "MAC", "Basic"] {
        if t.eq_ignore_ascii_case(canonical) {
            return canonical.to_owned();
        }
    }
    if t.is_empty() {
        "Bearer".to_owned()
    } else {
        t.to_owned()
    }
}

/// The token URL for error messages, without userinfo.
fn display_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

async fn read_limited(mut resp: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        out.extend_from_slice(&chunk);
        if out.len() >= MAX_TOKEN_RESPONSE {
            out.truncate(MAX_TOKEN_RESPONSE);
            break;
        }
    }
    Ok(out)
}

/// The string fields of a JSON token response; numbers (`expires_in`) become their decimal text.
fn parse_json(body: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let obj = v.as_object().ok_or_else(|| "token response is not a JSON object".to_owned())?;
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => continue,
        };
        out.insert(k.clone(), text);
    }
    Ok(out)
}

/// Go's `url.Values.Encode`: keys sorted (a `BTreeMap` already is), `k=v` joined by `&`.
fn encode_form(form: &BTreeMap<String, String>) -> String {
    form.iter().map(|(k, v)| format!("{}={}", escape_query(k), escape_query(v))).collect::<Vec<_>>().join("&")
}

/// Go's `url.ParseQuery`, first value of each key; undecodable pairs are skipped.
fn parse_form(body: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if let (Some(k), Some(v)) = (unescape(k), unescape(v)) {
            out.entry(k).or_insert(v);
        }
    }
    out
}

fn unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_round_trip() {
        let form: BTreeMap<String, String> = [("scope", "a b"), ("grant_type", "client_credentials")]
            .map(|(k, v)| (k.into(), v.into()))
            .into();
        let encoded = encode_form(&form);
        assert_eq!(encoded, "grant_type=client_credentials&scope=a+b");
        assert_eq!(parse_form(&encoded), form);
        assert_eq!(parse_form("a=%zz&b=1").get("b").map(String::as_str), Some("1"));
    }

    #[test]
    fn token_types() {
        assert_eq!(token_type("bearer"), "Bearer");
        assert_eq!(token_type(""), "Bearer");
        assert_eq!(token_type("mac"), "MAC");
        assert_eq!(token_type("DPoP"), "DPoP");
    }

    #[test]
    fn expiry_never_overflows() {
        struct Case {
            name: &'static str,
            expires_in: i64,
            want: Option<i64>,
        }
        let cases = [
            Case { name: "zero", expires_in: 0, want: None },
            Case { name: "negative", expires_in: -1, want: None },
            Case { name: "hugely negative", expires_in: -9_000_000_000_000, want: None },
            Case { name: "min", expires_in: i64::MIN, want: None },
            Case { name: "an hour", expires_in: 3600, want: Some(3600) },
            Case {
                name: "hugely positive",
                expires_in: 9_000_000_000_000_000_000,
                want: Some(MAX_EXPIRES_IN),
            },
            Case { name: "max", expires_in: i64::MAX, want: Some(MAX_EXPIRES_IN) },
        ];
        let now = DateTime::<Utc>::UNIX_EPOCH;
        for c in cases {
            let got = token_expiry(now, c.expires_in).map(|e| (e - now).num_seconds());
            assert_eq!(got, c.want, "{}", c.name);
        }
        // Near the end of chrono's range the expiry is unrepresentable: no expiry rather than a panic.
        assert_eq!(token_expiry(DateTime::<Utc>::MAX_UTC, 60), None);
    }

    #[test]
    fn debug_hides_params_and_userinfo() {
        let s = OAuth2Settings {
            client_id: "id".into(),
            client_secret: SecretSource::Inline("sekret".into()),
            scopes: vec![],
            token_url: "https://u:pw@idp.example/token".into(),
            endpoint_params: [("client_assertion".to_owned(), "jwt-value".to_owned())].into(),
            http: OAuth2Settings::token_client_defaults(),
        };
        let d = format!("{s:?}");
        assert!(d.contains("client_assertion") && d.contains("https://idp.example/token"), "{d}");
        assert!(!d.contains("jwt-value") && !d.contains("pw") && !d.contains("sekret"), "{d}");
    }

    #[test]
    fn caps_chars() {
        assert_eq!(cap_chars("abc", 3), "abc");
        assert_eq!(cap_chars("ééééé", 2), "éé…");
    }

    #[test]
    fn url_userinfo_hidden() {
        assert_eq!(display_url("https://u:p@idp.example/token"), "https://idp.example/token");
        assert_eq!(display_url("not a url"), "not a url");
    }
}
