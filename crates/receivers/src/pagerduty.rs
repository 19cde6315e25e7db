//! `pagerduty_configs` (`notify/pagerduty` upstream). With `routing_key` one Events API v2 event per
//! notification (`event_action` trigger or resolve) is POSTed to `url`; with `service_key` an Events API v1
//! event (`event_type`) goes to the fixed v1 endpoint. Both carry the SHA-256 of the group key as the
//! deduplication key, so PagerDuty resolves the incident the trigger opened.
//!
//! Limits as upstream: summary (v2) and description (v1) at most 1024 runes; an event over 512000 bytes is
//! sent with its details replaced by an explanation. Retries: 5xx, plus 403 (v1) or 429 (v2).

use crate::gojson;
use crate::http::{HttpClient, HttpClientSettings, SecretSource};
use crate::incident::{self, Authorization, Method, Request, Retrier, Tmpl};
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tocsin_config::integrations::pagerduty::{PagerdutyImage, PagerdutyLink};
use tocsin_config::PagerdutyConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError, Retry};
use tocsin_template::Template;

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "pagerduty";

/// Upstream's fixed Events API v1 endpoint.
pub const EVENTS_V1_URL: &str = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";

/// The largest event PagerDuty accepts, in bytes.
pub const MAX_EVENT_SIZE: usize = 512_000;

/// Summary (v2) and description (v1) limit, in runes.
pub const MAX_SUMMARY_RUNES: usize = 1024;

/// The detail that replaces all others in an oversized event (`units.MetricBytes(512000)` is `512KB`).
pub const TRUNCATED_DETAILS: &str =
    "Custom details have been removed because the original event exceeds the maximum size of 512KB";

const V1_RETRIER: Retrier = Retrier { codes: &[403], details: Some(error_details) };
const V2_RETRIER: Retrier = Retrier { codes: &[429], details: Some(error_details) };

/// Which Events API, with its key.
#[derive(Debug, Clone, PartialEq)]
pub enum PagerdutyKey {
    /// Events API v2 (`routing_key` or `routing_key_file`).
    Routing(SecretSource),
    /// Events API v1 (`service_key` or `service_key_file`).
    Service(SecretSource),
}

