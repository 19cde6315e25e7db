//! `slack_configs` (`notify/slack` upstream): one POST of a message with a single legacy attachment to an
//! incoming webhook or `chat.postMessage`.
//!
//! Every text field is a template; the title is cut to 1024 runes. A 2xx answer is a success only when its
//! body is `ok` (incoming webhooks) or, for `application/json` answers (Web API), `{"ok": true}` (0.26+).
//! 5xx is retried; other codes (429 included: upstream's Slack retrier has no retry codes) are not.

use crate::chatpost::{self, ReadBody, Renderer};
use crate::classify;
use crate::dingtalk::url_source;
use crate::gojson;
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use async_trait::async_trait;
use serde::Serialize;
use std::sync::Arc;
use tocsin_config::integrations::slack::{SlackAction, SlackConfirmationField, SlackField};
use tocsin_config::SlackConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, Notifier, NotifyCtx, NotifyError, Retry};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "slack";

/// Slack's limit for attachment titles (upstream `maxTitleLenRunes`).
pub const MAX_TITLE_RUNES: usize = 1024;

/// `mrkdwn_in` when the config leaves it empty.
const DEFAULT_MRKDWN_IN: [&str; 3] = ["fallback", "pretext", "text"];

/// The request (upstream `request`); field order and `omitempty` as upstream, which the golden test pins.
#[derive(Debug, Serialize)]
pub struct SlackRequest {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub icon_emoji: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub icon_url: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub link_names: bool,
    pub attachments: Vec<SlackAttachment>,
}

/// One attachment (upstream `attachment`).
#[derive(Debug, Serialize)]
pub struct SlackAttachment {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title_link: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pretext: String,
    pub text: String,
    pub fallback: String,
    pub callback_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<WireField>,
    /// Rendered copies of the configured actions: the config type serialises as upstream's JSON form.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<SlackAction>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    pub footer: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub color: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mrkdwn_in: Vec<String>,
}

/// A rendered field; `short` is always sent (the field's own value, else `short_fields`).
#[derive(Debug, Serialize)]
pub struct WireField {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    pub short: bool,
}

/// What a Slack integration needs: the validated config (templates and all) plus the URL source.
#[derive(Debug, Clone)]
pub struct SlackSettings {
    /// `api_url` or `api_url_file` (read at every send); globals already applied by the config crate.
    pub url: SecretSource,
    pub config: SlackConfig,
    pub http: HttpClientSettings,
}

