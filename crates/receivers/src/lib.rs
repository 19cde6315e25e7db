//! The integrations that deliver notifications (Alertmanager's `notify/*` packages): one module per integration
//! type, the HTTP client they share (prometheus/common `http_config`), upstream's retry classification, and
//! [`build`], the one linear function that turns a receiver's config into its [`Integration`]s.
//!
//! In the flow: `pipeline` decides *when* and *what* to send and calls [`tocsin_pipeline::notifier::Notifier`];
//! this crate decides *how* it looks on the wire. Nothing here retries: the pipeline's retry stage does, guided by
//! [`tocsin_pipeline::notifier::Retry`].

pub mod chatpost;
pub mod classify;
pub mod conformance;
pub mod dingtalk;
pub mod discord;
pub mod email;
pub mod feishu;
mod from_config;
pub mod gojson;
pub mod http;
pub mod incident;
pub mod integrations;
pub mod jira;
pub mod msteams;
pub mod msteamsv2;
pub mod oauth2;
pub mod opsgenie;
pub mod pagerduty;
pub mod pushover;
pub mod ratelimit;
pub mod rocketchat;
pub mod slack;
pub mod sns;
pub mod telegram;
pub mod tls;
pub mod victorops;
pub mod webex;
pub mod webhook;
pub mod wechat;
pub mod wecom;

pub use http::{Auth, HttpClient, HttpClientSettings, HttpError, SecretSource, USER_AGENT};
pub use integrations::{build, Integration};
pub use tls::{PemSource, TlsSettings, TlsVersion};
pub use webhook::{Webhook, WebhookSettings};
