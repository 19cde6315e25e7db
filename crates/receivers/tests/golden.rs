//! Golden test: the webhook body tocsin sends equals, byte for byte, the body Alertmanager 0.25 sent for the same
//! alerts and config. The fixtures in `tests/golden/` were captured from `/usr/bin/prometheus-alertmanager` by
//! `tests/golden/capture.sh` (see `tests/golden/README.md`): it runs Alertmanager with two webhook receivers
//! (one plain, one with `max_alerts: 2`), posts `alerts.json`, and stores the request bodies a Python sink got.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use common::golden::{self, alerts, assert_same};
use tocsin_pipeline::notifier::{Notifier, NotifyCtx};
use tocsin_receivers::webhook::payload;
use tocsin_receivers::{Webhook, WebhookSettings};

const FULL: &[u8] = include_bytes!("golden/full.json");
const TRUNCATED: &[u8] = include_bytes!("golden/truncated.json");

fn full_ctx() -> NotifyCtx {
    golden::ctx_with("golden-hook.v1+", "{}/{}:{alertname=\"Golden\"}", "Golden")
}

fn truncated_ctx() -> NotifyCtx {
    golden::ctx_with("truncating", "{}/{alertname=\"Golden\"}:{alertname=\"Golden\"}", "Golden")
}

#[test]
fn payload_matches_alertmanager() {
    let alerts = alerts();
    let got = payload::render(&full_ctx(), &alerts, 0).unwrap();
    assert_same("body", &got, FULL);
}

#[test]
fn truncated_payload_matches_alertmanager() {
    let alerts = alerts();
    let (kept, dropped) = payload::truncate(2, &alerts);
    let got = payload::render(&truncated_ctx(), kept, dropped).unwrap();
    assert_same("body", &got, TRUNCATED);
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
    assert_same("body", &reqs[0].body, FULL);
    assert_same("body", &reqs[1].body, TRUNCATED);
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
    assert_eq!(reqs[0].header("user-agent"), Some(tocsin_receivers::USER_AGENT));
}
