//! `victorops_configs` against requests captured from Alertmanager 0.25 (`tests/golden_victorops/`, see its
//! README): defaults, every field (templated routing key and message type, custom fields, a `state_message`
//! over the 20480-rune limit), an unknown message type; firing and resolved (`RECOVERY`). Plus retries.
#![allow(clippy::unwrap_used)]

mod common;

use common::incident::{self as fixture, alerts, assert_same, body, ctx, Phase};
use common::server::{response, Server};
use std::sync::Arc;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::victorops::{VictorOps, VictorOpsSettings};
use tocsin_receivers::SecretSource;

const KIND: &str = "victorops";
const PHASES: [Phase; 2] = [Phase::Firing, Phase::Resolved];

/// (receiver, api key, fixture tag).
const CASES: [(&str, &str, &str); 3] = [
    ("vo-defaults", "global-vo-key", "vo-defaults_global-vo-key_rk-defaults"),
    ("vo-full", "full-vo-key", "vo-full_full-vo-key_rk-Golden"),
    ("vo-bogus", "bogus-vo-key", "vo-bogus_bogus-vo-key_rk-bogus"),
];

#[test]
fn bodies_and_urls_match_alertmanager() {
    let sink = "127.0.0.1:9";
    let cfg = fixture::config(KIND, sink);
    for (name, key, tag) in CASES {
        let vo =
            VictorOps::from_config(&fixture::receiver(&cfg, name).victorops_configs[0], fixture::template());
        for phase in PHASES {
            let url = vo.url(&ctx(name), &alerts(KIND, phase), key).unwrap();
            let line = format!("POST {}", url.strip_prefix(&format!("http://{sink}")).unwrap());
            assert_eq!(line, fixture::headers(KIND, tag, phase)[0], "{name}");
            let got = vo.render(&ctx(name), &alerts(KIND, phase)).unwrap();
            assert_same(&format!("{name} {}", phase.name()), &got, &body(KIND, tag, phase));
        }
    }
}

/// The same requests through the client, built by `build` from the config, as VictorOps gets them.
#[tokio::test]
async fn sent_requests_match_alertmanager() {
    common::install_crypto();
    let server =
        Server::start(None, Arc::new(|_: &str| response(200, "", b"{\"result\":\"success\"}"))).await;
    let cfg = fixture::config(KIND, &format!("127.0.0.1:{}", server.port));
    let clock: tocsin_model::clock::SharedClock = Arc::new(tocsin_model::clock::SystemClock);
    let template = fixture::template();
    for (name, _, tag) in CASES {
        let built = tocsin_receivers::build(fixture::receiver(&cfg, name), &template, &clock);
        assert_eq!((built[0].kind, built[0].index), ("victorops", 0));
        for phase in PHASES {
            built[0].notifier.notify(&ctx(name), &alerts(KIND, phase)).await.unwrap();
            let seen = server.seen.lock().await.pop().unwrap();
            assert_eq!(fixture::request_line(&seen.head), fixture::headers(KIND, tag, phase)[0], "{name}");
            assert_eq!(fixture::head_header(&seen.head, "content-type").as_deref(), Some("application/json"));
            assert_same(name, &seen.body, &body(KIND, tag, phase));
        }
    }
}

fn settings(url: String, key: SecretSource) -> VictorOpsSettings {
    let cfg = fixture::config(KIND, "127.0.0.1:9");
    let mut s = VictorOpsSettings::from_config(&fixture::receiver(&cfg, "vo-defaults").victorops_configs[0]);
    s.api_url = url;
    s.api_key = Some(key);
    s
}

#[tokio::test]
async fn retries_only_server_errors_and_hides_the_key() {
    common::install_crypto();
    struct Case {
        status: u16,
        want: Option<(Retry, FailureReason)>,
    }
    let cases = [
        Case { status: 200, want: None },
        Case { status: 429, want: Some((Retry::No, FailureReason::ClientError)) },
        Case { status: 404, want: Some((Retry::No, FailureReason::ClientError)) },
        Case { status: 500, want: Some((Retry::Yes, FailureReason::ServerError)) },
    ];
    for c in cases {
        let status = c.status;
        let server = Server::start(
            None,
            Arc::new(move |p: &str| response(status, "", format!("no route {p}").as_bytes())),
        )
        .await;
        let key = SecretSource::Inline("secret-vo-key".into());
        let vo =
            VictorOps::new(settings(format!("http://127.0.0.1:{}/", server.port), key), fixture::template());
        let got = vo.notify(&ctx("r"), &alerts(KIND, Phase::Firing)).await;
        assert_eq!(got.as_ref().err().map(|e| (e.retry, e.reason)), c.want, "{}", c.status);
        if let Err(e) = got {
            assert_eq!(
                e.message,
                format!("unexpected status code {}: no route /<redacted>/rk-defaults", c.status)
            );
        }
    }
}

#[tokio::test]
async fn key_file_is_read_and_trimmed() {
    common::install_crypto();
    let server = Server::start(None, Arc::new(|_: &str| response(200, "", b""))).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, "file-key\n").unwrap();
    let vo = VictorOps::new(
        settings(format!("http://127.0.0.1:{}/vo/", server.port), SecretSource::File(path.clone())),
        fixture::template(),
    );
    vo.notify(&ctx("r"), &alerts(KIND, Phase::Firing)).await.unwrap();
    let seen = server.seen.lock().await.pop().unwrap();
    assert_eq!(fixture::request_line(&seen.head), "POST /vo/file-key/rk-defaults");
    std::fs::remove_file(&path).unwrap();
    let e = vo.notify(&ctx("r"), &alerts(KIND, Phase::Firing)).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.starts_with("failed to read API key from file: open "), "{}", e.message);
}

#[test]
fn template_errors_as_upstream() {
    let base = settings("http://127.0.0.1:9/".into(), SecretSource::Inline("k".into()));
    // A routing key that fails to render is not retried; a body that fails to render is (upstream's quirk).
    let vo = VictorOps::new(
        VictorOpsSettings { routing_key: "{{ .Nope.Deeper }}".into(), ..base.clone() },
        fixture::template(),
    );
    let e = vo.url(&ctx("r"), &alerts(KIND, Phase::Firing), "k").unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.starts_with("templating error: "), "{}", e.message);
    let vo = VictorOps::new(
        VictorOpsSettings { monitoring_tool: "{{ .Nope.Deeper }}".into(), ..base },
        fixture::template(),
    );
    let e = vo.render(&ctx("r"), &alerts(KIND, Phase::Firing)).unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
}
