//! `opsgenie_configs` against requests captured from Alertmanager 0.25 (`tests/golden_opsgenie/`, see its
//! README): create with defaults and with every field, `update_alerts` (create, then PUT message and
//! description), close on resolve; methods, paths, query strings, `GenieKey` and bodies. Plus retries.
#![allow(clippy::unwrap_used)]

mod common;

use common::incident::{self as fixture, alerts, assert_same, body, ctx, Phase};
use common::server::{response, Server};
use std::sync::Arc;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::opsgenie::{OpsGenie, OpsGenieSettings};
use tocsin_receivers::SecretSource;

const KIND: &str = "opsgenie";

/// (receiver, key, phase, fixture tags in sending order).
fn cases() -> Vec<(&'static str, &'static str, Phase, Vec<&'static str>)> {
    vec![
        ("og-defaults", "global-genie-key", Phase::Firing, vec!["og-defaults_v2_alerts"]),
        ("og-defaults", "global-genie-key", Phase::Resolved, vec!["og-defaults_v2_alerts_alias_close"]),
        ("og-full", "full-genie-key", Phase::Firing, vec!["og-full_v2_alerts"]),
        ("og-full", "full-genie-key", Phase::Resolved, vec!["og-full_v2_alerts_alias_close"]),
        (
            "og-update",
            "update-genie-key",
            Phase::Firing,
            vec![
                "og-update_v2_alerts",
                "put_og-update_v2_alerts_alias_message",
                "put_og-update_v2_alerts_alias_description",
            ],
        ),
        ("og-update", "update-genie-key", Phase::Resolved, vec!["og-update_v2_alerts_alias_close"]),
    ]
}

/// The captured request line (`METHOD /path?query`).
fn want_line(tag: &str, phase: Phase) -> String {
    fixture::headers(KIND, tag, phase)[0].clone()
}

#[test]
fn requests_match_alertmanager() {
    let sink = "127.0.0.1:9";
    let cfg = fixture::config(KIND, sink);
    for (name, key, phase, tags) in cases() {
        let og =
            OpsGenie::from_config(&fixture::receiver(&cfg, name).opsgenie_configs[0], fixture::template());
        let (requests, genie) = og.render(&ctx(name), &alerts(KIND, phase), key).unwrap();
        assert_eq!(genie, key);
        assert_eq!(requests.len(), tags.len(), "{name} {}", phase.name());
        for (r, tag) in requests.iter().zip(tags) {
            let line = format!("{} {}", r.method, r.url.strip_prefix(&format!("http://{sink}")).unwrap());
            assert_eq!(line, want_line(tag, phase), "{name}");
            assert_same(&format!("{name} {tag}"), &r.body, &body(KIND, tag, phase));
        }
    }
}

/// The same requests through the client, built by `build` from the config, as OpsGenie gets them.
#[tokio::test]
async fn sent_requests_match_alertmanager() {
    common::install_crypto();
    let server = Server::start(None, Arc::new(|_: &str| response(202, "", b"{}"))).await;
    let cfg = fixture::config(KIND, &format!("127.0.0.1:{}", server.port));
    let clock: tocsin_model::clock::SharedClock = Arc::new(tocsin_model::clock::SystemClock);
    for (name, _, phase, tags) in cases() {
        let built = tocsin_receivers::build(fixture::receiver(&cfg, name), &fixture::template(), &clock);
        assert_eq!((built[0].kind, built[0].index), ("opsgenie", 0));
        built[0].notifier.notify(&ctx(name), &alerts(KIND, phase)).await.unwrap();
        let seen: Vec<_> = server.seen.lock().await.drain(..).collect();
        assert_eq!(seen.len(), tags.len(), "{name}");
        for (s, tag) in seen.iter().zip(tags) {
            assert_eq!(fixture::request_line(&s.head), want_line(tag, phase), "{name}");
            for h in ["authorization", "content-type"] {
                assert_eq!(
                    fixture::head_header(&s.head, h),
                    fixture::header(KIND, tag, phase, h),
                    "{name} {h}"
                );
            }
            assert_same(&format!("{name} {tag}"), &s.body, &body(KIND, tag, phase));
        }
    }
}

fn settings(url: String) -> OpsGenieSettings {
    let cfg = fixture::config(KIND, "127.0.0.1:9");
    let mut s = OpsGenieSettings::from_config(&fixture::receiver(&cfg, "og-update").opsgenie_configs[0]);
    s.api_url = url;
    s.api_key = Some(SecretSource::Inline("secret-genie-key".into()));
    s
}

