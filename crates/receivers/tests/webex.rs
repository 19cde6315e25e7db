//! Webex: the requests equal, byte for byte, those Alertmanager 0.25 sent for the same alerts and config
//! (fixtures in `tests/golden_webex/`, captured by its `capture.sh`), with the Authorization of `http_config`;
//! retry rules; the byte limit on the message.
#![allow(clippy::unwrap_used)]

mod common;

use common::golden::{alerts, assert_same, ctx, header, request_line, Captured};
use common::server::{response, Server};
use std::sync::Arc;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::http::{Auth, HttpClientSettings, SecretSource};
use tocsin_receivers::webex::{Webex, WebexSettings, MAX_MESSAGE_BYTES};
use tocsin_template::Template;

async fn server(status: u16) -> Server {
    Server::start(
        None,
        Arc::new(move |_: &str| response(status, "content-type: application/json\r\n", b"{\"id\":\"m1\"}")),
    )
    .await
}

fn settings(port: u16, name: &str) -> WebexSettings {
    let auth = |kind: &str| HttpClientSettings {
        auth: Auth::Authorization {
            kind: kind.to_owned(),
            credentials: Some(SecretSource::Inline("golden-webex-token".into())),
        },
        ..HttpClientSettings::default()
    };
    let api_url = format!("http://127.0.0.1:{port}/{name}/v1/messages");
    match name {
        "wx-basic" => WebexSettings {
            api_url,
            room_id: "Y2lzY29zcGFyazovL3VzL1JPT00vZ29sZGVu".into(),
            message: "**{{ template \"__subject\" . }}**\n{{ range .Alerts }}- {{ .Status }} {{ .Labels.instance }}: {{ .Annotations.summary }} {{ .Annotations.description }}\n{{ end }}".into(),
            send_resolved: true,
            http: auth(""),
        },
        _ => WebexSettings {
            api_url,
            room_id: "room2".into(),
            message: format!("{{{{ .Status }}}} {}{}", "x".repeat(3000), "€".repeat(5000)),
            send_resolved: true,
            http: auth("Custom"),
        },
    }
}

#[tokio::test]
async fn requests_match_alertmanager() {
    common::install_crypto();
    let srv = server(200).await;
    for name in ["wx-basic", "wx-long"] {
        let want = Captured::load("golden_webex", &format!("{name}-messages"));
        let w = Webex::new(settings(srv.port, name), Arc::new(Template::with_defaults()));
        w.notify(&ctx(name), &alerts()).await.unwrap();
        let seen = srv.seen.lock().await.pop().unwrap();
        assert_eq!(request_line(&seen.head), want.line, "{name}");
        assert_same(name, &seen.body, &want.body);
        for h in ["content-type", "authorization"] {
            assert_eq!(header(&seen.head, h), want.header(h), "{name} {h}");
        }
    }
}

#[tokio::test]
async fn short_texts_are_cut_at_a_character_boundary() {
    // Upstream 0.25 panics here (fewer characters than the byte limit); we cut and send.
    common::install_crypto();
    let srv = server(200).await;
    let s = WebexSettings { message: "€".repeat(3000), ..settings(srv.port, "wx-long") };
    Webex::new(s, Arc::new(Template::with_defaults())).notify(&ctx("r"), &alerts()).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&srv.seen.lock().await[0].body).unwrap();
    let md = body["markdown"].as_str().unwrap();
    assert!(md.len() <= MAX_MESSAGE_BYTES && md.ends_with("€…"), "{}", md.len());
}

#[tokio::test]
async fn retry_rules_and_secrecy() {
    common::install_crypto();
    for (status, want) in
        [(500, Retry::Yes), (502, Retry::Yes), (400, Retry::No), (401, Retry::No), (429, Retry::No)]
    {
        let srv = server(status).await;
        let w = Webex::new(settings(srv.port, "wx-basic"), Arc::new(Template::with_defaults()));
        let e = assert_no_secret_leak(&w, &ctx("r"), &alerts(), &["golden-webex-token"]).await.unwrap_err();
        assert_eq!(e.retry, want, "{status}");
        assert_eq!(
            e.reason,
            FailureReason::Other,
            "upstream returns the retrier's error unwrapped ({status})"
        );
        assert_eq!(e.message, format!("unexpected status code {status}: {{\"id\":\"m1\"}}"));
    }
}
