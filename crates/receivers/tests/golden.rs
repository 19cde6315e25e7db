//! Golden test: the webhook body tocsin sends equals, byte for byte, the body Alertmanager 0.25 sent for the same
//! alerts and config. The fixtures in `tests/golden/` were captured from `/usr/bin/prometheus-alertmanager` by
//! `tests/golden/capture.sh` (see `tests/golden/README.md`): it runs Alertmanager with two webhook receivers
//! (one plain, one with `max_alerts: 2`), posts `alerts.json`, and stores the request bodies a Python sink got.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use std::sync::Arc;
use tocsin_model::time::parse_rfc3339;
use tocsin_model::{Alert, LabelSet};
use tocsin_pipeline::notifier::{Notifier, NotifyCtx};
use tocsin_receivers::webhook::payload;
use tocsin_receivers::{Webhook, WebhookSettings};

const ALERTS: &str = include_str!("golden/alerts.json");
const FULL: &[u8] = include_bytes!("golden/full.json");
const TRUNCATED: &[u8] = include_bytes!("golden/truncated.json");

fn labels(v: &serde_json::Value) -> LabelSet {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect())
        .unwrap_or_default()
}

/// The alerts of `alerts.json` as Alertmanager stored them (in the order its flush sorted them, which is the
/// file order: by `job`, then `instance`).
fn alerts() -> Vec<Arc<Alert>> {
    let raw: Vec<serde_json::Value> = serde_json::from_str(ALERTS).unwrap();
    raw.iter()
        .map(|a| {
            let t = |k: &str| parse_rfc3339(a[k].as_str().unwrap()).unwrap();
            Arc::new(Alert {
                labels: labels(&a["labels"]),
                annotations: labels(&a["annotations"]),
                starts_at: t("startsAt"),
                ends_at: t("endsAt"),
                generator_url: a["generatorURL"].as_str().unwrap_or("").into(),
                updated_at: t("startsAt"),
                timeout: false,
            })
        })
        .collect()
}

/// The context of the capture: `--web.external-url=http://am.example:9093/prefix`, `group_by: [alertname]`,
/// flushed after the resolved alert's end and long before the firing ones' `endsAt` (2099).
fn ctx(receiver: &str, group_key: &str) -> NotifyCtx {
    NotifyCtx {
        receiver: receiver.to_owned(),
        group_key: group_key.to_owned(),
        group_labels: [("alertname", "Golden")].into_iter().collect(),
        repeat_interval: std::time::Duration::from_secs(4 * 3600),
        now: common::now(),
        external_url: "http://am.example:9093/prefix".to_owned(),
    }
}

fn full_ctx() -> NotifyCtx {
    ctx("golden-hook.v1+", "{}/{}:{alertname=\"Golden\"}")
}

fn truncated_ctx() -> NotifyCtx {
    ctx("truncating", "{}/{alertname=\"Golden\"}:{alertname=\"Golden\"}")
}

fn assert_same(got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "body differs from Alertmanager 0.25's\n got: {}\nwant: {}",
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(want)
    );
}

#[test]
fn payload_matches_alertmanager() {
    let alerts = alerts();
    let got = payload::render(&full_ctx(), &alerts, 0).unwrap();
    assert_same(&got, FULL);
}

#[test]
fn truncated_payload_matches_alertmanager() {
    let alerts = alerts();
    let (kept, dropped) = payload::truncate(2, &alerts);
    let got = payload::render(&truncated_ctx(), kept, dropped).unwrap();
    assert_same(&got, TRUNCATED);
}

/// The same bodies, as they arrive at a receiver through the real client.
#[tokio::test]
async fn sent_bodies_match_alertmanager() {
    common::install_crypto();
    let sink = tocsin_testkit::Sink::start().await;
    let full = Webhook::new(WebhookSettings::new(sink.url("/full")));
    let truncating =
        Webhook::new(WebhookSettings { max_alerts: 2, ..WebhookSettings::new(sink.url("/truncated")) });
    let alerts = alerts();
    full.notify(&full_ctx(), &alerts).await.unwrap();
    truncating.notify(&truncated_ctx(), &alerts).await.unwrap();
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 2);
    assert_same(&reqs[0].body, FULL);
    assert_same(&reqs[1].body, TRUNCATED);
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
    assert_eq!(reqs[0].header("user-agent"), Some(tocsin_receivers::USER_AGENT));
}
