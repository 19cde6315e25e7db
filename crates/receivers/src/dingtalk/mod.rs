//! `dingtalk_configs`: a DingTalk custom group robot (自定义机器人), natively, without the
//! prometheus-webhook-dingtalk bridge. One POST per notification of a `markdown` (default), `text` or
//! `actionCard` message, optionally signed (加签), @-mentions written into the text so DingTalk highlights them,
//! at most 20 messages a minute per robot (delayed, not dropped), and at most 20000 bytes per request (whole
//! alerts dropped first with a "… N more alerts" line).
//!
//! DingTalk answers HTTP 200 with `errcode`; non-zero is a failure named by its errcode. Rate limiting
//! (130101, 410100) and "system busy" (-1) are retried; the rest are configuration errors and are not.

pub mod robot;
pub mod sign;

use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use crate::ratelimit::RateLimiter;
use async_trait::async_trait;
use robot::Answer;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use tocsin_config::DingTalkConfig;
use tocsin_model::clock::SharedClock;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "dingtalk";

/// DingTalk rejects request bodies over 20000 bytes (errcode 460101).
pub const MAX_BODY: usize = 20_000;

/// Errcodes worth retrying: rate limited (old and new code) and system busy.
pub const RETRY_ERRCODES: [i64; 3] = [130101, 410100, -1];

const ANSWER: Answer = Answer {
    code_fields: &["errcode"],
    message_fields: &["errmsg"],
    label: "errcode",
    retryable: &RETRY_ERRCODES,
    rate_limited: &[130101, 410100],
};

/// `message_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DingTalkMessageType {
    #[default]
    Markdown,
    Text,
    /// A card with a single "view in Alertmanager" button; DingTalk does not support @ in cards.
    ActionCard,
}

impl DingTalkMessageType {
    /// The config spelling; unknown values (rejected by the config crate) fall back to markdown.
    pub fn parse(s: &str) -> Self {
        match s {
            "text" => Self::Text,
            "actionCard" => Self::ActionCard,
            _ => Self::Markdown,
        }
    }
}

/// What a DingTalk integration needs, independent of how the config file spells it.
#[derive(Debug, Clone, PartialEq)]
pub struct DingTalkSettings {
    /// `url` or `url_file` (read at every send).
    pub url: SecretSource,
    /// `secret` or `secret_file`; `None` = unsigned.
    pub secret: Option<SecretSource>,
    pub message_type: DingTalkMessageType,
    /// Templates.
    pub title: String,
    pub text: String,
    pub at_mobiles: Vec<String>,
    pub at_user_ids: Vec<String>,
    pub at_all: bool,
    pub send_resolved: bool,
    /// 0 = unlimited.
    pub max_alerts: u64,
    pub http: HttpClientSettings,
}

