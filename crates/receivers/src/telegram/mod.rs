//! `telegram_configs` (`notify/telegram` upstream, which sends through the telebot library): one
//! `POST <api_url>/bot<token>/sendMessage` per notification.
//!
//! The body is what telebot writes: a JSON object of strings with sorted keys (`chat_id`, `disable_notification`
//! only when set, `disable_web_page_preview: "true"`, `message_thread_id` when set, `parse_mode` unless empty,
//! `text`), HTML-safe escaped, with a trailing newline. With `parse_mode: HTML` the message is rendered as an HTML
//! template (values escaped), as upstream does; the text is cut to 4096 runes ending in `…`.
//!
//! Success is Telegram's `{"ok":true,...}` only; any other answer (`{"ok":false,"description":...}`, JSON without
//! `ok`, not JSON) is a failure whatever the HTTP status. Upstream retries every failed send (telebot's errors
//! carry no retry hint) and labels it reason `other`, so we do too. The bot token sits in the URL path: it never
//! appears in errors or `Debug` output.
//!
//! Deliberate difference: a `message` template error fails the notification permanently (reason `other`), while
//! upstream (0.28) ignores it and sends whatever text rendered (usually an empty message Telegram rejects).

use crate::chatpost::{self, ReadBody};
use crate::classify;
use crate::dingtalk::robot;
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use tocsin_config::TelegramConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, Notifier, NotifyCtx, NotifyError, Retry};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "telegram";

/// Telegram's limit on a message's text, in characters.
pub const MAX_MESSAGE_RUNES: usize = 4096;

/// The most of Telegram's answer that is read (it echoes the message, up to 4096 characters plus entities).
pub(crate) const MAX_RESPONSE: usize = 256 * 1024;

/// What a Telegram integration needs, independent of how the config file spells it.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramSettings {
    /// `https://api.telegram.org` by default; `/bot<token>/sendMessage` is appended as a string, as telebot does.
    pub api_url: String,
    /// `bot_token` or `bot_token_file` (read, trimmed, at every send).
    pub bot_token: SecretSource,
    pub chat_id: i64,
    /// 0 = none (0.28's forum topics).
    pub message_thread_id: i64,
    /// Template of the text.
    pub message: String,
    pub disable_notifications: bool,
    /// `HTML` (default), `Markdown`, `MarkdownV2` or empty (plain text).
    pub parse_mode: String,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

impl TelegramSettings {
    /// A bot with `token` posting to `chat_id`, with the defaults of `telegram_configs`.
    pub fn new(api_url: impl Into<String>, token: impl Into<String>, chat_id: i64) -> Self {
        Self {
            api_url: api_url.into(),
            bot_token: SecretSource::Inline(token.into()),
            chat_id,
            message_thread_id: 0,
            message: r#"{{ template "telegram.default.message" . }}"#.to_owned(),
            disable_notifications: false,
            parse_mode: "HTML".to_owned(),
            send_resolved: true,
            http: HttpClientSettings::default(),
        }
    }

