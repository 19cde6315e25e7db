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

use crate::chatpost::{self, truncate_in_runes, ReadBody};
use crate::classify;
use crate::dingtalk::file_or_inline;
use crate::dingtalk::robot;
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use crate::incident::{encode_query, escape_query};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tocsin_config::PushoverConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "pushover";

/// Pushover's messages API (not configurable upstream).
pub const API_URL: &str = "https://api.pushover.net/1/messages.json";

pub const MAX_TITLE_RUNES: usize = 250;
pub const MAX_MESSAGE_RUNES: usize = 1024;
pub const MAX_URL_RUNES: usize = 512;

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
            user_key: file_or_inline(c.user_key.expose(), &c.user_key_file),
            token: file_or_inline(c.token.expose(), &c.token_file),
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
        let answer = chatpost::post(&self.client, url, "text/plain", Vec::new(), ReadBody::OnFailure).await?;
        chatpost::check_status(answer.status, &answer.body)
    }
}

fn log_cut(ctx: &NotifyCtx, cut: bool, field: &'static str, max: usize) {
    if cut {
        tracing::warn!(receiver = %ctx.receiver, integration = NAME, field, max_runes = max, "truncated");
    }
}

#[async_trait]
impl Notifier for Pushover {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let token = chatpost::read_url(&self.settings.token, "token_file").await?;
        let user_key = chatpost::read_url(&self.settings.user_key, "user_key_file").await?;
        let query = self.query(ctx, alerts, &token, &user_key).map_err(|mut e| {
            e.message = classify::redact(e.message, &[&token, &user_key]);
            e
        })?;
        let url = format!("{}?{query}", self.settings.api_url);
        let (token_escaped, user_key_escaped) = (escape_query(&token), escape_query(&user_key));
        let secrets = [url.as_str(), &query, &token, &user_key, &token_escaped, &user_key_escaped];
        classify::finish(self.send(&url).await, ctx, NAME, &secrets)
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}
