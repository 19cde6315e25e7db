//! `msteams_configs` (`notify/msteams` upstream, 0.26+): one POST of a legacy Office 365 connector
//! `MessageCard` with a title, a summary (0.27) and a text, all templates, and a theme colour: `8C1A1A` when
//! any alert fires, `2DC72D` otherwise. 2xx succeeds, 5xx is retried, anything else (429 included: upstream's
//! retrier has no retry codes) fails for good.

use crate::chatpost::{self, Renderer};
use crate::dingtalk::url_source;
use crate::gojson;
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use async_trait::async_trait;
use serde::Serialize;
use std::sync::Arc;
use tocsin_config::MsTeamsConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "msteams";

/// `themeColor` (upstream `colorRed`, `colorGreen`).
pub const COLOR_FIRING: &str = "8C1A1A";
pub const COLOR_RESOLVED: &str = "2DC72D";

/// The card (upstream `teamsMessage`); field order as upstream, no field omitted.
#[derive(Debug, Serialize)]
pub struct MessageCard {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub summary: String,
    pub text: String,
    #[serde(rename = "themeColor")]
    pub theme_color: &'static str,
}

/// What an MS Teams (connector) integration needs.
#[derive(Debug, Clone, PartialEq)]
pub struct MsTeamsSettings {
    /// `webhook_url` or `webhook_url_file` (read at every send).
    pub url: SecretSource,
    pub title: String,
    pub summary: String,
    pub text: String,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

impl MsTeamsSettings {
    pub fn from_config(c: &MsTeamsConfig) -> Self {
        Self {
            url: url_source(c.webhook_url.as_ref(), &c.webhook_url_file),
            title: c.title.clone(),
            summary: c.summary.clone(),
            text: c.text.clone(),
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One MS Teams (connector) integration.
#[derive(Debug)]
pub struct MsTeams {
    settings: MsTeamsSettings,
    client: HttpClient,
    template: Arc<Template>,
}

impl MsTeams {
    pub fn new(settings: MsTeamsSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &MsTeamsConfig, template: Arc<Template>) -> Self {
        Self::new(MsTeamsSettings::from_config(c), template)
    }

    /// The card for one notification; a template error fails it permanently.
    pub fn card(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<MessageCard, NotifyError> {
        let s = &self.settings;
        let mut r = Renderer::new(&self.template, ctx, alerts);
        let title = r.render("title", &s.title);
        let text = r.render("text", &s.text);
        let summary = r.render("summary", &s.summary);
        let data = r.finish()?;
        Ok(MessageCard {
            context: "http://schema.org/extensions",
            kind: "MessageCard",
            title,
            summary,
            text,
            theme_color: if data.status == "firing" { COLOR_FIRING } else { COLOR_RESOLVED },
        })
    }

    /// The encoded body (Go's `json.Encoder` output, trailing newline included).
    pub fn body(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Vec<u8>, NotifyError> {
        let card = self.card(ctx, alerts)?;
        gojson::encode(&card)
            .map_err(|e| chatpost::permanent(format!("failed to encode msteams message: {e}")))
    }
}

/// One POST judged by upstream's `Retrier{}` with the status code's failure reason; shared with msteamsv2.
pub(crate) async fn send(
    client: &HttpClient,
    url_src: &SecretSource,
    ctx: &NotifyCtx,
    name: &'static str,
    body: Vec<u8>,
) -> Result<(), NotifyError> {
    let url = chatpost::read_url(url_src, "webhook_url_file").await?;
    let result = chatpost::post_checked(client, &url, body).await;
    chatpost::finish(result, ctx, name, &url)
}

#[async_trait]
impl Notifier for MsTeams {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let body = self.body(ctx, alerts)?;
        send(&self.client, &self.settings.url, ctx, NAME, body).await
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}
