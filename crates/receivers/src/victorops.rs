//! `victorops_configs` (`notify/victorops` upstream, now Splunk On-Call). One POST per notification to
//! `<api_url><api_key>/<routing_key>` of a flat JSON object: `message_type` (the configured one while firing,
//! `CRITICAL` if it is not INFO, WARNING or CRITICAL; `RECOVERY` once resolved), `entity_id` (the SHA-256 of the
//! group key, which ties the recovery to its incident), `entity_display_name`, `state_message`,
//! `monitoring_tool` and the `custom_fields`.
//!
//! Limits as upstream: `state_message` at most 20480 runes. Retries: 5xx only (upstream found no documentation).

use crate::gojson;
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use crate::incident::{self, Authorization, Method, Request, Retrier, Tmpl};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use tocsin_config::VictorOpsConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError, Retry};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "victorops";

/// VictorOps' `state_message` limit, in runes.
pub const MAX_STATE_MESSAGE_RUNES: usize = 20480;

const RETRIER: Retrier = Retrier { codes: &[], details: None };

/// What a VictorOps integration needs, independent of how the config file spells it. Text fields are templates.
#[derive(Debug, Clone, PartialEq)]
pub struct VictorOpsSettings {
    /// `api_key` or `api_key_file` (own or global). Part of the URL path, so a secret.
    pub api_key: Option<SecretSource>,
    /// With a trailing `/`.
    pub api_url: String,
    pub routing_key: String,
    pub message_type: String,
    pub state_message: String,
    pub entity_display_name: String,
    pub monitoring_tool: String,
    pub custom_fields: BTreeMap<String, String>,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

impl VictorOpsSettings {
    pub fn from_config(c: &VictorOpsConfig) -> Self {
        Self {
            api_key: crate::dingtalk::secret_source(c.api_key.expose(), &c.api_key_file),
            api_url: c.api_url.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default(),
            routing_key: c.routing_key.clone(),
            message_type: c.message_type.clone(),
            state_message: c.state_message.clone(),
            entity_display_name: c.entity_display_name.clone(),
            monitoring_tool: c.monitoring_tool.clone(),
            custom_fields: c.custom_fields.clone(),
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One VictorOps integration.
#[derive(Debug)]
pub struct VictorOps {
    settings: VictorOpsSettings,
    client: HttpClient,
    template: Arc<Template>,
}

impl VictorOps {
    pub fn new(settings: VictorOpsSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &VictorOpsConfig, template: Arc<Template>) -> Self {
        Self::new(VictorOpsSettings::from_config(c), template)
    }

    /// The URL (`api_url` + `<api_key>/<routing_key>`); `api_key` as read. Upstream does not retry a routing key
    /// that fails to render.
    pub fn url(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>], api_key: &str) -> Result<String, NotifyError> {
        let data = incident::data(ctx, alerts);
        let mut t = Tmpl::new(&self.template, &data);
        let routing_key = t.text(&self.settings.routing_key);
        t.check("templating error", Retry::No)?;
        incident::join_url(&self.settings.api_url, &format!("{api_key}/{routing_key}"), None)
            .ok_or_else(|| incident::permanent("invalid VictorOps api_url".to_owned()))
    }

    /// The encoded body. Public for golden tests, which compare it without a network. Upstream retries a body
    /// that fails to render (a quirk kept for compatibility).
    pub fn render(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Vec<u8>, NotifyError> {
        let s = &self.settings;
        let data = incident::data(ctx, alerts);
        let mut t = Tmpl::new(&self.template, &data);
        let mut message_type = t.text(&s.message_type);
        let state_message = t.text(&s.state_message);
        if data.status == "resolved" {
            message_type = "RECOVERY".to_owned();
        } else if !matches!(message_type.as_str(), "INFO" | "WARNING" | "CRITICAL") {
            message_type = "CRITICAL".to_owned();
        }
        let (state_message, cut) =
            crate::chatpost::truncate_in_runes(&state_message, MAX_STATE_MESSAGE_RUNES);
        if cut {
            tracing::warn!(receiver = %ctx.receiver, max_runes = MAX_STATE_MESSAGE_RUNES, "truncated VictorOps state_message");
        }
        let mut msg: BTreeMap<String, String> = [
            ("message_type", message_type),
            ("entity_id", incident::group_key_hash(&ctx.group_key)),
            ("entity_display_name", t.text(&s.entity_display_name)),
            ("state_message", state_message),
            ("monitoring_tool", t.text(&s.monitoring_tool)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in &s.custom_fields {
            msg.insert(k.clone(), t.text(v));
        }
        t.check("templating error", Retry::Yes)?;
        gojson::encode(&msg)
            .map_err(|e| incident::permanent(format!("failed to encode VictorOps message: {e}")))
    }
}

#[async_trait]
impl Notifier for VictorOps {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let key =
            incident::read_key(self.settings.api_key.as_ref(), "failed to read API key from file").await?;
        let escaped = incident::escape_path(&key);
        let result = async {
            let url = self.url(ctx, alerts, &key)?;
            let body = self.render(ctx, alerts)?;
            let request = Request {
                method: Method::Post,
                url: &url,
                auth: Authorization::HttpConfig,
                retrier: &RETRIER,
                context: None,
                secrets: &[&key, &escaped],
            };
            incident::send(&self.client, request, body).await
        }
        .await;
        crate::classify::finish(result, ctx, NAME, &[&key, &escaped])
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}
