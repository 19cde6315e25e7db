//! `pagerduty_configs` against requests captured from Alertmanager 0.25 (`tests/golden_pagerduty/`, see its
//! README): Events API v2 with defaults, with every field, over the size limits, and Events API v1; firing and
//! resolved. Plus retry classification per API version, key files and template errors.
#![allow(clippy::unwrap_used)]

mod common;

use common::incident::{self as fixture, alerts, assert_same, body, ctx, Phase};
use common::server::{response, Server};
use std::sync::Arc;
use tocsin_pipeline::notifier::{FailureReason, Retry};
use tocsin_receivers::pagerduty::{Pagerduty, PagerdutyKey, PagerdutySettings};
use tocsin_receivers::SecretSource;

const KIND: &str = "pagerduty";
const PHASES: [Phase; 2] = [Phase::Firing, Phase::Resolved];

/// (receiver, fixture tag, key).
const CASES: [(&str, &str, &str); 4] = [
    ("pd-defaults", "v2_defaults", "rk-defaults"),
    ("pd-full", "v2_full", "rk-{{ .GroupLabels.alertname }}"),
    ("pd-limits", "v2_limits", "rk-limits"),
    ("pd-v1", "generic_2010-04-15_create_event", "sk-v1"),
];

fn notifier(cfg: &tocsin_config::Config, name: &str) -> Pagerduty {
    Pagerduty::from_config(&fixture::receiver(cfg, name).pagerduty_configs[0], fixture::template())
}

#[test]
fn events_match_alertmanager() {
    let cfg = fixture::config(KIND, "127.0.0.1:9");
    for (name, tag, key) in CASES {
        for phase in PHASES {
            let got = notifier(&cfg, name).render(&ctx(name), &alerts(KIND, phase), key).unwrap();
            assert_same(&format!("{name} {}", phase.name()), &got, &body(KIND, tag, phase));
        }
    }
}

/// The same events through the client, built by `build` from the config, as the receiver gets them.
#[tokio::test]
async fn sent_events_match_alertmanager() {
    common::install_crypto();
    let server = Server::start(None, Arc::new(|_: &str| response(202, "", b"{}"))).await;
    let cfg = fixture::config(KIND, &format!("127.0.0.1:{}", server.port));
    let clock: tocsin_model::clock::SharedClock = Arc::new(tocsin_model::clock::SystemClock);
    for (name, tag, _) in &CASES[..3] {
        let built = tocsin_receivers::build(fixture::receiver(&cfg, name), &fixture::template(), &clock);
        assert_eq!((built[0].kind, built[0].index), ("pagerduty", 0));
        for phase in PHASES {
            built[0].notifier.notify(&ctx(name), &alerts(KIND, phase)).await.unwrap();
            let seen = server.seen.lock().await.pop().unwrap();
            let want_line = fixture::headers(KIND, tag, phase)[0].clone();
            assert_eq!(fixture::request_line(&seen.head), want_line, "{name}");
            assert_eq!(fixture::head_header(&seen.head, "content-type").as_deref(), Some("application/json"));
            assert_same(name, &seen.body, &body(KIND, tag, phase));
        }
    }
    // v1 goes to a fixed endpoint; point it at the server.
    let mut settings = PagerdutySettings::from_config(&fixture::receiver(&cfg, "pd-v1").pagerduty_configs[0]);
    settings.http = Default::default();
    settings.url_v1 = format!("http://127.0.0.1:{}/generic/2010-04-15/create_event.json", server.port);
    let v1 = Pagerduty::new(settings, fixture::template());
    for phase in PHASES {
        tocsin_pipeline::notifier::Notifier::notify(&v1, &ctx("pd-v1"), &alerts(KIND, phase)).await.unwrap();
        let seen = server.seen.lock().await.pop().unwrap();
        assert_eq!(fixture::request_line(&seen.head), "POST /generic/2010-04-15/create_event.json");
        assert_same("pd-v1", &seen.body, &body(KIND, CASES[3].1, phase));
    }
}

fn settings(key: PagerdutyKey, url: String) -> PagerdutySettings {
    let cfg = fixture::config(KIND, "127.0.0.1:9");
    let mut s = PagerdutySettings::from_config(&fixture::receiver(&cfg, "pd-defaults").pagerduty_configs[0]);
    s.key = key;
    s.url = url.clone();
    s.url_v1 = url;
    s
}

