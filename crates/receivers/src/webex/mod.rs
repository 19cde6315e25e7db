//! `webex_configs` (`notify/webex` upstream): one `POST <api_url>` per notification with
//! `{"markdown": <message>, "roomId": <room_id>}` (Go's encoder: HTML-safe escaping, trailing newline). The
//! message is cut to Webex's 7439 bytes at a character boundary and ended with `…`; `room_id` is a template
//! (0.28). Authentication is the `http_config.authorization` the config requires (`Bearer <bot token>`).
//!
//! 2xx succeeds, 5xx is retried, anything else is permanent (upstream's default retrier); every failure has
//! reason `other`, as upstream returns the retrier's error without a reason (as discord does).
//!
//! Deliberate difference: a `room_id` template error fails the send permanently, naming the field; upstream
//! (0.28) ignores that error and posts with whatever `roomId` rendered (usually empty), which Webex rejects.

use crate::chatpost::{self, TRUNCATION_MARKER};
use crate::classify;
use crate::dingtalk::robot;
use crate::http::{HttpClient, HttpClientSettings};
use async_trait::async_trait;
use serde::Serialize;
use std::sync::Arc;
use tocsin_config::WebexConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "webex";

/// The largest message Webex accepts, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 7439;

/// Upstream's `notify.TruncateInBytes`: at most `n` bytes; when cut, the text is cut at a character boundary to
/// `n - 3` bytes and ended with `…` (for `n` ≤ 3: `…` or `n` dots). Upstream 0.25 panics on texts with fewer
/// characters than `n - 3`; this never does. Returns whether the text was cut.
pub fn truncate_in_bytes(s: &str, n: usize) -> (String, bool) {
    if s.len() <= n {
        return (s.to_owned(), false);
    }
    if n <= 3 {
        return (if n == 3 { TRUNCATION_MARKER.to_owned() } else { ".".repeat(n) }, true);
    }
    let mut out = robot::cut_at_char_boundary(s, n - 3).to_owned();
    out.push_str(TRUNCATION_MARKER);
    (out, true)
}

/// What a Webex integration needs, independent of how the config file spells it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebexSettings {
    /// `https://webexapis.com/v1/messages` by default.
    pub api_url: String,
    /// Template of the room id.
    pub room_id: String,
    /// Template of the markdown message.
    pub message: String,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

impl WebexSettings {
    pub fn from_config(c: &WebexConfig) -> Self {
        Self {
            api_url: c
                .api_url
                .as_ref()
                .map_or_else(|| "https://webexapis.com/v1/messages".to_owned(), |u| u.as_str().to_owned()),
            room_id: c.room_id.clone(),
            message: c.message.clone(),
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// The body, in upstream's field order.
#[derive(Serialize)]
struct Payload {
    markdown: String,
    #[serde(rename = "roomId", skip_serializing_if = "String::is_empty")]
    room_id: String,
}

/// One Webex integration.
#[derive(Debug)]
pub struct Webex {
    settings: WebexSettings,
    client: HttpClient,
    template: Arc<Template>,
}

impl Webex {
    pub fn new(settings: WebexSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &WebexConfig, template: Arc<Template>) -> Self {
        Self::new(WebexSettings::from_config(c), template)
    }

    /// The request body for `alerts`.
    pub fn body(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Vec<u8>, NotifyError> {
        let data = robot::shared_data(ctx, alerts);
        let message = robot::render_shared(&self.template, "message", &self.settings.message, &data)?;
        let (markdown, cut) = truncate_in_bytes(&message, MAX_MESSAGE_BYTES);
        if cut {
            tracing::debug!(receiver = %ctx.receiver, integration = NAME, "message truncated to Webex's limit");
        }
        let room_id = robot::render_shared(&self.template, "room_id", &self.settings.room_id, &data)?;
        crate::gojson::encode(&Payload { markdown, room_id })
            .map_err(|e| robot::permanent(format!("failed to encode webex message: {e}")))
    }
}

#[async_trait]
impl Notifier for Webex {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let body = self.body(ctx, alerts)?;
        let url = &self.settings.api_url;
        let result = chatpost::post_checked(&self.client, url, body).await.map_err(chatpost::unwrapped);
        // Only the URL itself: unlike the webhook URLs of [`chatpost::finish`], Webex's carries no token.
        classify::finish(result, ctx, NAME, &[url])
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_in_bytes_like_upstream() {
        struct Case {
            name: &'static str,
            input: &'static str,
            n: usize,
            want: (&'static str, bool),
        }
        let cases = [
            Case { name: "fits", input: "abc€", n: 6, want: ("abc€", false) },
            Case { name: "ascii", input: "abcdefgh", n: 6, want: ("abc…", true) },
            Case { name: "boundary", input: "a€€€", n: 6, want: ("a…", true) },
            Case { name: "three", input: "abcd", n: 3, want: ("…", true) },
            Case { name: "two", input: "abcd", n: 2, want: ("..", true) },
            Case {
                name: "fewer runes than n", input: "€€€€€€", n: 10, want: ("€€…", true)
            },
        ];
        for c in cases {
            let (got, cut) = truncate_in_bytes(c.input, c.n);
            assert_eq!((got.as_str(), cut), c.want, "{}", c.name);
            assert!(got.len() <= c.n.max(3) || !cut, "{}", c.name);
        }
    }
}
