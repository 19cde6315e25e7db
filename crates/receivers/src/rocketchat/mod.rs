//! `rocketchat_configs` (`notify/rocketchat` upstream, 0.28+): one POST of a message with a single attachment to
//! `<api_url>/api/v1/chat.postMessage`, authenticated by the `X-Auth-Token` (`token`) and `X-User-Id`
//! (`token_id`) headers.
//!
//! Every text field is a template; the title is cut to 1024 runes. Actions are always buttons with only
//! `text`, `url` and `msg` (upstream ignores the other action keys), and `link_names` is parsed but never sent,
//! as upstream. Non-2xx: 5xx is retried, anything else (429 included: upstream's retrier has no retry codes)
//! fails for good. A 2xx answer must be JSON with `"success": true`; one that does not decode is retried,
//! except an answer longer than 4 MiB, which fails without retry (deliberate: upstream reads any size, and a
//! retry would post the message again).

pub mod wire;

use crate::chatpost::{self, Renderer};
use crate::classify::{self, REDACTED};
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use async_trait::async_trait;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use std::sync::Arc;
use tocsin_config::integrations::rocketchat::{RocketchatAttachmentAction, RocketchatAttachmentField};
use tocsin_config::RocketchatConfig;
use tocsin_model::labels::go_quote;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, Notifier, NotifyCtx, NotifyError, Retry};
use tocsin_template::Template;
pub use wire::{Attachment, PostMessage, WireAction, WireField};

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "rocketchat";

/// Upstream's `maxTitleLenRunes`.
pub const MAX_TITLE_RUNES: usize = 1024;

/// The only action type upstream sends.
const BUTTON: &str = "button";

/// How much of a 2xx answer is read: `chat.postMessage` echoes the whole message and puts `success` last, so
/// the answer is read in full up to this bound (upstream reads it all). A longer one cannot be judged: it fails
/// for good (never retried: the message was accepted, a retry would post it again).
const MAX_ANSWER: usize = chatpost::MAX_ANSWER;

/// What a Rocket.Chat integration needs: the validated config (templates and all) plus where the credentials
/// come from. Globals (`rocketchat_api_url`, `rocketchat_token*`) are already applied by the config crate.
#[derive(Debug, Clone)]
pub struct RocketchatSettings {
    /// `api_url` (not a secret upstream), joined with [`wire::POST_MESSAGE_PATH`] once.
    pub url: String,
    /// `token` or `token_file`, sent as `X-Auth-Token`.
    pub token: SecretSource,
    /// `token_id` or `token_id_file`, sent as `X-User-Id`.
    pub token_id: SecretSource,
    pub config: RocketchatConfig,
    pub http: HttpClientSettings,
}