#[tokio::test]
async fn retries_as_upstream_and_stops_at_the_first_failure() {
    common::install_crypto();
    struct Case {
        name: &'static str,
        status: u16,
        want: Option<(Retry, FailureReason, &'static str)>,
    }
    let cases = [
        Case { name: "202", status: 202, want: None },
        Case {
            name: "429",
            status: 429,
            want: Some((Retry::Yes, FailureReason::ClientError, "unexpected status code 429: busy")),
        },
        Case {
            name: "422",
            status: 422,
            want: Some((Retry::No, FailureReason::ClientError, "unexpected status code 422: busy")),
        },
        Case {
            name: "503",
            status: 503,
            want: Some((Retry::Yes, FailureReason::ServerError, "unexpected status code 503: busy")),
        },
    ];
    for c in cases {
        let status = c.status;
        let server = Server::start(None, Arc::new(move |_: &str| response(status, "", b"busy"))).await;
        let og = OpsGenie::new(settings(format!("http://127.0.0.1:{}/", server.port)), fixture::template());
        let got = og.notify(&ctx("r"), &alerts(KIND, Phase::Firing)).await;
        let got = got.err().map(|e| (e.retry, e.reason, e.message));
        assert_eq!(got, c.want.map(|(r, f, m)| (r, f, m.to_owned())), "{}", c.name);
        // update_alerts sends three requests, but none after a failure.
        let want_requests = if c.status == 202 { 3 } else { 1 };
        assert_eq!(server.seen.lock().await.len(), want_requests, "{}", c.name);
    }
}

#[tokio::test]
async fn key_file_is_templated_and_trimmed_and_never_leaks() {
    common::install_crypto();
    let server =
        Server::start(None, Arc::new(|_: &str| response(401, "", b"bad key secret-genie-key"))).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, "secret-genie-key\n").unwrap();
    let mut s = settings(format!("http://127.0.0.1:{}/", server.port));
    s.api_key = Some(SecretSource::File(path));
    s.update_alerts = false;
    let og = OpsGenie::new(s, fixture::template());
    let e = og.notify(&ctx("r"), &alerts(KIND, Phase::Resolved)).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert_eq!(e.message, "unexpected status code 401: bad key <redacted>");
    let seen = server.seen.lock().await.pop().unwrap();
    assert_eq!(
        fixture::head_header(&seen.head, "authorization").as_deref(),
        Some("GenieKey secret-genie-key")
    );
}

#[test]
fn template_errors_are_permanent() {
    let mut s = settings("http://127.0.0.1:9/".into());
    s.note = "{{ .Nope.Deeper }}".into();
    let e = OpsGenie::new(s, fixture::template())
        .render(&ctx("r"), &alerts(KIND, Phase::Firing), "k")
        .unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.starts_with("templating error: "), "{}", e.message);
}

/// A key echoed across the 1 KiB cut of the answer is redacted before the cut; what the read left of a key at
/// its limit is dropped once earlier redactions pull it under the cut.
#[tokio::test]
async fn key_echoed_across_the_body_cut_never_leaks() {
    common::install_crypto();
    let key = "secret-genie-key"; // 16 bytes: the read stops at 1024 + 16
    let x = |n: usize| "x".repeat(n);
    for (body, want_end) in [
        (format!("{}{key} and more", x(1024 - 6)), "x<redac"),
        (format!("{}{key} and more", x(1024 - 40)), "x<redacted> and more"),
        // 3 keys shrink by 18 bytes: the 9 bytes of the fourth key read before the limit end up under the cut.
        (format!("{}{}{key} and more", key.repeat(3), x(1040 - 48 - 9)), "x"),
    ] {
        let server = Server::start(None, Arc::new(move |_: &str| response(400, "", body.as_bytes()))).await;
        let mut s = settings(format!("http://127.0.0.1:{}/", server.port));
        s.update_alerts = false;
        let e = OpsGenie::new(s, fixture::template()).notify(&ctx("r"), &alerts(KIND, Phase::Resolved)).await;
        let e = e.unwrap_err();
        assert!(e.message.ends_with(want_end), "{want_end}: {}", e.message);
        assert!(!e.message.contains("xsecr"), "{want_end}: {}", e.message);
        assert!(e.message.len() <= "unexpected status code 400: ".len() + 1024, "{want_end}");
    }
}
