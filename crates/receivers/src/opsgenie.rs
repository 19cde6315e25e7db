//! `opsgenie_configs` (`notify/opsgenie` upstream). A firing notification creates an alert (POST
//! `<api_url>v2/alerts`) whose alias is the SHA-256 of the group key, so OpsGenie deduplicates repeats; with
//! `update_alerts` the message and description of an existing alert are then updated (two PUTs). A resolved
//! notification closes the alert by alias (POST `v2/alerts/<alias>/close?identifierType=alias`). Every request
//! authenticates with `Authorization: GenieKey <api_key>`.
//!
//! Limits as upstream: message at most 130 runes. Retries: 5xx and 429.

use crate::gojson;
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use crate::incident::{self, Authorization, Method, Request, Retrier, Tmpl};
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tocsin_config::integrations::opsgenie::OpsGenieResponder;
use tocsin_config::OpsGenieConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError, Retry};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "opsgenie";

/// OpsGenie's message limit, in runes.
pub const MAX_MESSAGE_RUNES: usize = 130;

const RETRIER: Retrier = Retrier { codes: &[429], details: None };

/// What an OpsGenie integration needs, independent of how the config file spells it. Text fields are templates.
#[derive(Debug, Clone, PartialEq)]
pub struct OpsGenieSettings {
    /// `api_key` or `api_key_file` (own or global); the key is a template too, as upstream.
    pub api_key: Option<SecretSource>,
    /// With a trailing `/`.
    pub api_url: String,
    pub message: String,
    pub description: String,
    pub source: String,
    pub details: BTreeMap<String, String>,
    pub entity: String,
    pub responders: Vec<OpsGenieResponder>,
    /// Comma-separated, templated.
    pub actions: String,
    /// Comma-separated, templated.
    pub tags: String,
    pub note: String,
    pub priority: String,
    pub update_alerts: bool,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

impl OpsGenieSettings {
    pub fn from_config(c: &OpsGenieConfig) -> Self {
        Self {
            api_key: crate::dingtalk::secret_source(c.api_key.expose(), &c.api_key_file),
            api_url: c.api_url.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default(),
            message: c.message.clone(),
            description: c.description.clone(),
            source: c.source.clone(),
            details: c.details.clone(),
            entity: c.entity.clone(),
            responders: c.responders.clone(),
            actions: c.actions.clone(),
            tags: c.tags.clone(),
            note: c.note.clone(),
            priority: c.priority.clone(),
            update_alerts: c.update_alerts,
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// Upstream's `opsGenieCreateMessage`, fields in upstream's order.
#[derive(Debug, Serialize)]
struct CreateMessage {
    alias: String,
    message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    details: BTreeMap<String, String>,
    source: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    responders: Vec<Responder>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    note: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    priority: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    entity: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    actions: Vec<String>,
}

#[derive(Debug, Default, PartialEq, Serialize)]
struct Responder {
    #[serde(skip_serializing_if = "String::is_empty")]
    id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    username: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Serialize)]
struct CloseMessage {
    source: String,
}

#[derive(Debug, Serialize)]
struct UpdateMessage {
    #[serde(skip_serializing_if = "String::is_empty")]
    message: String,
}

#[derive(Debug, Serialize)]
struct UpdateDescription {
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
}

/// One request of a notification, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct OpsGenieRequest {
    /// `POST` or `PUT`.
    pub method: &'static str,
    pub url: String,
    pub body: Vec<u8>,
}

/// Upstream's `safeSplit`: the text trimmed, split on `sep`, empty parts dropped (parts are not trimmed).
fn safe_split(s: &str, sep: char) -> Vec<String> {
    s.trim().split(sep).filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

/// One OpsGenie integration.
#[derive(Debug)]
pub struct OpsGenie {
    settings: OpsGenieSettings,
    client: HttpClient,
    template: Arc<Template>,
}

impl OpsGenie {
    pub fn new(settings: OpsGenieSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &OpsGenieConfig, template: Arc<Template>) -> Self {
        Self::new(OpsGenieSettings::from_config(c), template)
    }

    fn url(&self, suffix: &str, query: Option<(&str, &str)>) -> Result<String, NotifyError> {
        incident::join_url(&self.settings.api_url, suffix, query)
            .ok_or_else(|| incident::permanent("invalid OpsGenie api_url".to_owned()))
    }

    /// The requests of one notification, in sending order, and the rendered `GenieKey`; `key` is the API key
    /// as read (not templated). Public for golden tests, which compare them without a network.
    pub fn render(
        &self,
        ctx: &NotifyCtx,
        alerts: &[Arc<Alert>],
        key: &str,
    ) -> Result<(Vec<OpsGenieRequest>, String), NotifyError> {
        let s = &self.settings;
        let data = incident::data(ctx, alerts);
        let mut t = Tmpl::new(&self.template, &data);
        let mut details = data.common_labels.clone();
        for (k, v) in &s.details {
            details.insert(k.clone(), t.text(v));
        }
        let alias = incident::group_key_hash(&ctx.group_key);
        let mut requests = Vec::new();
        if data.status == "resolved" {
            let url = self.url(&format!("v2/alerts/{alias}/close"), Some(("identifierType", "alias")))?;
            let body = encode(&CloseMessage { source: t.text(&s.source) })?;
            requests.push(OpsGenieRequest { method: "POST", url, body });
        } else {
            let (message, cut) = crate::chatpost::truncate_in_runes(&t.text(&s.message), MAX_MESSAGE_RUNES);
            if cut {
                tracing::warn!(receiver = %ctx.receiver, max_runes = MAX_MESSAGE_RUNES, "truncated OpsGenie message");
            }
            let mut responders = Vec::new();
            for r in &s.responders {
                let responder = Responder {
                    id: t.text(&r.id),
                    name: t.text(&r.name),
                    username: t.text(&r.username),
                    kind: t.text(&r.kind),
                };
                if responder == Responder::default() {
                    // Empty after templating: lets responders come from labels that may be missing.
                    continue;
                }
                if responder.kind == "teams" {
                    for team in safe_split(&responder.name, ',') {
                        responders.push(Responder {
                            name: t.text(&team),
                            kind: "team".to_owned(),
                            ..Responder::default()
                        });
                    }
                    continue;
                }
                responders.push(responder);
            }
            let msg = CreateMessage {
                alias: alias.clone(),
                message,
                description: t.text(&s.description),
                details,
                source: t.text(&s.source),
                responders,
                tags: safe_split(&t.text(&s.tags), ','),
                note: t.text(&s.note),
                priority: t.text(&s.priority),
                entity: t.text(&s.entity),
                actions: safe_split(&t.text(&s.actions), ','),
            };
            let body = encode(&msg)?;
            requests.push(OpsGenieRequest { method: "POST", url: self.url("v2/alerts", None)?, body });
            if s.update_alerts {
                let q = Some(("identifierType", "alias"));
                let url = self.url(&format!("v2/alerts/{alias}/message"), q)?;
                let body = encode(&UpdateMessage { message: msg.message })?;
                requests.push(OpsGenieRequest { method: "PUT", url, body });
                let url = self.url(&format!("v2/alerts/{alias}/description"), q)?;
                let body = encode(&UpdateDescription { description: msg.description })?;
                requests.push(OpsGenieRequest { method: "PUT", url, body });
            }
        }
        let key = t.text(key);
        t.check("templating error", Retry::No)?;
        Ok((requests, key.trim().to_owned()))
    }
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, NotifyError> {
    gojson::encode(v).map_err(|e| incident::permanent(format!("failed to encode OpsGenie message: {e}")))
}

#[async_trait]
impl Notifier for OpsGenie {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let key = incident::read_key(self.settings.api_key.as_ref(), "read key_file error").await?;
        let (requests, genie_key) = match self.render(ctx, alerts, &key) {
            Ok(r) => r,
            Err(e) => return crate::classify::finish(Err(e), ctx, NAME, &[&key]),
        };
        let auth = format!("GenieKey {genie_key}");
        let result = async {
            for r in requests {
                let method = if r.method == "PUT" { Method::Put } else { Method::Post };
                let request = Request {
                    method,
                    url: &r.url,
                    auth: Authorization::Header(&auth),
                    retrier: &RETRIER,
                    context: None,
                    secrets: &[&key, &genie_key],
                };
                incident::send(&self.client, request, r.body).await?;
            }
            Ok(())
        }
        .await;
        crate::classify::finish(result, ctx, NAME, &[&key, &genie_key])
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_split_keeps_inner_spaces() {
        assert_eq!(safe_split(" a, b ,,node,", ','), ["a", " b ", "node"]);
        assert!(safe_split("  ", ',').is_empty());
    }
}
