//! Shared test helpers: alerts, contexts, the golden captures (`golden`, `incident`) and a scripted server.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::time::parse_rfc3339;
use tocsin_model::{Alert, LabelSet};
use tocsin_pipeline::notifier::NotifyCtx;

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn now() -> DateTime<Utc> {
    parse_rfc3339("2024-06-01T00:00:00Z").unwrap().with_timezone(&Utc)
}

pub fn ctx(receiver: &str) -> NotifyCtx {
    NotifyCtx {
        receiver: receiver.to_owned(),
        group_key: "{}:{alertname=\"A\"}".to_owned(),
        group_labels: [("alertname", "A")].into_iter().collect(),
        repeat_interval: Duration::from_secs(3600),
        now: now(),
        external_url: "http://am.example:9093".to_owned(),
    }
}

/// A firing alert `alertname=A, instance=<instance>`.
pub fn firing(instance: &str) -> Arc<Alert> {
    let labels: LabelSet = [("alertname", "A"), ("instance", instance)].into_iter().collect();
    Arc::new(Alert {
        labels,
        annotations: Default::default(),
        starts_at: parse_rfc3339("2024-05-31T23:00:00Z").unwrap(),
        ends_at: parse_rfc3339("2099-01-01T00:00:00Z").unwrap(),
        generator_url: "".into(),
        updated_at: parse_rfc3339("2024-05-31T23:00:00Z").unwrap().to_utc(),
        timeout: false,
    })
}

pub mod golden;
pub mod incident;
pub mod server;
