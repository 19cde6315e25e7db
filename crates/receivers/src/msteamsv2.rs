//! `msteamsv2_configs` (`notify/msteamsv2` upstream, 0.28): one POST to a Power Automate "workflow" webhook
//! of a `message` carrying one Adaptive Card 1.2 with two text blocks: the title (a bold heading coloured
//! `Attention` when any alert fires, `Good` otherwise) and the text. Both are templates. Outcomes are judged
//! as for `msteams_configs`.

use crate::chatpost::{self, Renderer};
use crate::dingtalk::url_source;
use crate::gojson;
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use async_trait::async_trait;
use serde::Serialize;
use std::sync::Arc;
use tocsin_config::MsTeamsV2Config;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "msteamsv2";

/// Title colours (upstream `colorRed`, `colorGreen`: Adaptive Card colour names).
pub const COLOR_FIRING: &str = "Attention";
pub const COLOR_RESOLVED: &str = "Good";

/// The message (upstream `teamsMessage`); field order and `omitempty` as upstream.
#[derive(Debug, Serialize)]
pub struct FlowMessage {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Serialize)]
pub struct Attachment {
    #[serde(rename = "contentType")]
    pub content_type: &'static str,
    /// Always `null`, as upstream sends it.
    #[serde(rename = "contentUrl")]
    pub content_url: Option<String>,
    pub content: Card,
}

#[derive(Debug, Serialize)]
pub struct Card {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub version: &'static str,
    pub body: Vec<TextBlock>,
    /// Go's `omitempty` never omits a struct: always present.
    pub msteams: Width,
}

#[derive(Debug, Serialize)]
pub struct TextBlock {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub weight: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub size: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub wrap: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub style: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub color: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Width {
    pub width: &'static str,
}

/// What an MS Teams (workflow) integration needs.
#[derive(Debug, Clone, PartialEq)]
pub struct MsTeamsV2Settings {
    /// `webhook_url` or `webhook_url_file` (read at every send).
    pub url: SecretSource,
    pub title: String,
    pub text: String,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

impl MsTeamsV2Settings {
    pub fn from_config(c: &MsTeamsV2Config) -> Self {
        Self {
            url: url_source(c.webhook_url.as_ref(), &c.webhook_url_file),
            title: c.title.clone(),
            text: c.text.clone(),
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One MS Teams (workflow) integration.
#[derive(Debug)]
pub struct MsTeamsV2 {
    settings: MsTeamsV2Settings,
    client: HttpClient,
    template: Arc<Template>,
}

impl MsTeamsV2 {
    pub fn new(settings: MsTeamsV2Settings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &MsTeamsV2Config, template: Arc<Template>) -> Self {
        Self::new(MsTeamsV2Settings::from_config(c), template)
    }

    /// The message for one notification; a template error fails it permanently.
    pub fn message(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<FlowMessage, NotifyError> {
        let s = &self.settings;
        let mut r = Renderer::new(&self.template, ctx, alerts);
        let title = r.render("title", &s.title);
        let text = r.render("text", &s.text);
        let data = r.finish()?;
        let color = if data.status == "firing" { COLOR_FIRING } else { COLOR_RESOLVED };
        let heading = TextBlock {
            kind: "TextBlock",
            text: title,
            weight: "Bolder",
            size: "Medium",
            wrap: true,
            style: "heading",
            color,
        };
        let body =
            TextBlock { kind: "TextBlock", text, weight: "", size: "", wrap: true, style: "", color: "" };
        Ok(FlowMessage {
            kind: "message",
            attachments: vec![Attachment {
                content_type: "application/vnd.microsoft.card.adaptive",
                content_url: None,
                content: Card {
                    schema: "http://adaptivecards.io/schemas/adaptive-card.json",
                    kind: "AdaptiveCard",
                    version: "1.2",
                    body: vec![heading, body],
                    msteams: Width { width: "full" },
                },
            }],
        })
    }

    /// The encoded body (Go's `json.Encoder` output, trailing newline included).
    pub fn body(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Vec<u8>, NotifyError> {
        let m = self.message(ctx, alerts)?;
        gojson::encode(&m)
            .map_err(|e| chatpost::permanent(format!("failed to encode msteamsv2 message: {e}")))
    }
}

#[async_trait]
impl Notifier for MsTeamsV2 {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let body = self.body(ctx, alerts)?;
        crate::msteams::send(&self.client, &self.settings.url, ctx, NAME, body).await
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}
