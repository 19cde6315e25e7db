//! `wecom_configs`: a WeCom (企业微信) group robot (群机器人). One POST per notification of a `markdown`
//! (default), `text` or `markdown_v2` message; the key in the URL is the only credential (no signing exists).
//!
//! Limits: content at most 4096 bytes (markdown, markdown_v2) or 2048 bytes (text), fitted by dropping whole
//! alerts first with a "… N more alerts" line; 20 messages a minute per robot, delayed rather than dropped.
//! Mentions: `text` carries `mentioned_list`/`mentioned_mobile_list`; `markdown` can only mention user ids,
//! written as `<@userid>` into the content; `markdown_v2` cannot mention at all.
//!
//! WeCom answers HTTP 200 with `errcode`; non-zero is a failure named by its errcode. 45009 (api freq out of
//! limit), 45033 (concurrent limit) and -1 (system busy) are retried.

use crate::dingtalk::robot::{self, Answer};
use crate::dingtalk::url_source;
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use crate::ratelimit::RateLimiter;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use tocsin_config::WecomConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "wecom";

/// Content limit of `markdown` and `markdown_v2` messages (errcode 40058 beyond).
pub const MAX_MARKDOWN: usize = 4096;
/// Content limit of `text` messages.
pub const MAX_TEXT: usize = 2048;

/// Errcodes worth retrying: frequency limit, concurrency limit, system busy.
pub const RETRY_ERRCODES: [i64; 3] = [45009, 45033, -1];

const ANSWER: Answer = Answer {
    code_fields: &["errcode"],
    message_fields: &["errmsg"],
    label: "errcode",
    retryable: &RETRY_ERRCODES,
    rate_limited: &[45009, 45033],
};

/// `message_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WecomMessageType {
    #[default]
    Markdown,
    Text,
    MarkdownV2,
}

impl WecomMessageType {
    /// The config spelling; unknown values (rejected by the config crate) fall back to markdown.
    pub fn parse(s: &str) -> Self {
        match s {
            "text" => Self::Text,
            "markdown_v2" => Self::MarkdownV2,
            _ => Self::Markdown,
        }
    }

    fn wire_name(self) -> &'static str {
        match self {
            Self::Markdown => "markdown",
            Self::Text => "text",
            Self::MarkdownV2 => "markdown_v2",
        }
    }

    /// The content limit in bytes.
    pub fn limit(self) -> usize {
        match self {
            Self::Text => MAX_TEXT,
            Self::Markdown | Self::MarkdownV2 => MAX_MARKDOWN,
        }
    }
}

/// What a WeCom integration needs, independent of how the config file spells it.
#[derive(Debug, Clone, PartialEq)]
pub struct WecomSettings {
    /// `url` or `url_file` (read at every send).
    pub url: SecretSource,
    pub message_type: WecomMessageType,
    /// Template of the content.
    pub message: String,
    pub mentioned_list: Vec<String>,
    pub mentioned_mobile_list: Vec<String>,
    pub send_resolved: bool,
    /// 0 = unlimited.
    pub max_alerts: u64,
    pub http: HttpClientSettings,
}

impl WecomSettings {
    /// A robot at `url` with the defaults of `wecom_configs`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: SecretSource::Inline(url.into()),
            message_type: WecomMessageType::Markdown,
            message: r#"{{ template "wecom.default.message" . }}"#.to_owned(),
            mentioned_list: Vec::new(),
            mentioned_mobile_list: Vec::new(),
            send_resolved: true,
            max_alerts: 0,
            http: HttpClientSettings::default(),
        }
    }

    pub fn from_config(c: &WecomConfig) -> Self {
        Self {
            url: url_source(c.url.as_ref(), &c.url_file),
            message_type: WecomMessageType::parse(&c.message_type),
            message: c.message.clone(),
            mentioned_list: c.mentioned_list.clone(),
            mentioned_mobile_list: c.mentioned_mobile_list.clone(),
            send_resolved: c.send_resolved,
            max_alerts: c.max_alerts,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One WeCom group robot integration.
#[derive(Debug)]
pub struct Wecom {
    settings: WecomSettings,
    client: HttpClient,
    template: Arc<Template>,
    limiter: Arc<RateLimiter>,
}

impl Wecom {
    /// Uses the process-wide robot limiter.
    pub fn new(settings: WecomSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template, limiter: RateLimiter::shared() }
    }

    pub fn from_config(c: &WecomConfig, template: Arc<Template>) -> Self {
        Self::new(WecomSettings::from_config(c), template)
    }

    /// Replaces the rate limiter (tests; or a limit other than 20/min).
    pub fn with_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// The final content: markdown gets `<@userid>` for each mentioned user id not already in it.
    fn content(&self, text: &str) -> String {
        if self.settings.message_type != WecomMessageType::Markdown {
            return text.to_owned();
        }
        let tokens: Vec<String> = self
            .settings
            .mentioned_list
            .iter()
            .filter(|u| !u.is_empty() && u.as_str() != "@all")
            .map(|u| format!("<@{u}>"))
            .filter(|t| !text.contains(t.as_str()))
            .collect();
        if tokens.is_empty() {
            return text.to_owned();
        }
        format!("{text}\n{}", tokens.join(" "))
    }

    fn body(&self, content: &str) -> Value {
        let s = &self.settings;
        let kind = s.message_type.wire_name();
        let mut inner = json!({ "content": content });
        if s.message_type == WecomMessageType::Text {
            if !s.mentioned_list.is_empty() {
                inner["mentioned_list"] = json!(s.mentioned_list);
            }
            if !s.mentioned_mobile_list.is_empty() {
                inner["mentioned_mobile_list"] = json!(s.mentioned_mobile_list);
            }
        }
        json!({ "msgtype": kind, kind: inner })
    }

    fn message(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Vec<u8>, NotifyError> {
        let data = robot::shared_data(ctx, alerts);
        let total = data.alerts.len();
        let mut render = |k: usize| {
            let shown = robot::first_alerts(&data, k);
            robot::render_shared(&self.template, "message", &self.settings.message, &shown)
        };
        let limit = self.settings.message_type.limit();
        let text =
            robot::fit(total, self.settings.max_alerts, limit, &mut render, &|t| self.content(t).len())?;
        Ok(serde_json::to_vec(&self.body(&self.content(&text))).unwrap_or_default())
    }
}

#[async_trait]
impl Notifier for Wecom {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let body = self.message(ctx, alerts)?;
        let url = robot::read_url(&self.settings.url).await?;
        let result =
            robot::post(&self.client, std::slice::from_ref(&self.limiter), &url, &url, body, &ANSWER).await;
        let secrets = robot::url_secrets(&url);
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        crate::classify::finish(result, ctx, NAME, &secrets)
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}
