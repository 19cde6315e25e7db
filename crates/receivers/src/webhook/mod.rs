//! `webhook_configs` (`notify/webhook` upstream): POST the version "4" JSON payload to a URL.

pub mod payload;

/// The webhook's content type.
const JSON: &str = "application/json";

use crate::chatpost::{self, ReadBody};
use crate::classify::{self, REDACTED};
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use async_trait::async_trait;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::duration::format_go_duration;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, Notifier, NotifyCtx, NotifyError, Retry};

/// What a webhook integration needs, independent of how the config file spells it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSettings {
    /// `url` (inline) or `url_file` (read, trimmed, at every send).
    pub url: SecretSource,
    pub send_resolved: bool,
    /// 0 = unlimited.
    pub max_alerts: u64,
    /// `None` or zero = no timeout beyond the flush deadline.
    pub timeout: Option<Duration>,
    pub http: HttpClientSettings,
}

impl WebhookSettings {
    /// A webhook to `url` with upstream's defaults (`send_resolved: true`, no limit, no timeout).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: SecretSource::Inline(url.into()),
            send_resolved: true,
            max_alerts: 0,
            timeout: None,
            http: HttpClientSettings::default(),
        }
    }
}

/// The parsed `url`: it may carry a token, so its `Debug` shows nothing of it.
struct ParsedUrl(reqwest::Url);

impl std::fmt::Debug for ParsedUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

/// One webhook integration.
#[derive(Debug)]
pub struct Webhook {
    url: SecretSource,
    /// An inline `url` parsed once, so a send does not parse it again; `None` for `url_file` or a URL reqwest
    /// rejects (the send then fails with reqwest's own error, as before).
    parsed: Option<ParsedUrl>,
    send_resolved: bool,
    max_alerts: u64,
    timeout: Option<Duration>,
    client: HttpClient,
}

impl Webhook {
    pub fn new(s: WebhookSettings) -> Self {
        let parsed = match &s.url {
            SecretSource::Inline(u) => {
                reqwest::Url::parse(u).ok().filter(reqwest::Url::has_host).map(ParsedUrl)
            }
            SecretSource::File(_) => None,
        };
        Self {
            url: s.url,
            parsed,
            send_resolved: s.send_resolved,
            max_alerts: s.max_alerts,
            timeout: s.timeout.filter(|t| !t.is_zero()),
            client: HttpClient::new(s.http),
        }
    }

    async fn url(&self) -> Result<Cow<'_, str>, NotifyError> {
        match &self.url {
            SecretSource::Inline(u) => Ok(Cow::Borrowed(u)),
            // Upstream: `read url_file: <err>`, not retried.
            file => chatpost::read_url(file, "url_file").await.map(Cow::Owned),
        }
    }

    async fn post(&self, url: &str, body: Vec<u8>) -> Result<(), NotifyError> {
        // Credential or TLS files that cannot be used now may be fixed before the next attempt, as upstream
        // retries round-tripper errors: [`chatpost::post`] says so.
        let answer = match (&self.parsed, &self.url) {
            (Some(parsed), SecretSource::Inline(_)) => {
                chatpost::post(&self.client, parsed.0.clone(), JSON, body, ReadBody::OnFailure).await
            }
            _ => chatpost::post(&self.client, url, JSON, body, ReadBody::OnFailure).await,
        }?;
        // Unlike the chat integrations, the webhook's retrier retries 429.
        classify::check_status(answer.status, &answer.body)
    }
}

#[async_trait]
impl Notifier for Webhook {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let (alerts, truncated) = payload::truncate(self.max_alerts, alerts);
        let body = payload::render(ctx, alerts, truncated).map_err(|e| NotifyError {
            retry: Retry::No,
            reason: FailureReason::Other,
            message: format!("failed to encode webhook message: {e}"),
        })?;
        let url = self.url().await?;
        let result = match self.timeout {
            None => self.post(&url, body).await,
            Some(t) => match tokio::time::timeout(t, self.post(&url, body)).await {
                Ok(r) => r,
                Err(_) => Err(NotifyError {
                    retry: Retry::Yes,
                    reason: FailureReason::ContextDeadlineExceeded,
                    message: format!(
                        "Post \"{REDACTED}\": configured webhook timeout reached ({})",
                        format_go_duration(t)
                    ),
                }),
            },
        };
        classify::finish(result, ctx, "webhook", &[&url])
    }

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }
}