impl RocketchatSettings {
    pub fn from_config(c: &RocketchatConfig) -> Self {
        let source = |inline: Option<&tocsin_config::Secret>, file: &str| {
            crate::dingtalk::file_or_inline(inline.map_or("", |s| s.expose()), file)
        };
        Self {
            url: c.api_url.as_ref().map(|u| wire::join_api_path(u.as_str())).unwrap_or_default(),
            token: source(c.token.as_ref(), &c.token_file),
            token_id: source(c.token_id.as_ref(), &c.token_id_file),
            config: c.clone(),
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One Rocket.Chat integration.
pub struct Rocketchat {
    settings: RocketchatSettings,
    client: HttpClient,
    template: Arc<Template>,
}

impl std::fmt::Debug for Rocketchat {
    /// The config holds the tokens: show where they come from, never their value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rocketchat")
            .field("token", &chatpost::redacted_debug(&self.settings.token))
            .field("token_id", &chatpost::redacted_debug(&self.settings.token_id))
            .field("channel", &self.settings.config.channel)
            .finish_non_exhaustive()
    }
}

impl Rocketchat {
    pub fn new(settings: RocketchatSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &RocketchatConfig, template: Arc<Template>) -> Self {
        Self::new(RocketchatSettings::from_config(c), template)
    }

    /// The request for one notification, rendered in upstream's order; a template error fails it for good.
    pub fn request(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<PostMessage, NotifyError> {
        let c = &self.settings.config;
        let mut r = Renderer::new(&self.template, ctx, alerts);
        let (title, cut) = chatpost::truncate_in_runes(&r.render("title", &c.title), MAX_TITLE_RUNES);
        if cut {
            tracing::warn!(key = %ctx.group_key, max_runes = MAX_TITLE_RUNES, "Truncated title");
        }
        let mut att = Attachment {
            title,
            title_link: r.render("title_link", &c.title_link),
            text: r.render("text", &c.text),
            image_url: r.render("image_url", &c.image_url),
            thumb_url: r.render("thumb_url", &c.thumb_url),
            color: r.render("color", &c.color),
            fields: Vec::new(),
            actions: Vec::new(),
        };
        att.fields = c.fields.iter().map(|f| field(&mut r, f, c.short_fields)).collect();
        att.actions = c.actions.iter().map(|a| action(&mut r, a)).collect();
        let msg = PostMessage {
            channel: r.render("channel", &c.channel),
            text: String::new(),
            parse_urls: false,
            alias: String::new(),
            emoji: r.render("emoji", &c.emoji),
            avatar: r.render("icon_url", &c.icon_url),
            attachments: vec![att],
            actions: Vec::new(),
        };
        r.finish()?;
        Ok(msg)
    }

    /// The encoded body (Go's `json.Encoder` output, trailing newline included).
    pub fn body(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Vec<u8>, NotifyError> {
        encode(&self.request(ctx, alerts)?)
    }

    /// Transport errors are worded as Go's `Post "<redacted>": …`; status and answer errors name the channel.
    async fn send(
        &self,
        channel: &str,
        token: &str,
        token_id: &str,
        body: Vec<u8>,
    ) -> Result<(), NotifyError> {
        let retryable =
            |message: String| NotifyError { retry: Retry::Yes, reason: FailureReason::Other, message };
        let req = self.client.post(&self.settings.url, None).await.map_err(|e| retryable(e.to_string()))?;
        // Go's transport refuses such a header value at send time, a retried error; the value is not named.
        let header = |name: &str, v: &str| {
            HeaderValue::from_str(v).map_err(|_| {
                retryable(format!("Post \"{REDACTED}\": net/http: invalid header field value for {name:?}"))
            })
        };
        let resp = req
            .header("X-Auth-Token", header("X-Auth-Token", token)?)
            .header("X-User-Id", header("X-User-Id", token_id)?)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(classify::transport_error)?;
        let status = resp.status().as_u16();
        let outcome = if resp.status().is_success() {
            match chatpost::read_limited(resp, MAX_ANSWER).await {
                (body, false) => wire::check_answer(&body),
                (_, true) => Err(NotifyError {
                    retry: Retry::No,
                    reason: FailureReason::ClientError,
                    message: format!(
                        "response from Rocketchat larger than {MAX_ANSWER} bytes: outcome unknown"
                    ),
                }),
            }
        } else {
            chatpost::check_status(status, &classify::read_bounded(resp).await)
        };
        outcome.map_err(|mut e| {
            e.message = format!("channel {}: {}", go_quote(channel), e.message);
            e
        })
    }
}

fn field(r: &mut Renderer<'_>, f: &RocketchatAttachmentField, short_fields: bool) -> WireField {
    WireField {
        title: r.render("fields.title", &f.title),
        value: r.render("fields.value", &f.value),
        short: f.short.unwrap_or(short_fields),
    }
}

/// Upstream rebuilds each action as a button from `text`, `url` and `msg` only.
fn action(r: &mut Renderer<'_>, a: &RocketchatAttachmentAction) -> WireAction {
    WireAction {
        kind: BUTTON.to_owned(),
        text: r.render("actions.text", &a.text),
        url: r.render("actions.url", &a.url),
        image_url: String::new(),
        is_webview: false,
        webview_height_ratio: String::new(),
        msg: r.render("actions.msg", &a.msg),
        msg_in_chat_window: false,
        msg_processing_type: String::new(),
    }
}

fn encode(msg: &PostMessage) -> Result<Vec<u8>, NotifyError> {
    wire::encode(msg).map_err(|e| chatpost::permanent(format!("failed to encode rocketchat message: {e}")))
}

/// A credential, inline or read (trimmed) from its file at every send, so a rotated token needs no reload
/// (upstream reads it once, when the config loads). The error names the file, never its content.
async fn read_secret(src: &SecretSource) -> Result<String, NotifyError> {
    chatpost::read_secret(src, |path| format!("could not read {}", path.display())).await
}

#[async_trait]
impl Notifier for Rocketchat {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let msg = self.request(ctx, alerts)?;
        let body = encode(&msg)?;
        let token = read_secret(&self.settings.token).await?;
        let token_id = read_secret(&self.settings.token_id).await?;
        let result = self.send(&msg.channel, &token, &token_id, body).await;
        // Upstream puts answers in errors as they are; a server echoing the credentials or a URL with userinfo
        // must not get them into logs.
        classify::finish(result, ctx, NAME, &[&token, &token_id, &self.settings.url])
    }

    fn send_resolved(&self) -> bool {
        self.settings.config.send_resolved
    }
}
