//! `pushover_configs` (`notify/pushover` upstream): one `POST https://api.pushover.net/1/messages.json` per
//! notification, with every parameter in the query string and an empty `text/plain` body, exactly as upstream
//! sends it (Pushover accepts either form).
//!
//! Parameters are Go's `url.Values.Encode()`: sorted by key, `QueryEscape`d. `title` is cut to 250 runes,
//! `message` to 1024 (then trimmed; an empty message becomes `(no details)`, which Pushover requires), `url` to
//! 512, each ending in `…` when cut. `html: true` adds `html=1` and renders the message as an HTML template.
//! `retry`/`expire` are whole seconds; `ttl` is sent only when positive and `device` only when non-empty (0.25
//! has neither field). 2xx succeeds, 5xx is retried, anything else is permanent (upstream's default retrier).
//! Token and user key travel in the URL: errors never carry it.

use crate::classify;
use crate::dingtalk::robot;
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use crate::telegram::truncate_in_runes;
use async_trait::async_trait;
use reqwest::header::CONTENT_TYPE;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tocsin_config::{PushoverConfig, Secret};
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, Notifier, NotifyCtx, NotifyError, Retry};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "pushover";

/// Pushover's messages API (not configurable upstream).
pub const API_URL: &str = "https://api.pushover.net/1/messages.json";

pub const MAX_TITLE_RUNES: usize = 250;
pub const MAX_MESSAGE_RUNES: usize = 1024;
pub const MAX_URL_RUNES: usize = 512;

/// Go's `url.QueryEscape`: unreserved characters (`A-Z a-z 0-9 - _ . ~`) kept, space as `+`, every other byte
/// as `%XX` (upper-case hex).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out
}

/// Go's `url.Values.Encode()`: pairs sorted by key (stable for repeated keys), `key=value` joined by `&`.
pub fn encode_query(pairs: &mut [(&str, String)]) -> String {
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let parts: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v))).collect();
    parts.join("&")
}

/// What a Pushover integration needs, independent of how the config file spells it.
#[derive(Debug, Clone, PartialEq)]
pub struct PushoverSettings {
    /// [`API_URL`]; other values only for tests.
    pub api_url: String,
    /// `user_key` or `user_key_file`; rendered as a template, as upstream.
    pub user_key: SecretSource,
    /// `token` or `token_file`; rendered as a template, as upstream.
    pub token: SecretSource,
    pub title: String,
    pub message: String,
    pub url: String,
    pub url_title: String,
    pub device: String,
    pub sound: String,
    pub priority: String,
    pub retry: Duration,
    pub expire: Duration,
    /// Zero = not sent.
    pub ttl: Duration,
    pub html: bool,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

fn source(inline: &Secret, file: &str) -> SecretSource {
    if file.is_empty() {
        SecretSource::Inline(inline.expose().to_owned())
    } else {
        SecretSource::File(PathBuf::from(file))
    }
}

impl PushoverSettings {
    /// `token`/`user_key` with the defaults of `pushover_configs`.
    pub fn new(user_key: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            api_url: API_URL.to_owned(),
            user_key: SecretSource::Inline(user_key.into()),
            token: SecretSource::Inline(token.into()),
            title: r#"{{ template "pushover.default.title" . }}"#.to_owned(),
            message: r#"{{ template "pushover.default.message" . }}"#.to_owned(),
            url: r#"{{ template "pushover.default.url" . }}"#.to_owned(),
            url_title: String::new(),
            device: String::new(),
            sound: String::new(),
            priority: r#"{{ if eq .Status "firing" }}2{{ else }}0{{ end }}"#.to_owned(),
            retry: Duration::from_secs(60),
            expire: Duration::from_secs(3600),
            ttl: Duration::ZERO,
            html: false,
            send_resolved: true,
            http: HttpClientSettings::default(),
        }
    }

