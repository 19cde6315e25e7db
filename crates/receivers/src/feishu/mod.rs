//! `feishu_configs`: a Feishu / Lark custom bot (自定义机器人). One POST per notification of an `interactive`
//! card (default; red header while firing, green once resolved, a button to Alertmanager), a `text` or a `post`
//! (rich text) message, optionally signed (`timestamp` in seconds and `sign` in the body).
//!
//! Feishu answers either `{"StatusCode":0,...}` (older) or `{"code":0,...}` (newer, also for errors, sometimes
//! with HTTP 400); both are accepted. Non-zero is a failure named by its code; 11232 (frequency limited) and
//! 99991400 (platform rate limit) are retried. Bodies are kept under 20 KB (dropping whole alerts first with a
//! "… N more alerts" line); sends are paced to Feishu's 5 per second and 100 per minute per bot.

use crate::dingtalk::robot::{self, Answer};
use crate::dingtalk::{secret_source, sign, url_source};
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use crate::ratelimit::RateLimiter;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tocsin_config::FeishuConfig;
use tocsin_model::clock::SharedClock;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "feishu";

/// Feishu documents a 20 KB request body limit (error 19036 beyond; 30 KB has been seen accepted).
pub const MAX_BODY: usize = 20_000;

/// Codes worth retrying: bot frequency limit and the platform's rate limit.
pub const RETRY_CODES: [i64; 2] = [11232, 99991400];

const ANSWER: Answer = Answer {
    code_fields: &["code", "StatusCode"],
    message_fields: &["msg", "StatusMessage"],
    label: "code",
    retryable: &RETRY_CODES,
    rate_limited: &RETRY_CODES,
};

/// `message_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeishuMessageType {
    /// A message card coloured by status.
    #[default]
    Interactive,
    Text,
    /// Rich text: the title plus one paragraph per line of the text.
    Post,
}

impl FeishuMessageType {
    /// The config spelling; unknown values (rejected by the config crate) fall back to interactive.
    pub fn parse(s: &str) -> Self {
        match s {
            "text" => Self::Text,
            "post" => Self::Post,
            _ => Self::Interactive,
        }
    }
}

/// What a Feishu integration needs, independent of how the config file spells it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeishuSettings {
    /// `url` or `url_file` (read at every send).
    pub url: SecretSource,
    /// `secret` or `secret_file`; `None` = unsigned.
    pub secret: Option<SecretSource>,
    pub message_type: FeishuMessageType,
    /// Templates.
    pub title: String,
    pub text: String,
    pub send_resolved: bool,
    /// 0 = unlimited.
    pub max_alerts: u64,
    pub http: HttpClientSettings,
}

