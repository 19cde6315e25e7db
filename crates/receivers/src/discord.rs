//! `discord_configs` (`notify/discord` upstream, 0.25+): one POST of a webhook message with a single embed.
//!
//! The embed's title (≤ 256 runes) and description (≤ 4096 runes) are templates, and so is `content`
//! (≤ 2000 runes, 0.28); `username` and `avatar_url` (0.28) are sent as written. The embed is red
//! (`0x992D22`) when any alert fires and green (`0x2ECC71`) otherwise. 2xx succeeds, 5xx is retried, anything
//! else (429 included: upstream's Discord retrier has no retry codes) fails for good.

use crate::chatpost::{self, Renderer};
use crate::dingtalk::url_source;
use crate::gojson;
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use async_trait::async_trait;
use serde::Serialize;
use std::sync::Arc;
use tocsin_config::DiscordConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "discord";

/// Discord's embed limits (upstream `maxTitleLenRunes`, `maxDescriptionLenRunes`, `maxContentLenRunes`).
pub const MAX_TITLE_RUNES: usize = 256;
pub const MAX_DESCRIPTION_RUNES: usize = 4096;
pub const MAX_CONTENT_RUNES: usize = 2000;

/// Embed colours (upstream `colorRed`, `colorGreen`).
pub const COLOR_FIRING: u32 = 0x992D22;
pub const COLOR_RESOLVED: u32 = 0x2ECC71;

/// The webhook message (upstream `webhook`); field order and `omitempty` as upstream.
#[derive(Debug, Serialize)]
pub struct DiscordMessage {
    pub content: String,
    pub embeds: Vec<DiscordEmbed>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub avatar_url: String,
}

#[derive(Debug, Serialize)]
pub struct DiscordEmbed {
    pub title: String,
    pub description: String,
    pub color: u32,
}

/// What a Discord integration needs, independent of how the config file spells it.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscordSettings {
    /// `webhook_url` or `webhook_url_file` (read at every send).
    pub url: SecretSource,
    pub title: String,
    pub message: String,
    pub content: String,
    pub username: String,
    pub avatar_url: String,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

impl DiscordSettings {
    pub fn from_config(c: &DiscordConfig) -> Self {
        Self {
            url: url_source(c.webhook_url.as_ref(), &c.webhook_url_file),
            title: c.title.clone(),
            message: c.message.clone(),
            content: c.content.clone(),
            username: c.username.clone(),
            avatar_url: c.avatar_url.clone(),
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One Discord integration.
#[derive(Debug)]
pub struct Discord {
    settings: DiscordSettings,
    client: HttpClient,
    template: Arc<Template>,
}

impl Discord {
    pub fn new(settings: DiscordSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &DiscordConfig, template: Arc<Template>) -> Self {
        Self::new(DiscordSettings::from_config(c), template)
    }

    /// The message for one notification; a template error fails it permanently.
    pub fn message(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<DiscordMessage, NotifyError> {
        let s = &self.settings;
        let mut r = Renderer::new(&self.template, ctx, alerts);
        let title = cut(ctx, "title", r.render("title", &s.title), MAX_TITLE_RUNES);
        let description = cut(ctx, "message", r.render("message", &s.message), MAX_DESCRIPTION_RUNES);
        let content = cut(ctx, "content", r.render("content", &s.content), MAX_CONTENT_RUNES);
        let data = r.finish()?;
        let color = if data.status == "firing" { COLOR_FIRING } else { COLOR_RESOLVED };
        let avatar_url = if go_url_parses(&s.avatar_url) {
            s.avatar_url.clone()
        } else {
            tracing::warn!(key = %ctx.group_key, "Bad avatar url");
            String::new()
        };
        Ok(DiscordMessage {
            content,
            embeds: vec![DiscordEmbed { title, description, color }],
            username: s.username.clone(),
            avatar_url,
        })
    }

    /// The encoded body (Go's `json.Encoder` output, trailing newline included).
    pub fn body(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Vec<u8>, NotifyError> {
        let m = self.message(ctx, alerts)?;
        gojson::encode(&m).map_err(|e| chatpost::permanent(format!("failed to encode discord message: {e}")))
    }

    async fn send(&self, url: &str, body: Vec<u8>) -> Result<(), NotifyError> {
        chatpost::post_checked(&self.client, url, body).await.map_err(chatpost::unwrapped)
    }
}

/// Upstream sends `avatar_url` only when Go's `url.Parse` accepts it; its usual rejections are control
/// characters and malformed `%` escapes (relative URLs and the like pass).
fn go_url_parses(u: &str) -> bool {
    let b = u.as_bytes();
    let bad_escape = |i: usize| b.get(i + 1..i + 3).is_none_or(|h| !h.iter().all(u8::is_ascii_hexdigit));
    !b.iter().enumerate().any(|(i, &c)| c < 0x20 || c == 0x7f || (c == b'%' && bad_escape(i)))
}

fn cut(ctx: &NotifyCtx, field: &'static str, text: String, max: usize) -> String {
    let (text, truncated) = chatpost::truncate_in_runes(&text, max);
    if truncated {
        tracing::warn!(key = %ctx.group_key, field, max_runes = max, "Truncated text");
    }
    text
}

#[async_trait]
impl Notifier for Discord {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let body = self.body(ctx, alerts)?;
        let url = chatpost::read_url(&self.settings.url, "webhook_url_file").await?;
        let result = self.send(&url, body).await;
        chatpost::finish(result, ctx, NAME, &url)
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}
