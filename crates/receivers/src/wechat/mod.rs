//! `wechat_configs` (`notify/wechat` upstream): an Enterprise WeChat (WeChat Work) application message.
//!
//! 1. An access token from `GET <api_url>gettoken?corpid=<corp_id>&corpsecret=<api_secret>` (both rendered as
//!    templates, as upstream), cached for two hours (upstream's refresh age) or the `expires_in` WeChat gave,
//!    whichever is shorter, and dropped when `message/send` says it is expired or invalid.
//! 2. `POST <api_url>message/send?access_token=<token>` with upstream's JSON (field order `text`, `touser`,
//!    `toparty`, `totag`, `agentid`, `safe`, `msgtype`, `markdown`; both content objects always present).
//!
//! Outcome of the send, as upstream: HTTP status other than 200 → retried; an answer that is not JSON → retried;
//! `errcode` 0 → success; 42001 (token expired; and 40014/40001, token or credential invalid) → token dropped,
//! retried; any other `errcode` → permanent. Every failure has reason `other`: upstream returns plain errors.
//! The secret, the token and the URLs carrying them never appear in errors or `Debug` output.
//!
//! Deliberate difference: a `gettoken` answer with a 5xx status whose JSON carries no token is retried (a
//! server-side hiccup); upstream fails it for good as "invalid APISecret". A non-JSON 5xx is retried too
//! (upstream: a permanent decode error).

use crate::classify;
use crate::dingtalk::robot;
use crate::http::{HttpClient, HttpClientSettings};
use crate::incident::encode_query;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::CONTENT_TYPE;
use serde::Serialize;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use tocsin_config::WechatConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, Notifier, NotifyCtx, NotifyError, Retry};
use tocsin_template::{Data, Template};

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "wechat";

/// Upstream refreshes the access token after two hours (WeChat's tokens live 7200 s).
pub const TOKEN_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(2 * 3600);

/// `errcode`s that mean the cached access token must be fetched again: expired (42001, upstream's only one),
/// invalid access token (40014), invalid credential (40001).
pub const TOKEN_ERRCODES: [i64; 3] = [42001, 40014, 40001];

/// How much of WeChat's answers is read.
const MAX_RESPONSE: usize = 64 * 1024;

