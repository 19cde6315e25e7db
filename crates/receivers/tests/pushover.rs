//! Pushover: the requests equal, byte for byte (method, path and query string, empty text/plain body), those
//! Alertmanager 0.25 sent for the same alerts and config (fixtures in `tests/golden_pushover/`, captured by its
//! `capture.sh` through a CONNECT proxy, since upstream's API URL is fixed); retry rules; secrecy.
#![allow(clippy::unwrap_used)]

mod common;

use common::golden::{alerts, ctx, header, request_line, Captured};
use common::server::{response, Server};
use std::sync::Arc;
use std::time::Duration;
use tocsin_pipeline::notifier::{Notifier, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::pushover::{Pushover, PushoverSettings};
use tocsin_template::Template;

async fn server(status: u16) -> Server {
    Server::start(
        None,
        Arc::new(move |_: &str| {
            response(status, "content-type: application/json\r\n", br#"{"status":1,"request":"x"}"#)
        }),
    )
    .await
}

fn settings(port: u16, name: &str) -> PushoverSettings {
    let base = PushoverSettings {
        api_url: format!("http://127.0.0.1:{port}/1/messages.json"),
        ..PushoverSettings::new("golden-user", name)
    };
    let title = "{{ template \"__subject\" . }}".to_owned();
    let url = "{{ template \"__alertmanagerURL\" . }}".to_owned();
    match name {
        "po-basic" => PushoverSettings {
            user_key: tocsin_receivers::SecretSource::Inline("golden-user/key+1".into()),
            title,
            message: "{{ range .Alerts }}* {{ .Status }} {{ .Labels.instance }}: {{ .Annotations.summary }} {{ .Annotations.description }}\n{{ end }}".into(),
            url: "{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}".into(),
            url_title: "Open {{ .CommonLabels.job }}".into(),
            sound: "siren".into(),
            retry: Duration::from_secs(30),
            expire: Duration::from_secs(7200),
            ..base
        },
        "po-html" => PushoverSettings {
            title,
            url,
            html: true,
            priority: "{{ if eq .Status \"firing\" }}1{{ else }}-1{{ end }}".into(),
            message: "<b>{{ .Status }}</b> {{ range .Alerts }}{{ .Labels.instance }} {{ .Annotations.summary }}; {{ end }}".into(),
            ..base
        },
        "po-long" => PushoverSettings {
            title: "T".repeat(300),
            message: format!("{{{{ .Status }}}} {}", "ß".repeat(1100)),
            url: format!("http://x.example/{}", "é".repeat(600)),
            ..base
        },
        _ => PushoverSettings {
            title,
            url,
            message: "  {{/* nothing */}}  ".into(),
            retry: Duration::from_secs(90),
            expire: Duration::ZERO,
            ..base
        },
    }
}

#[tokio::test]
async fn requests_match_alertmanager() {
    common::install_crypto();
    let srv = server(200).await;
    for name in ["po-basic", "po-html", "po-long", "po-empty"] {
        let want = Captured::load("golden_pushover", &format!("{name}-messages"));
        let p = Pushover::new(settings(srv.port, name), Arc::new(Template::with_defaults()));
        p.notify(&ctx(name), &alerts()).await.unwrap();
        let seen = srv.seen.lock().await.pop().unwrap();
        let got = request_line(&seen.head);
        assert!(
            got == want.line,
            "{name}: request differs from Alertmanager 0.25's\n got: {got}\nwant: {}",
            want.line
        );
        assert_eq!(seen.body, want.body, "{name}");
        assert_eq!(header(&seen.head, "content-type"), want.header("content-type"), "{name}");
    }
}

#[tokio::test]
async fn device_and_ttl_are_sent_when_set() {
    common::install_crypto();
    let srv = server(200).await;
    let s = PushoverSettings {
        device: "phone".into(),
        ttl: Duration::from_secs(600),
        ..settings(srv.port, "po-empty")
    };
    Pushover::new(s, Arc::new(Template::with_defaults())).notify(&ctx("r"), &alerts()).await.unwrap();
    let line = request_line(&srv.seen.lock().await[0].head);
    assert!(line.contains("?device=phone&expire=0&"), "{line}");
    assert!(line.ends_with("&ttl=600&url=http%3A%2F%2Fam.example%3A9093%2Fprefix%2F%23%2Falerts%3Freceiver%3Dr&url_title=&user=golden-user"), "{line}");
}

#[tokio::test]
async fn retry_rules_and_secrecy() {
    common::install_crypto();
    for (status, want) in [(500, Retry::Yes), (503, Retry::Yes), (400, Retry::No), (429, Retry::No)] {
        let srv = server(status).await;
        let p = Pushover::new(settings(srv.port, "po-secret-token"), Arc::new(Template::with_defaults()));
        let e = assert_no_secret_leak(&p, &ctx("r"), &alerts(), &["po-secret-token", "golden-user"])
            .await
            .unwrap_err();
        assert_eq!(e.retry, want, "{status}");
        assert!(e.message.starts_with(&format!("unexpected status code {status}")), "{}", e.message);
    }
    let p = Pushover::new(
        PushoverSettings {
            api_url: "http://127.0.0.1:1/1/messages.json".into(),
            ..settings(1, "po-secret-token")
        },
        Arc::new(Template::with_defaults()),
    );
    let e = assert_no_secret_leak(&p, &ctx("r"), &alerts(), &["po-secret-token", "golden-user"])
        .await
        .unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
}