    pub fn from_config(c: &TelegramConfig) -> Self {
        let bot_token = crate::dingtalk::file_or_inline(c.bot_token.expose(), &c.bot_token_file);
        Self {
            api_url: c
                .api_url
                .as_ref()
                .map_or_else(|| "https://api.telegram.org".to_owned(), |u| u.as_str().to_owned()),
            bot_token,
            chat_id: c.chat_id,
            message_thread_id: c.message_thread_id,
            message: c.message.clone(),
            disable_notifications: c.disable_notifications,
            parse_mode: c.parse_mode.clone(),
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One Telegram bot integration.
#[derive(Debug)]
pub struct Telegram {
    settings: TelegramSettings,
    client: HttpClient,
    template: Arc<Template>,
}

impl Telegram {
    pub fn new(settings: TelegramSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &TelegramConfig, template: Arc<Template>) -> Self {
        Self::new(TelegramSettings::from_config(c), template)
    }

    /// The request body for `alerts`: telebot's parameter map, JSON-encoded as Go does.
    pub fn body(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Vec<u8>, NotifyError> {
        let s = &self.settings;
        let data = robot::shared_data(ctx, alerts);
        let text = if s.parse_mode == "HTML" {
            self.template.render_html_shared(&s.message, &data)
        } else {
            self.template.render_shared(&s.message, &data)
        }
        .map_err(|e| robot::permanent(format!("render message template: {e}")))?;
        let (text, truncated) = chatpost::truncate_in_runes(&text, MAX_MESSAGE_RUNES);
        if truncated {
            tracing::debug!(receiver = %ctx.receiver, max_runes = MAX_MESSAGE_RUNES, "telegram: truncated message");
        }
        let mut params: BTreeMap<&str, String> = BTreeMap::new();
        params.insert("chat_id", s.chat_id.to_string());
        params.insert("text", text);
        params.insert("disable_web_page_preview", "true".to_owned());
        if s.disable_notifications {
            params.insert("disable_notification", "true".to_owned());
        }
        if s.message_thread_id != 0 {
            params.insert("message_thread_id", s.message_thread_id.to_string());
        }
        if !s.parse_mode.is_empty() {
            params.insert("parse_mode", s.parse_mode.clone());
        }
        crate::gojson::encode(&params)
            .map_err(|e| robot::permanent(format!("failed to encode telegram message: {e}")))
    }

    async fn token(&self) -> Result<String, NotifyError> {
        // Upstream's own wording, `could not read <file>: <err>`, and retried (the file may appear), unlike
        // the permanent `open` errors of [`chatpost::read_secret`].
        chatpost::read_source(&self.settings.bot_token).await.map_err(|(path, e)| NotifyError {
            retry: Retry::Yes,
            reason: FailureReason::Other,
            message: format!("could not read {}: {e}", path.display()),
        })
    }

    async fn send(&self, url: &str, body: Vec<u8>) -> Result<(), NotifyError> {
        let answer = chatpost::post_json(&self.client, url, body, ReadBody::UpTo(MAX_RESPONSE)).await?;
        check_answer(answer.status, &answer.body)
    }
}

/// Judges Telegram's answer as telebot does: only `"ok": true` succeeds, whatever the HTTP status. Any other
/// JSON answer (`ok: false`, or no `ok` at all) fails, named by its `description` and `error_code` (else the
/// HTTP status); a non-JSON answer fails with the status. Every failure is retried with reason `other`, as
/// upstream (telebot's errors carry neither a retry hint nor a reason).
pub fn check_answer(status: u16, body: &[u8]) -> Result<(), NotifyError> {
    let other = |message| NotifyError { retry: Retry::Yes, reason: FailureReason::Other, message };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Err(match classify::check_status(status, body) {
            Err(e) => other(e.message),
            Ok(()) => other("telegram: unexpected answer (not JSON)".to_owned()),
        });
    };
    if v.get("ok").and_then(serde_json::Value::as_bool) == Some(true) {
        return Ok(());
    }
    let code = v.get("error_code").and_then(serde_json::Value::as_i64).unwrap_or(i64::from(status));
    let description = v.get("description").and_then(serde_json::Value::as_str).unwrap_or_default();
    let description = classify::bounded_text(description.as_bytes());
    Err(other(if description.is_empty() {
        format!("telegram: answer without \"ok\": true ({code})")
    } else {
        format!("telegram: {description} ({code})")
    }))
}

#[async_trait]
impl Notifier for Telegram {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let body = self.body(ctx, alerts)?;
        let token = self.token().await?;
        let url = format!("{}/bot{token}/sendMessage", self.settings.api_url);
        classify::finish(self.send(&url, body).await, ctx, NAME, &[&url, &token])
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        struct Case {
            name: &'static str,
            status: u16,
            body: &'static str,
            want: Option<(Retry, FailureReason)>,
        }
        let cases = [
            Case { name: "ok", status: 200, body: r#"{"ok":true,"result":{}}"#, want: None },
            Case {
                name: "ok false on 200",
                status: 200,
                body: r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
                want: Some((Retry::Yes, FailureReason::Other)),
            },
            Case {
                name: "flood",
                status: 429,
                body: r#"{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":3}}"#,
                want: Some((Retry::Yes, FailureReason::Other)),
            },
            Case {
                name: "502 html",
                status: 502,
                body: "<html>bad gateway</html>",
                want: Some((Retry::Yes, FailureReason::Other)),
            },
            Case { name: "200 empty", status: 200, body: "", want: Some((Retry::Yes, FailureReason::Other)) },
            Case {
                name: "401 no ok",
                status: 401,
                body: r#"{"x":1}"#,
                want: Some((Retry::Yes, FailureReason::Other)),
            },
            Case {
                name: "200 JSON without ok",
                status: 200,
                body: r#"{"result":{"message_id":1}}"#,
                want: Some((Retry::Yes, FailureReason::Other)),
            },
            Case {
                name: "200 ok not a bool",
                status: 200,
                body: r#"{"ok":"true"}"#,
                want: Some((Retry::Yes, FailureReason::Other)),
            },
            Case {
                name: "200 JSON null",
                status: 200,
                body: "null",
                want: Some((Retry::Yes, FailureReason::Other)),
            },
        ];
        for c in cases {
            let got = check_answer(c.status, c.body.as_bytes()).err().map(|e| (e.retry, e.reason));
            assert_eq!(got, c.want, "{}", c.name);
        }
        let e =
            check_answer(200, br#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked"}"#)
                .unwrap_err();
        assert_eq!(e.message, "telegram: Forbidden: bot was blocked (403)");
        assert_eq!(
            check_answer(200, b"{}").unwrap_err().message,
            "telegram: answer without \"ok\": true (200)"
        );
        assert_eq!(
            check_answer(502, b"<html>bad gateway</html>").unwrap_err().message,
            "unexpected status code 502: <html>bad gateway</html>"
        );
    }
}