/// What a PagerDuty integration needs, independent of how the config file spells it. Text fields are templates.
#[derive(Debug, Clone, PartialEq)]
pub struct PagerdutySettings {
    pub key: PagerdutyKey,
    /// The v2 endpoint (`url`, default the global `pagerduty_url`).
    pub url: String,
    /// The v1 endpoint: [`EVENTS_V1_URL`] (upstream offers no setting; tests point it elsewhere).
    pub url_v1: String,
    pub client: String,
    pub client_url: String,
    pub description: String,
    /// With upstream's defaults (`firing`, `resolved`, `num_firing`, `num_resolved`) already merged in.
    pub details: BTreeMap<String, String>,
    pub images: Vec<PagerdutyImage>,
    pub links: Vec<PagerdutyLink>,
    /// Empty: `client`.
    pub source: String,
    /// Empty: `error`.
    pub severity: String,
    pub class: String,
    pub component: String,
    pub group: String,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

impl PagerdutySettings {
    pub fn from_config(c: &PagerdutyConfig) -> Self {
        let key = match crate::dingtalk::secret_source(c.service_key.expose(), &c.service_key_file) {
            Some(service) => PagerdutyKey::Service(service),
            None => PagerdutyKey::Routing(
                crate::dingtalk::secret_source(c.routing_key.expose(), &c.routing_key_file)
                    .unwrap_or(SecretSource::Inline(String::new())),
            ),
        };
        Self {
            key,
            url: c.url.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default(),
            url_v1: EVENTS_V1_URL.to_owned(),
            client: c.client.clone(),
            client_url: c.client_url.clone(),
            description: c.description.clone(),
            details: c.details.clone(),
            images: c.images.clone(),
            links: c.links.clone(),
            source: c.source.clone(),
            severity: c.severity.clone(),
            class: c.class.clone(),
            component: c.component.clone(),
            group: c.group.clone(),
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// Upstream's `pagerDutyMessage`: one struct for both API versions, fields in upstream's order.
#[derive(Debug, Serialize)]
struct Message {
    #[serde(skip_serializing_if = "String::is_empty")]
    routing_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    service_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    dedup_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    incident_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    event_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    event_action: String,
    payload: Option<Payload>,
    #[serde(skip_serializing_if = "String::is_empty")]
    client: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    client_url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    details: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<Image>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<Link>,
}

#[derive(Debug, Serialize)]
struct Payload {
    summary: String,
    source: String,
    severity: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    class: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    component: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    group: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    custom_details: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
struct Image {
    src: String,
    alt: String,
    href: String,
}

#[derive(Debug, Serialize)]
struct Link {
    href: String,
    text: String,
}

/// One PagerDuty integration.
#[derive(Debug)]
pub struct Pagerduty {
    settings: PagerdutySettings,
    client: HttpClient,
    template: Arc<Template>,
}

impl Pagerduty {
    pub fn new(settings: PagerdutySettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &PagerdutyConfig, template: Arc<Template>) -> Self {
        Self::new(PagerdutySettings::from_config(c), template)
    }

    /// The encoded event and the URL it goes to; `key` is the routing or service key as read (not templated).
    /// Public for golden tests, which compare the bytes without a network.
    pub fn render(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>], key: &str) -> Result<Vec<u8>, NotifyError> {
        let s = &self.settings;
        let data = incident::data(ctx, alerts);
        let resolved = data.status == "resolved";
        let dedup = incident::group_key_hash(&ctx.group_key);
        let mut details = BTreeMap::new();
        for (k, v) in &s.details {
            let detail = self
                .template
                .render_shared(v, &data)
                .map_err(|e| incident::permanent(format!("{k:?}: failed to template {v:?}: {e}")))?;
            details.insert(k.clone(), detail);
        }
        let mut t = Tmpl::new(&self.template, &data);
        let v1 = matches!(s.key, PagerdutyKey::Service(_));
        let (text, cut) = crate::chatpost::truncate_in_runes(&t.text(&s.description), MAX_SUMMARY_RUNES);
        if cut {
            tracing::debug!(receiver = %ctx.receiver, max_runes = MAX_SUMMARY_RUNES, "truncated PagerDuty summary");
        }
        let mut msg = if v1 {
            let event_type = if resolved { "resolve" } else { "trigger" };
            let (client, client_url) = if resolved {
                (String::new(), String::new())
            } else {
                (t.text(&s.client), t.text(&s.client_url))
            };
            Message {
                routing_key: String::new(),
                service_key: t.text(key),
                dedup_key: String::new(),
                incident_key: dedup,
                event_type: event_type.to_owned(),
                description: text,
                event_action: String::new(),
                payload: None,
                client,
                client_url,
                details,
                images: Vec::new(),
                links: Vec::new(),
            }
        } else {
            let source = if s.source.is_empty() { &s.client } else { &s.source };
            let severity = if s.severity.is_empty() { "error" } else { &s.severity };
            let client = t.text(&s.client);
            let client_url = t.text(&s.client_url);
            let routing_key = t.text(key);
            let payload = Payload {
                summary: text,
                source: t.text(source),
                severity: t.text(severity),
                custom_details: details,
                class: t.text(&s.class),
                component: t.text(&s.component),
                group: t.text(&s.group),
            };
            let mut images = Vec::new();
            for i in &s.images {
                let image = Image { src: t.text(&i.src), alt: t.text(&i.alt), href: t.text(&i.href) };
                if !image.src.is_empty() {
                    images.push(image);
                }
            }
            let mut links = Vec::new();
            for l in &s.links {
                let link = Link { href: t.text(&l.href), text: t.text(&l.text) };
                if !link.href.is_empty() {
                    links.push(link);
                }
            }
            Message {
                routing_key,
                service_key: String::new(),
                dedup_key: dedup,
                incident_key: String::new(),
                event_type: String::new(),
                description: String::new(),
                event_action: if resolved { "resolve" } else { "trigger" }.to_owned(),
                payload: Some(payload),
                client,
                client_url,
                details: BTreeMap::new(),
                images,
                links,
            }
        };
        let version = if v1 { "v1" } else { "v2" };
        t.check(&format!("failed to template PagerDuty {version} message"), Retry::No)?;
        if v1 && msg.service_key.is_empty() {
            return Err(incident::permanent("service key cannot be empty".to_owned()));
        }
        if !v1 && msg.routing_key.is_empty() {
            return Err(incident::permanent("routing key cannot be empty".to_owned()));
        }
        encode(&mut msg, ctx)
    }
}

/// Encodes as Go's `json.Encoder`; an event over [`MAX_EVENT_SIZE`] loses its details (upstream's rule).
fn encode(msg: &mut Message, ctx: &NotifyCtx) -> Result<Vec<u8>, NotifyError> {
    let enc = |m: &Message| {
        gojson::encode(m).map_err(|e| incident::permanent(format!("failed to encode PagerDuty message: {e}")))
    };
    let body = enc(msg)?;
    if body.len() <= MAX_EVENT_SIZE {
        return Ok(body);
    }
    let replacement: BTreeMap<String, String> = [("error".to_owned(), TRUNCATED_DETAILS.to_owned())].into();
    match &mut msg.payload {
        Some(p) => p.custom_details = replacement,
        None => msg.details = replacement,
    }
    tracing::warn!(receiver = %ctx.receiver, size = body.len(), limit = MAX_EVENT_SIZE, "truncated PagerDuty details: event too large");
    enc(msg)
}

/// Upstream's `errDetails`: for a 400, PagerDuty's `message: error,error`; nothing otherwise (the body of other
/// answers is not shown).
fn error_details(status: u16, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(default)]
        message: String,
        #[serde(default)]
        errors: Vec<String>,
    }
    if status != 400 {
        return String::new();
    }
    match serde_json::from_slice::<Answer>(body) {
        Ok(a) => crate::classify::bounded_text(format!("{}: {}", a.message, a.errors.join(",")).as_bytes()),
        Err(_) => String::new(),
    }
}

#[async_trait]
impl Notifier for Pagerduty {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let s = &self.settings;
        let (src, url, retrier, what, context) = match &s.key {
            PagerdutyKey::Routing(k) => (
                k,
                &s.url,
                &V2_RETRIER,
                "failed to read routing key from file",
                "failed to post message to PagerDuty",
            ),
            PagerdutyKey::Service(k) => (
                k,
                &s.url_v1,
                &V1_RETRIER,
                "failed to read service key from file",
                "failed to post message to PagerDuty v1",
            ),
        };
        let key = incident::read_key(Some(src), what).await?;
        let result = match self.render(ctx, alerts, &key) {
            Ok(body) => {
                let request = Request {
                    method: Method::Post,
                    url,
                    auth: Authorization::HttpConfig,
                    retrier,
                    context: Some(context),
                    secrets: &[&key],
                };
                incident::send(&self.client, request, body).await
            }
            Err(e) => Err(e),
        };
        crate::classify::finish(result, ctx, NAME, &[&key])
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_details_only_for_400() {
        let body = br#"{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)","x"]}"#;
        assert_eq!(
            error_details(400, body),
            "Event object is invalid: Length of 'routing_key' is incorrect (should be 32 characters),x"
        );
        assert_eq!(error_details(400, b"not json"), "");
        assert_eq!(error_details(429, body), "");
    }
}