impl DingTalkSettings {
    /// A robot at `url` with the defaults of `dingtalk_configs`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: SecretSource::Inline(url.into()),
            secret: None,
            message_type: DingTalkMessageType::Markdown,
            title: r#"{{ template "dingtalk.default.title" . }}"#.to_owned(),
            text: r#"{{ template "dingtalk.default.text" . }}"#.to_owned(),
            at_mobiles: Vec::new(),
            at_user_ids: Vec::new(),
            at_all: false,
            send_resolved: true,
            max_alerts: 0,
            http: HttpClientSettings::default(),
        }
    }

    pub fn from_config(c: &DingTalkConfig) -> Self {
        Self {
            url: url_source(c.url.as_ref(), &c.url_file),
            secret: secret_source(c.secret.expose(), &c.secret_file),
            message_type: DingTalkMessageType::parse(&c.message_type),
            title: c.title.clone(),
            text: c.text.clone(),
            at_mobiles: c.at_mobiles.clone(),
            at_user_ids: c.at_user_ids.clone(),
            at_all: c.at_all,
            send_resolved: c.send_resolved,
            max_alerts: c.max_alerts,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// The `_file` sibling if set, else the inline value. Every integration picks its secrets so; the config
/// crate rejects setting both, so the order only matters for hand-built settings.
pub(crate) fn file_or_inline(inline: &str, file: &str) -> SecretSource {
    if file.is_empty() {
        SecretSource::Inline(inline.to_owned())
    } else {
        SecretSource::File(PathBuf::from(file))
    }
}

/// `url_file` if set, else the inline URL (a `<secret>` placeholder gives an empty URL: sends then fail).
pub(crate) fn url_source(url: Option<&tocsin_config::SecretUrl>, file: &str) -> SecretSource {
    file_or_inline(url.and_then(|u| u.expose()).map_or("", |u| u.as_str()), file)
}

/// [`file_or_inline`], or none when both are empty (unsigned robots, an unset PagerDuty service key).
pub(crate) fn secret_source(inline: &str, file: &str) -> Option<SecretSource> {
    (!inline.is_empty() || !file.is_empty()).then(|| file_or_inline(inline, file))
}

/// One DingTalk robot integration.
#[derive(Debug)]
pub struct DingTalk {
    settings: DingTalkSettings,
    client: HttpClient,
    template: Arc<Template>,
    clock: SharedClock,
    limiter: Arc<RateLimiter>,
}

impl DingTalk {
    /// Uses the process-wide robot limiter; `clock` provides the signing timestamp.
    pub fn new(settings: DingTalkSettings, template: Arc<Template>, clock: SharedClock) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template, clock, limiter: RateLimiter::shared() }
    }

    pub fn from_config(c: &DingTalkConfig, template: Arc<Template>, clock: SharedClock) -> Self {
        Self::new(DingTalkSettings::from_config(c), template, clock)
    }

    /// Replaces the rate limiter (tests; or a limit other than 20/min).
    pub fn with_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// The `@…` tokens DingTalk needs in the text to highlight mentions; those already present are skipped.
    fn mention_suffix(&self, text: &str) -> String {
        let mut tokens = Vec::new();
        for who in self.settings.at_mobiles.iter().chain(&self.settings.at_user_ids) {
            let token = format!("@{who}");
            if !who.is_empty() && !text.contains(&token) && !tokens.contains(&token) {
                tokens.push(token);
            }
        }
        if tokens.is_empty() {
            return String::new();
        }
        let sep = if self.settings.message_type == DingTalkMessageType::Markdown { "\n\n" } else { "\n" };
        format!("{sep}{}", tokens.join(" "))
    }

    fn at(&self) -> Value {
        json!({
            "atMobiles": self.settings.at_mobiles,
            "atUserIds": self.settings.at_user_ids,
            "isAtAll": self.settings.at_all,
        })
    }

    /// The request body for a final `text` (mentions already appended).
    fn body(&self, title: &str, text: &str, link: &str) -> Value {
        let s = &self.settings;
        let mentions = !s.at_mobiles.is_empty() || !s.at_user_ids.is_empty() || s.at_all;
        let mut v = match s.message_type {
            DingTalkMessageType::Markdown => {
                json!({"msgtype": "markdown", "markdown": {"title": title, "text": text}})
            }
            DingTalkMessageType::Text => json!({"msgtype": "text", "text": {"content": text}}),
            DingTalkMessageType::ActionCard => json!({
                "msgtype": "actionCard",
                "actionCard": {"title": title, "text": text, "singleTitle": "查看详情 View in Alertmanager", "singleURL": link},
            }),
        };
        if mentions && s.message_type != DingTalkMessageType::ActionCard {
            v["at"] = self.at();
        }
        v
    }

    /// Renders, fits into [`MAX_BODY`] and encodes the message.
    fn message(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Vec<u8>, NotifyError> {
        let data = robot::shared_data(ctx, alerts);
        let title =
            robot::short_title(robot::render_shared(&self.template, "title", &self.settings.title, &data)?);
        let link =
            robot::render_shared(&self.template, "link", r#"{{ template "__alertmanagerURL" . }}"#, &data)?;
        let total = data.alerts.len();
        let mut render = |k: usize| {
            robot::render_shared(&self.template, "text", &self.settings.text, &robot::first_alerts(&data, k))
        };
        let encode = |text: &str| {
            let full = format!("{text}{}", self.mention_suffix(text));
            serde_json::to_vec(&self.body(&title, &full, &link)).unwrap_or_default()
        };
        let text = robot::fit(total, self.settings.max_alerts, MAX_BODY, &mut render, &|t| encode(t).len())?;
        Ok(encode(&text))
    }
}

#[async_trait]
impl Notifier for DingTalk {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let body = self.message(ctx, alerts)?;
        let url = robot::read_url(&self.settings.url).await?;
        let secret = robot::read_secret(self.settings.secret.as_ref()).await?;
        let target = match &secret {
            Some(s) => sign::dingtalk_signed_url(&url, s, self.clock.now().timestamp_millis()),
            None => url.clone(),
        };
        let result =
            robot::post(&self.client, std::slice::from_ref(&self.limiter), &url, &target, body, &ANSWER)
                .await;
        let mut secrets = robot::url_secrets(&url);
        secrets.push(target);
        secrets.extend(secret);
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        crate::classify::finish(result, ctx, NAME, &secrets)
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}