    pub fn from_config(c: &PushoverConfig) -> Self {
        Self {
            api_url: API_URL.to_owned(),
            user_key: source(&c.user_key, &c.user_key_file),
            token: source(&c.token, &c.token_file),
            title: c.title.clone(),
            message: c.message.clone(),
            url: c.url.clone(),
            url_title: c.url_title.clone(),
            device: c.device.clone(),
            sound: c.sound.clone(),
            priority: c.priority.clone(),
            retry: c.retry.0,
            expire: c.expire.0,
            ttl: c.ttl.0,
            html: c.html,
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One Pushover integration.
#[derive(Debug)]
pub struct Pushover {
    settings: PushoverSettings,
    client: HttpClient,
    template: Arc<Template>,
}

/// Reads `token_file`/`user_key_file` (trimmed); upstream fails permanently when it cannot.
async fn read(src: &SecretSource, what: &str) -> Result<String, NotifyError> {
    match src {
        SecretSource::Inline(v) => Ok(v.clone()),
        SecretSource::File(path) => tokio::fs::read_to_string(path)
            .await
            .map(|s| s.trim().to_owned())
            .map_err(|e| robot::permanent(format!("read {what}: open {}: {e}", path.display()))),
    }
}

impl Pushover {
    pub fn new(settings: PushoverSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &PushoverConfig, template: Arc<Template>) -> Self {
        Self::new(PushoverSettings::from_config(c), template)
    }

    /// The encoded query string for `alerts`, given the token and user key already read.
    pub fn query(
        &self,
        ctx: &NotifyCtx,
        alerts: &[Arc<Alert>],
        token: &str,
        user_key: &str,
    ) -> Result<String, NotifyError> {
        let s = &self.settings;
        let data = robot::shared_data(ctx, alerts);
        let t = |field: &str, text: &str| robot::render_shared(&self.template, field, text, &data);
        let mut pairs: Vec<(&str, String)> =
            vec![("token", t("token", token)?), ("user", t("user_key", user_key)?)];
        let (title, cut) = truncate_in_runes(&t("title", &s.title)?, MAX_TITLE_RUNES);
        log_cut(ctx, cut, "title", MAX_TITLE_RUNES);
        pairs.push(("title", title));
        let message = if s.html {
            pairs.push(("html", "1".to_owned()));
            self.template
                .render_html_shared(&s.message, &data)
                .map_err(|e| robot::permanent(format!("render message template: {e}")))?
        } else {
            t("message", &s.message)?
        };
        let (message, cut) = truncate_in_runes(&message, MAX_MESSAGE_RUNES);
        log_cut(ctx, cut, "message", MAX_MESSAGE_RUNES);
        let message = match message.trim() {
            "" => "(no details)".to_owned(),
            m => m.to_owned(),
        };
        pairs.push(("message", message));
        let (url, cut) = truncate_in_runes(&t("url", &s.url)?, MAX_URL_RUNES);
        log_cut(ctx, cut, "url", MAX_URL_RUNES);
        pairs.push(("url", url));
        pairs.push(("url_title", t("url_title", &s.url_title)?));
        pairs.push(("priority", t("priority", &s.priority)?));
        pairs.push(("retry", s.retry.as_secs().to_string()));
        pairs.push(("expire", s.expire.as_secs().to_string()));
        let device = t("device", &s.device)?;
        if !device.is_empty() {
            pairs.push(("device", device));
        }
        pairs.push(("sound", t("sound", &s.sound)?));
        if s.ttl.as_secs() > 0 {
            pairs.push(("ttl", s.ttl.as_secs().to_string()));
        }
        Ok(encode_query(&mut pairs))
    }

    async fn send(&self, url: &str) -> Result<(), NotifyError> {
        let req = self.client.post(url, None).await.map_err(|e| NotifyError {
            retry: Retry::Yes,
            reason: FailureReason::Other,
            message: e.to_string(),
        })?;
        let resp = req
            .header(CONTENT_TYPE, "text/plain")
            .body(Vec::new())
            .send()
            .await
            .map_err(classify::transport_error)?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            classify::drain(resp);
            return Ok(());
        }
        let body = classify::read_bounded(resp).await;
        check_status(status, &body)
    }
}

fn log_cut(ctx: &NotifyCtx, cut: bool, field: &'static str, max: usize) {
    if cut {
        tracing::warn!(receiver = %ctx.receiver, integration = NAME, field, max_runes = max, "truncated");
    }
}

/// Upstream's default retrier: 2xx succeeds, 5xx is retried, every other status (429 included) is permanent.
pub fn check_status(status: u16, body: &[u8]) -> Result<(), NotifyError> {
    classify::check_status(status, body)
        .map_err(|e| NotifyError { retry: if status / 100 == 5 { Retry::Yes } else { Retry::No }, ..e })
}

#[async_trait]
impl Notifier for Pushover {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let token = read(&self.settings.token, "token_file").await?;
        let user_key = read(&self.settings.user_key, "user_key_file").await?;
        let query = self.query(ctx, alerts, &token, &user_key).map_err(|mut e| {
            e.message = classify::redact(e.message, &[&token, &user_key]);
            e
        })?;
        let url = format!("{}?{query}", self.settings.api_url);
        self.send(&url).await.map_err(|mut e| {
            e.message = classify::redact(
                e.message,
                &[&url, &query, &token, &user_key, &query_escape(&token), &query_escape(&user_key)],
            );
            tracing::debug!(receiver = %ctx.receiver, integration = NAME, error = %e.message, "notify failed");
            e
        })
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_escape_like_go() {
        assert_eq!(query_escape("a b+c/d&e=f*g~h.i-j_k"), "a+b%2Bc%2Fd%26e%3Df%2Ag~h.i-j_k");
        assert_eq!(query_escape("é\n"), "%C3%A9%0A");
        let mut pairs = vec![("z", "1".to_owned()), ("a", "x y".to_owned()), ("m", String::new())];
        assert_eq!(encode_query(&mut pairs), "a=x+y&m=&z=1");
    }

    #[test]
    fn status_table() {
        for (status, want) in [
            (200, None),
            (400, Some(Retry::No)),
            (429, Some(Retry::No)),
            (500, Some(Retry::Yes)),
            (503, Some(Retry::Yes)),
        ] {
            assert_eq!(check_status(status, b"").err().map(|e| e.retry), want, "{status}");
        }
    }
}