#[tokio::test]
async fn retries_as_upstream() {
    common::install_crypto();
    struct Case {
        name: &'static str,
        v1: bool,
        status: u16,
        body: &'static str,
        want: Option<(Retry, FailureReason, &'static str)>,
    }
    let bad = r#"{"status":"invalid event","message":"Event object is invalid","errors":["bad key"]}"#;
    let cases = [
        Case { name: "v2 202", v1: false, status: 202, body: "", want: None },
        Case {
            name: "v2 429",
            v1: false,
            status: 429,
            body: "slow down",
            want: Some((Retry::Yes, FailureReason::ClientError, "unexpected status code 429")),
        },
        Case {
            name: "v2 403",
            v1: false,
            status: 403,
            body: "",
            want: Some((Retry::No, FailureReason::ClientError, "unexpected status code 403")),
        },
        Case {
            name: "v2 400 details",
            v1: false,
            status: 400,
            body: bad,
            want: Some((
                Retry::No,
                FailureReason::ClientError,
                "unexpected status code 400: Event object is invalid: bad key",
            )),
        },
        Case {
            name: "v2 502",
            v1: false,
            status: 502,
            body: "",
            want: Some((Retry::Yes, FailureReason::ServerError, "unexpected status code 502")),
        },
        Case {
            name: "v1 403",
            v1: true,
            status: 403,
            body: "",
            want: Some((Retry::Yes, FailureReason::ClientError, "unexpected status code 403")),
        },
        Case {
            name: "v1 429",
            v1: true,
            status: 429,
            body: "",
            want: Some((Retry::No, FailureReason::ClientError, "unexpected status code 429")),
        },
        Case {
            name: "v1 500",
            v1: true,
            status: 500,
            body: "",
            want: Some((Retry::Yes, FailureReason::ServerError, "unexpected status code 500")),
        },
    ];
    for c in cases {
        let (status, resp_body) = (c.status, c.body);
        let server =
            Server::start(None, Arc::new(move |_: &str| response(status, "", resp_body.as_bytes()))).await;
        let url = format!("http://127.0.0.1:{}/enqueue", server.port);
        let key = SecretSource::Inline("secret-integration-key".into());
        let key = if c.v1 { PagerdutyKey::Service(key) } else { PagerdutyKey::Routing(key) };
        let pd = Pagerduty::new(settings(key, url), fixture::template());
        let got =
            tocsin_pipeline::notifier::Notifier::notify(&pd, &ctx("r"), &alerts(KIND, Phase::Firing)).await;
        let got = got.err().map(|e| (e.retry, e.reason, e.message));
        let want = c.want.map(|(r, f, m)| (r, f, m.to_owned()));
        assert_eq!(got, want, "{}", c.name);
    }
}

#[tokio::test]
async fn transport_errors_are_retried_without_secrets() {
    common::install_crypto();
    let url = "http://127.0.0.1:1/secret-path".to_owned();
    let pd = Pagerduty::new(
        settings(PagerdutyKey::Routing(SecretSource::Inline("secret-integration-key".into())), url),
        fixture::template(),
    );
    let e = tocsin_pipeline::notifier::Notifier::notify(&pd, &ctx("r"), &alerts(KIND, Phase::Firing))
        .await
        .unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
    assert!(
        e.message.starts_with("failed to post message to PagerDuty: Post \"<redacted>\""),
        "{}",
        e.message
    );
    assert!(!e.message.contains("secret"), "{}", e.message);
}

#[tokio::test]
async fn key_files_are_read_at_send_time() {
    common::install_crypto();
    let server = Server::start(None, Arc::new(|_: &str| response(202, "", b""))).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, "  rk-from-file\n").unwrap();
    let url = format!("http://127.0.0.1:{}/enqueue", server.port);
    let pd = Pagerduty::new(
        settings(PagerdutyKey::Routing(SecretSource::File(path.clone())), url),
        fixture::template(),
    );
    tocsin_pipeline::notifier::Notifier::notify(&pd, &ctx("r"), &alerts(KIND, Phase::Firing)).await.unwrap();
    let seen = server.seen.lock().await.pop().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(v["routing_key"], "rk-from-file");
    std::fs::remove_file(&path).unwrap();
    let e = tocsin_pipeline::notifier::Notifier::notify(&pd, &ctx("r"), &alerts(KIND, Phase::Firing))
        .await
        .unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.starts_with("failed to read routing key from file: open "), "{}", e.message);
}

#[test]
fn template_errors_and_empty_keys_are_permanent() {
    let base =
        settings(PagerdutyKey::Routing(SecretSource::Inline("k".into())), "http://127.0.0.1:9/".into());
    let render = |s: PagerdutySettings, key: &str| {
        Pagerduty::new(s, fixture::template())
            .render(&ctx("r"), &alerts(KIND, Phase::Firing), key)
            .unwrap_err()
    };
    let e = render(PagerdutySettings { class: "{{ .Nope.Deeper }}".into(), ..base.clone() }, "k");
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.starts_with("failed to template PagerDuty v2 message: "), "{}", e.message);
    let mut s = base.clone();
    s.details.insert("bad".into(), "{{ template \"missing\" . }}".into());
    let e = render(s, "k");
    assert!(
        e.message.starts_with("\"bad\": failed to template \"{{ template \\\"missing\\\" . }}\""),
        "{}",
        e.message
    );
    let e = render(base.clone(), "{{ if false }}x{{ end }}");
    assert_eq!(e.message, "routing key cannot be empty");
    let v1 = PagerdutySettings { key: PagerdutyKey::Service(SecretSource::Inline(String::new())), ..base };
    assert_eq!(render(v1, "").message, "service key cannot be empty");
}

#[test]
fn huge_texts_do_not_panic() {
    let s = settings(PagerdutyKey::Routing(SecretSource::Inline("k".into())), "http://127.0.0.1:9/".into());
    let s = PagerdutySettings { description: "🚨".repeat(5000), ..s };
    let body =
        Pagerduty::new(s, fixture::template()).render(&ctx("r"), &alerts(KIND, Phase::Firing), "k").unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let summary = v["payload"]["summary"].as_str().unwrap();
    assert_eq!(summary.chars().count(), 1024);
    assert!(summary.ends_with("🚨…"));
}