impl FeishuSettings {
    /// A bot at `url` with the defaults of `feishu_configs`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: SecretSource::Inline(url.into()),
            secret: None,
            message_type: FeishuMessageType::Interactive,
            title: r#"{{ template "feishu.default.title" . }}"#.to_owned(),
            text: r#"{{ template "feishu.default.text" . }}"#.to_owned(),
            send_resolved: true,
            max_alerts: 0,
            http: HttpClientSettings::default(),
        }
    }

    pub fn from_config(c: &FeishuConfig) -> Self {
        Self {
            url: url_source(c.url.as_ref(), &c.url_file),
            secret: secret_source(c.secret.expose(), &c.secret_file),
            message_type: FeishuMessageType::parse(&c.message_type),
            title: c.title.clone(),
            text: c.text.clone(),
            send_resolved: c.send_resolved,
            max_alerts: c.max_alerts,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One Feishu bot integration.
#[derive(Debug)]
pub struct Feishu {
    settings: FeishuSettings,
    client: HttpClient,
    template: Arc<Template>,
    clock: SharedClock,
    limiters: Vec<Arc<RateLimiter>>,
}

impl Feishu {
    /// Uses the process-wide Feishu limiters (5/s, 100/min); `clock` provides the signing timestamp.
    pub fn new(settings: FeishuSettings, template: Arc<Template>, clock: SharedClock) -> Self {
        let client = HttpClient::new(settings.http.clone());
        let limiters = vec![
            RateLimiter::shared_for(5, Duration::from_secs(1)),
            RateLimiter::shared_for(100, Duration::from_secs(60)),
        ];
        Self { settings, client, template, clock, limiters }
    }

    pub fn from_config(c: &FeishuConfig, template: Arc<Template>, clock: SharedClock) -> Self {
        Self::new(FeishuSettings::from_config(c), template, clock)
    }

    /// Replaces the rate limiters (tests; or other limits).
    pub fn with_limiters(mut self, limiters: Vec<Arc<RateLimiter>>) -> Self {
        self.limiters = limiters;
        self
    }

    /// The body without signature fields.
    fn body(&self, title: &str, text: &str, firing: bool, link: &str) -> Value {
        match self.settings.message_type {
            FeishuMessageType::Text => json!({"msg_type": "text", "content": {"text": text}}),
            FeishuMessageType::Post => {
                let lines: Vec<Value> = text.lines().map(|l| json!([{"tag": "text", "text": l}])).collect();
                json!({"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": lines}}}})
            }
            FeishuMessageType::Interactive => {
                let mut elements = vec![json!({"tag": "div", "text": {"tag": "lark_md", "content": text}})];
                if link.starts_with("http://") || link.starts_with("https://") {
                    elements.push(json!({"tag": "hr"}));
                    elements.push(json!({"tag": "action", "actions": [{
                        "tag": "button",
                        "text": {"tag": "plain_text", "content": "查看详情 View in Alertmanager"},
                        "url": link,
                        "type": if firing { "danger" } else { "primary" },
                    }]}));
                }
                json!({"msg_type": "interactive", "card": {
                    "config": {"wide_screen_mode": true},
                    "header": {
                        "title": {"tag": "plain_text", "content": title},
                        "template": if firing { "red" } else { "green" },
                    },
                    "elements": elements,
                }})
            }
        }
    }

    /// Renders and fits the message; the signature is added by the caller (it does not change the size class:
    /// the reserve below covers it).
    fn message(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Value, NotifyError> {
        /// `"timestamp":"1700000000","sign":"<44 chars>"` and separators.
        const SIGN_RESERVE: usize = 96;
        let data = robot::shared_data(ctx, alerts);
        let firing = data.status == "firing";
        let title =
            robot::short_title(robot::render_shared(&self.template, "title", &self.settings.title, &data)?);
        let link =
            robot::render_shared(&self.template, "link", r#"{{ template "__alertmanagerURL" . }}"#, &data)?;
        let total = data.alerts.len();
        let mut render = |k: usize| {
            robot::render_shared(&self.template, "text", &self.settings.text, &robot::first_alerts(&data, k))
        };
        let size = |t: &str| {
            serde_json::to_vec(&self.body(&title, t, firing, &link)).map_or(usize::MAX, |b| b.len())
        };
        let text = robot::fit(total, self.settings.max_alerts, MAX_BODY - SIGN_RESERVE, &mut render, &size)?;
        Ok(self.body(&title, &text, firing, &link))
    }
}

#[async_trait]
impl Notifier for Feishu {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let mut body = self.message(ctx, alerts)?;
        let url = robot::read_url(&self.settings.url).await?;
        let secret = robot::read_secret(self.settings.secret.as_ref()).await?;
        if let Some(s) = &secret {
            let ts = self.clock.now().timestamp();
            body["timestamp"] = json!(ts.to_string());
            body["sign"] = json!(sign::feishu_sign(s, ts));
        }
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let result = robot::post(&self.client, &self.limiters, &url, &url, bytes, &ANSWER).await;
        let mut secrets = robot::url_secrets(&url);
        secrets.extend(secret);
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        crate::classify::finish(result, ctx, NAME, &secrets)
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}