/// What a WeChat integration needs, independent of how the config file spells it.
#[derive(Clone, PartialEq)]
pub struct WechatSettings {
    /// Ends with `/` (the config crate appends it); `gettoken` and `message/send` are appended to its path.
    pub api_url: String,
    /// Template of the corp secret.
    pub api_secret: String,
    /// Template of the corp id.
    pub corp_id: String,
    pub message: String,
    /// `text` or `markdown`.
    pub message_type: String,
    pub agent_id: String,
    pub to_user: String,
    pub to_party: String,
    pub to_tag: String,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

/// Everything but the secret.
impl fmt::Debug for WechatSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatSettings")
            .field("api_url", &self.api_url)
            .field("api_secret", &"<secret>")
            .field("corp_id", &self.corp_id)
            .field("message_type", &self.message_type)
            .field("agent_id", &self.agent_id)
            .field("send_resolved", &self.send_resolved)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl WechatSettings {
    pub fn from_config(c: &WechatConfig) -> Self {
        Self {
            api_url: c
                .api_url
                .as_ref()
                .map_or_else(|| "https://qyapi.weixin.qq.com/cgi-bin/".to_owned(), |u| u.as_str().to_owned()),
            api_secret: c.api_secret.expose().to_owned(),
            corp_id: c.corp_id.clone(),
            message: c.message.clone(),
            message_type: if c.message_type.is_empty() { "text".to_owned() } else { c.message_type.clone() },
            agent_id: c.agent_id.clone(),
            to_user: c.to_user.clone(),
            to_party: c.to_party.clone(),
            to_tag: c.to_tag.clone(),
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
struct Content {
    content: String,
}

fn empty(s: &str) -> bool {
    s.is_empty()
}

/// Upstream's `weChatMessage`, in its field order.
#[derive(Serialize)]
struct Message {
    text: Content,
    #[serde(rename = "touser", skip_serializing_if = "empty")]
    to_user: String,
    #[serde(rename = "toparty", skip_serializing_if = "empty")]
    to_party: String,
    #[serde(rename = "totag", skip_serializing_if = "empty")]
    to_tag: String,
    #[serde(rename = "agentid", skip_serializing_if = "empty")]
    agent_id: String,
    safe: &'static str,
    #[serde(rename = "msgtype", skip_serializing_if = "empty")]
    kind: String,
    markdown: Content,
}

/// A cached access token and when it stops being used.
struct Token {
    value: String,
    until: DateTime<Utc>,
}

/// One WeChat integration.
pub struct Wechat {
    settings: WechatSettings,
    client: HttpClient,
    template: Arc<Template>,
    token: Mutex<Option<Token>>,
}

impl fmt::Debug for Wechat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wechat").field("settings", &self.settings).finish_non_exhaustive()
    }
}

fn retryable(message: String) -> NotifyError {
    NotifyError { retry: Retry::Yes, reason: FailureReason::Other, message }
}

impl Wechat {
    pub fn new(settings: WechatSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template, token: Mutex::new(None) }
    }

    pub fn from_config(c: &WechatConfig, template: Arc<Template>) -> Self {
        Self::new(WechatSettings::from_config(c), template)
    }

    fn cached(&self) -> std::sync::MutexGuard<'_, Option<Token>> {
        self.token.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `<api_url><path>?<query>` (the query replaces any in `api_url`, as upstream's gettoken does).
    fn endpoint(&self, path: &str, query: &mut [(&str, String)]) -> String {
        let base = self.settings.api_url.split(['?', '#']).next().unwrap_or_default();
        format!("{base}{path}?{}", encode_query(query))
    }

    /// The request body for `alerts`.
    pub fn body(&self, data: &Arc<Data>) -> Result<Vec<u8>, NotifyError> {
        let s = &self.settings;
        let t = |field: &str, text: &str| robot::render_shared(&self.template, field, text, data);
        let content = t("message", &s.message)?;
        let (text, markdown) =
            if s.message_type == "markdown" { (String::new(), content) } else { (content, String::new()) };
        let msg = Message {
            text: Content { content: text },
            to_user: t("to_user", &s.to_user)?,
            to_party: t("to_party", &s.to_party)?,
            to_tag: t("to_tag", &s.to_tag)?,
            agent_id: t("agent_id", &s.agent_id)?,
            safe: "0",
            kind: s.message_type.clone(),
            markdown: Content { content: markdown },
        };
        crate::gojson::encode(&msg)
            .map_err(|e| robot::permanent(format!("failed to encode wechat message: {e}")))
    }

    /// The cached token, or a new one from `gettoken`.
    async fn access_token(&self, data: &Arc<Data>, now: DateTime<Utc>) -> Result<String, NotifyError> {
        if let Some(t) = self.cached().as_ref().filter(|t| now < t.until) {
            return Ok(t.value.clone());
        }
        let secret = robot::render_shared(&self.template, "api_secret", &self.settings.api_secret, data)
            .map_err(|_| robot::permanent("templating error: render api_secret template".to_owned()))?;
        let corp_id = robot::render_shared(&self.template, "corp_id", &self.settings.corp_id, data)?;
        let url =
            self.endpoint("gettoken", &mut [("corpsecret", secret.clone()), ("corpid", corp_id.clone())]);
        let result = self.fetch_token(&url, &corp_id, now).await;
        result.map_err(|mut e| {
            e.message = classify::redact(e.message, &[&url, &secret]);
            e
        })
    }

    async fn fetch_token(&self, url: &str, corp_id: &str, now: DateTime<Utc>) -> Result<String, NotifyError> {
        let client = self.client.client().await.map_err(|e| retryable(e.to_string()))?;
        let req = self.client.authorize(client.get(url)).await.map_err(|e| retryable(e.to_string()))?;
        let resp = req.send().await.map_err(|e| NotifyError {
            message: classify::transport_error(e).message.replacen("Post", "Get", 1),
            ..retryable(String::new())
        })?;
        let status = resp.status().as_u16();
        let body = classify::read_at_most(resp, MAX_RESPONSE).await;
        let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        let Some(v) = parsed else {
            // Upstream: a decode error, not retried; a server error page is worth another try.
            classify::check_status(status, &body)
                .map_err(|e| NotifyError { reason: FailureReason::Other, ..e })?;
            return Err(robot::permanent("gettoken: answer is not JSON".to_owned()));
        };
        let token = v.get("access_token").and_then(serde_json::Value::as_str).unwrap_or_default();
        if token.is_empty() {
            let code = v.get("errcode").and_then(serde_json::Value::as_i64).unwrap_or_default();
            let msg = v.get("errmsg").and_then(serde_json::Value::as_str).unwrap_or_default();
            let mut e = robot::permanent(format!(
                "invalid APISecret for CorpID: {corp_id} (errcode {code}: {})",
                classify::bounded_text(msg.as_bytes())
            ));
            if status / 100 == 5 {
                e.retry = Retry::Yes;
            }
            return Err(e);
        }
        let lifetime = v
            .get("expires_in")
            .and_then(serde_json::Value::as_u64)
            .filter(|s| *s > 0)
            .map_or(TOKEN_MAX_AGE, |s| TOKEN_MAX_AGE.min(std::time::Duration::from_secs(s)));
        let until = now + chrono::Duration::from_std(lifetime).unwrap_or_else(|_| chrono::Duration::hours(2));
        *self.cached() = Some(Token { value: token.to_owned(), until });
        Ok(token.to_owned())
    }

    async fn send(&self, url: &str, body: Vec<u8>) -> Result<(), NotifyError> {
        let req = self.client.post(url, None).await.map_err(|e| retryable(e.to_string()))?;
        let resp = req
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(classify::transport_error)?;
        let status = resp.status().as_u16();
        if status != 200 {
            // Upstream: `fmt.Errorf("unexpected status code %v", ...)`, retried, no reason (`other`).
            classify::drain(resp);
            return Err(retryable(format!("unexpected status code {status}")));
        }
        let body = classify::read_at_most(resp, MAX_RESPONSE).await;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| retryable(format!("wechat: answer is not JSON: {e}")))?;
        let code = v.get("errcode").and_then(serde_json::Value::as_i64).unwrap_or_default();
        if code == 0 {
            return Ok(());
        }
        let msg = classify::bounded_text(
            v.get("errmsg").and_then(serde_json::Value::as_str).unwrap_or_default().as_bytes(),
        );
        let message = format!("wechat errcode {code}: {msg}");
        if TOKEN_ERRCODES.contains(&code) {
            *self.cached() = None;
            return Err(retryable(message));
        }
        Err(robot::permanent(message))
    }
}

#[async_trait]
impl Notifier for Wechat {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let data = robot::shared_data(ctx, alerts);
        let body = self.body(&data)?;
        let token = self.access_token(&data, ctx.now).await?;
        let url = self.endpoint("message/send", &mut [("access_token", token.clone())]);
        classify::finish(self.send(&url, body).await, ctx, NAME, &[&url, &token, &self.settings.api_secret])
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}