impl SlackSettings {
    pub fn from_config(c: &SlackConfig) -> Self {
        Self {
            url: url_source(c.api_url.as_ref(), &c.api_url_file),
            config: c.clone(),
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One Slack integration.
pub struct Slack {
    settings: SlackSettings,
    client: HttpClient,
    template: Arc<Template>,
}

impl std::fmt::Debug for Slack {
    /// The config holds the URL (a secret); show only the channel.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slack")
            .field("url", &chatpost::redacted_debug(&self.settings.url))
            .field("channel", &self.settings.config.channel)
            .finish_non_exhaustive()
    }
}

impl Slack {
    pub fn new(settings: SlackSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &SlackConfig, template: Arc<Template>) -> Self {
        Self::new(SlackSettings::from_config(c), template)
    }

    /// The request for one notification, as upstream builds it; a template error fails it permanently.
    pub fn request(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<SlackRequest, NotifyError> {
        let c = &self.settings.config;
        let mut r = Renderer::new(&self.template, ctx, alerts);
        let channel = r.render("channel", &c.channel);
        let (title, cut) = chatpost::truncate_in_runes(&r.render("title", &c.title), MAX_TITLE_RUNES);
        if cut {
            tracing::warn!(key = %ctx.group_key, max_runes = MAX_TITLE_RUNES, "Truncated title");
        }
        let mrkdwn_in = if c.mrkdwn_in.is_empty() {
            DEFAULT_MRKDWN_IN.iter().map(|s| (*s).to_owned()).collect()
        } else {
            c.mrkdwn_in.clone()
        };
        let mut att = SlackAttachment {
            title,
            title_link: r.render("title_link", &c.title_link),
            pretext: r.render("pretext", &c.pretext),
            text: r.render("text", &c.text),
            fallback: r.render("fallback", &c.fallback),
            callback_id: r.render("callback_id", &c.callback_id),
            fields: Vec::new(),
            actions: Vec::new(),
            image_url: r.render("image_url", &c.image_url),
            thumb_url: r.render("thumb_url", &c.thumb_url),
            footer: r.render("footer", &c.footer),
            color: r.render("color", &c.color),
            mrkdwn_in,
        };
        att.fields = c.fields.iter().map(|f| field(&mut r, f, c.short_fields)).collect();
        att.actions = c.actions.iter().map(|a| action(&mut r, a)).collect();
        let req = SlackRequest {
            channel,
            username: r.render("username", &c.username),
            icon_emoji: r.render("icon_emoji", &c.icon_emoji),
            icon_url: r.render("icon_url", &c.icon_url),
            link_names: c.link_names,
            attachments: vec![att],
        };
        r.finish()?;
        Ok(req)
    }

    /// The encoded body (Go's `json.Encoder` output, trailing newline included).
    pub fn body(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Vec<u8>, NotifyError> {
        let req = self.request(ctx, alerts)?;
        encode(&req)
    }

    async fn send(&self, url: &str, channel: &str, body: Vec<u8>) -> Result<(), NotifyError> {
        let answer =
            chatpost::post_json(&self.client, url, body, ReadBody::UpTo(chatpost::MAX_ANSWER)).await?;
        let in_channel = |mut e: NotifyError| {
            e.message = format!("channel {channel:?}: {}", e.message);
            e
        };
        chatpost::check_status(answer.status, &answer.body).map_err(in_channel)?;
        if answer.truncated {
            return check_truncated_answer(&answer.content_type, &answer.body).map_err(in_channel);
        }
        check_answer(&answer.content_type, &answer.body).map_err(in_channel)
    }
}

fn field(r: &mut Renderer<'_>, f: &SlackField, short_fields: bool) -> WireField {
    WireField {
        title: r.render("fields.title", &f.title),
        value: r.render("fields.value", &f.value),
        short: f.short.unwrap_or(short_fields),
    }
}

fn action(r: &mut Renderer<'_>, a: &SlackAction) -> SlackAction {
    SlackAction {
        kind: r.render("actions.type", &a.kind),
        text: r.render("actions.text", &a.text),
        url: r.render("actions.url", &a.url),
        style: r.render("actions.style", &a.style),
        name: r.render("actions.name", &a.name),
        value: r.render("actions.value", &a.value),
        confirm: a.confirm.as_ref().map(|c| SlackConfirmationField {
            text: r.render("actions.confirm.text", &c.text),
            title: r.render("actions.confirm.title", &c.title),
            ok_text: r.render("actions.confirm.ok_text", &c.ok_text),
            dismiss_text: r.render("actions.confirm.dismiss_text", &c.dismiss_text),
        }),
    }
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, NotifyError> {
    gojson::encode(v).map_err(|e| chatpost::permanent(format!("failed to encode slack message: {e}")))
}

/// Judges a 2xx answer as upstream 0.26+ (`checkResponseError`): JSON answers (Web API) need `"ok": true`,
/// others (incoming webhooks) must be exactly `ok`. A JSON answer that does not parse is retried.
pub fn check_answer(content_type: &str, body: &[u8]) -> Result<(), NotifyError> {
    #[derive(serde::Deserialize)]
    struct Response {
        #[serde(default)]
        ok: bool,
        #[serde(default)]
        error: String,
    }
    let client_error = |retry, message| NotifyError { retry, reason: FailureReason::ClientError, message };
    if content_type.starts_with("application/json") {
        return match serde_json::from_slice::<Response>(body) {
            Err(e) => Err(client_error(
                Retry::Yes,
                format!("could not unmarshal JSON response {:?}: {e}", classify::bounded_text(body)),
            )),
            Ok(r) if !r.ok => Err(client_error(
                Retry::No,
                format!("error response from Slack: {}", classify::bounded_text(r.error.as_bytes())),
            )),
            Ok(_) => Ok(()),
        };
    }
    if body != b"ok" {
        return Err(client_error(
            Retry::No,
            format!("received an error response from Slack: {}", classify::bounded_text(body)),
        ));
    }
    Ok(())
}

/// Judges a 2xx answer that was cut at `chatpost::MAX_ANSWER` bytes (a Web API answer echoing a huge message)
/// by its start, as the whole would not parse: success when it opens with `{"ok":true` (whitespace allowed), a
/// permanent failure otherwise. Never retried: the message was accepted, a retry could only post it again.
pub fn check_truncated_answer(content_type: &str, body: &[u8]) -> Result<(), NotifyError> {
    if content_type.starts_with("application/json") && opens_with_ok_true(body) {
        return Ok(());
    }
    Err(NotifyError {
        retry: Retry::No,
        reason: FailureReason::ClientError,
        message: format!(
            "response from Slack larger than {} bytes does not start with {{\"ok\":true: {:?}",
            chatpost::MAX_ANSWER,
            classify::bounded_text(body)
        ),
    })
}

/// Whether `body` starts with `{"ok":true` in JSON's grammar (any whitespace between the tokens).
fn opens_with_ok_true(body: &[u8]) -> bool {
    let mut rest = body;
    for token in [&b"{"[..], b"\"ok\"", b":", b"true"] {
        rest = rest.trim_ascii_start();
        match rest.strip_prefix(token) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    matches!(rest.trim_ascii_start().first(), Some(b',' | b'}'))
}

#[async_trait]
impl Notifier for Slack {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let req = self.request(ctx, alerts)?;
        let body = encode(&req)?;
        let url = chatpost::read_url(&self.settings.url, "api_url_file").await?;
        let result = self.send(&url, &req.channel, body).await;
        chatpost::finish(result, ctx, NAME, &url)
    }

    fn send_resolved(&self) -> bool {
        self.settings.config.send_resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        struct Case {
            name: &'static str,
            content_type: &'static str,
            body: &'static str,
            want: Result<(), (Retry, &'static str)>,
        }
        let cases = [
            Case { name: "webhook ok", content_type: "text/html", body: "ok", want: Ok(()) },
            Case {
                name: "webhook error",
                content_type: "text/plain",
                body: "invalid_payload",
                want: Err((Retry::No, "received an error response from Slack: invalid_payload")),
            },
            Case {
                name: "webhook empty",
                content_type: "",
                body: "",
                want: Err((Retry::No, "received an error response from Slack: ")),
            },
            Case {
                name: "api ok",
                content_type: "application/json; charset=utf-8",
                body: r#"{"ok":true,"ts":"1.2"}"#,
                want: Ok(()),
            },
            Case {
                name: "api error",
                content_type: "application/json",
                body: r#"{"ok":false,"error":"channel_not_found"}"#,
                want: Err((Retry::No, "error response from Slack: channel_not_found")),
            },
        ];
        for c in cases {
            let got = check_answer(c.content_type, c.body.as_bytes()).map_err(|e| {
                assert_eq!(e.reason, FailureReason::ClientError, "{}", c.name);
                (e.retry, e.message)
            });
            let want = c.want.map_err(|(r, m)| (r, m.to_owned()));
            assert_eq!(got, want, "{}", c.name);
        }
        let bad = check_answer("application/json", b"not json").unwrap_err();
        assert_eq!(bad.retry, Retry::Yes);
        assert!(
            bad.message.starts_with("could not unmarshal JSON response \"not json\": "),
            "{}",
            bad.message
        );
    }

    #[test]
    fn truncated_answers_are_judged_by_their_start() {
        struct Case {
            name: &'static str,
            content_type: &'static str,
            body: &'static str,
            ok: bool,
        }
        let cases = [
            Case {
                name: "compact",
                content_type: "application/json",
                body: r#"{"ok":true,"ts":"1"#,
                ok: true,
            },
            Case { name: "spaced", content_type: "application/json", body: "{\n \"ok\" : true }", ok: true },
            Case { name: "false", content_type: "application/json", body: r#"{"ok":false,"e"#, ok: false },
            Case {
                name: "truthy prefix",
                content_type: "application/json",
                body: r#"{"ok":trueish"#,
                ok: false,
            },
            Case {
                name: "ok not first",
                content_type: "application/json",
                body: r#"{"ts":"1","ok":true"#,
                ok: false,
            },
            Case { name: "webhook text", content_type: "text/plain", body: r#"{"ok":true,"#, ok: false },
            Case { name: "empty", content_type: "application/json", body: "", ok: false },
        ];
        for c in cases {
            let got = check_truncated_answer(c.content_type, c.body.as_bytes());
            assert_eq!(got.is_ok(), c.ok, "{}", c.name);
            if let Err(e) = got {
                assert_eq!(e.retry, Retry::No, "{}: a 2xx is never retried, the message was posted", c.name);
            }
        }
    }
}
