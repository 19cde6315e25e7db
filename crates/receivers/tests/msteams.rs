//! `msteams_configs` and `msteamsv2_configs`: Alertmanager 0.25 has neither, so their bodies are pinned from
//! upstream's source (`notify/msteams/msteams.go` `teamsMessage`, `notify/msteamsv2/msteamsv2.go`; 0.28):
//! field order, constants, colours, and Go's HTML-safe JSON encoding with its trailing newline.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use common::server::{response, Server};
use common::{ctx, firing, install_crypto};
use std::sync::Arc;
use tocsin_model::time::parse_rfc3339;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::msteams::{MsTeams, MsTeamsSettings};
use tocsin_receivers::msteamsv2::{MsTeamsV2, MsTeamsV2Settings};
use tocsin_template::Template;

fn resolved(instance: &str) -> Arc<Alert> {
    let a = firing(instance);
    Arc::new(Alert { ends_at: parse_rfc3339("2024-05-31T23:30:00Z").unwrap(), ..Alert::clone(&a) })
}

fn config(kind: &str, url: &str, extra: &str) -> tocsin_config::Config {
    let yml = format!(
        "route: {{receiver: r}}\nreceivers:\n  - name: r\n    {kind}:\n      - webhook_url: '{url}'\n{extra}"
    );
    tocsin_config::load_str(&yml, std::path::Path::new("/"), tocsin_config::ParseMode::default()).unwrap()
}

fn v1(url: &str, extra: &str) -> MsTeams {
    let cfg = config("msteams_configs", url, extra);
    MsTeams::new(
        MsTeamsSettings::from_config(&cfg.receivers[0].msteams_configs[0]),
        Arc::new(Template::with_defaults()),
    )
}

fn v2(url: &str, extra: &str) -> MsTeamsV2 {
    let cfg = config("msteamsv2_configs", url, extra);
    MsTeamsV2::new(
        MsTeamsV2Settings::from_config(&cfg.receivers[0].msteamsv2_configs[0]),
        Arc::new(Template::with_defaults()),
    )
}

const V1_TEMPLATES: &str = "        title: '{{ .Status }} <{{ .CommonLabels.alertname }}>'\n        summary: 'sum & {{ len .Alerts }}'\n        text: 'line1\n\n          é 🚨'\n";
const V2_TEMPLATES: &str = "        title: '{{ .Status }} <{{ .CommonLabels.alertname }}>'\n        text: 'body & {{ len .Alerts }}'\n";

#[test]
fn message_card_as_upstream() {
    let t = v1("http://127.0.0.1:1/x", V1_TEMPLATES);
    let got = t.body(&ctx("r"), &[firing("i1"), resolved("i2")]).unwrap();
    assert_eq!(
        String::from_utf8(got).unwrap(),
        concat!(
            r#"{"@context":"http://schema.org/extensions","type":"MessageCard","title":"firing \u003cA\u003e","#,
            r#""summary":"sum \u0026 2","text":"line1\né 🚨","themeColor":"8C1A1A"}"#,
            "\n"
        )
    );
    let got = t.body(&ctx("r"), &[resolved("i2")]).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&got).unwrap();
    assert_eq!(v["themeColor"], "2DC72D");
    assert_eq!(v["title"], "resolved <A>");
}

#[test]
fn message_card_defaults_render_subject() {
    let t = v1("http://127.0.0.1:1/x", "");
    let v: serde_json::Value = serde_json::from_slice(&t.body(&ctx("r"), &[firing("i1")]).unwrap()).unwrap();
    assert_eq!(v["title"], "[FIRING:1] A (i1)");
    assert_eq!(v["summary"], "[FIRING:1] A (i1)");
    assert!(v["text"].as_str().unwrap().contains("instance = i1"), "{v}");
}

#[test]
fn adaptive_card_as_upstream() {
    let t = v2("http://127.0.0.1:1/x", V2_TEMPLATES);
    let got = t.body(&ctx("r"), &[firing("i1")]).unwrap();
    assert_eq!(
        String::from_utf8(got).unwrap(),
        concat!(
            r#"{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,"#,
            r#""content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.2","#,
            r#""body":[{"type":"TextBlock","text":"firing \u003cA\u003e","weight":"Bolder","size":"Medium","wrap":true,"#,
            r#""style":"heading","color":"Attention"},{"type":"TextBlock","text":"body \u0026 1","wrap":true}],"#,
            r#""msteams":{"width":"full"}}}]}"#,
            "\n"
        )
    );
    let v: serde_json::Value =
        serde_json::from_slice(&t.body(&ctx("r"), &[resolved("i1")]).unwrap()).unwrap();
    assert_eq!(v["attachments"][0]["content"]["body"][0]["color"], "Good");
    // An empty text still sends its block with `"text":""` (no omitempty upstream).
    let t = v2("http://127.0.0.1:1/x", "        title: 't'\n        text: '{{ \"\" }}'\n");
    let got = String::from_utf8(t.body(&ctx("r"), &[firing("i1")]).unwrap()).unwrap();
    assert!(got.contains(r#"{"type":"TextBlock","text":"","wrap":true}"#), "{got}");
}

#[tokio::test]
async fn retries_like_upstream() {
    install_crypto();
    let cases = [
        (200, None),
        (202, None),
        (400, Some((Retry::No, FailureReason::ClientError))),
        // Teams throttles with 429; upstream's retrier has no retry codes for it.
        (429, Some((Retry::No, FailureReason::ClientError))),
        (500, Some((Retry::Yes, FailureReason::ServerError))),
        (503, Some((Retry::Yes, FailureReason::ServerError))),
    ];
    for (status, want) in cases {
        let server = Server::start(None, Arc::new(move |_| response(status, "", b"oops"))).await;
        let url = format!("http://127.0.0.1:{}/webhookb2/abc", server.port);
        for n in [&v1(&url, "") as &dyn Notifier, &v2(&url, "")] {
            let got = n.notify(&ctx("r"), &[firing("i1")]).await.err();
            if let Some(e) = &got {
                assert_eq!(e.message, format!("unexpected status code {status}: oops"));
            }
            assert_eq!(got.map(|e| (e.retry, e.reason)), want, "{status} {n:?}");
        }
        let seen = server.seen.lock().await.clone();
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|s| s.head.starts_with("POST /webhookb2/abc HTTP/1.1\r\n")));
        assert!(seen[0].head.to_ascii_lowercase().contains("content-type: application/json\r\n"));
    }
}

#[tokio::test]
async fn webhook_url_file_and_no_leaks() {
    install_crypto();
    let sig = "sigAbCdEfGhIjKlMnOpQrStUv0123";
    let server = Server::start(
        None,
        Arc::new(|path: &str| response(403, "", format!("denied for {path}").as_bytes())),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("teams_url");
    let yml = format!(
        "route: {{receiver: r}}\nreceivers:\n  - name: r\n    msteamsv2_configs:\n      - webhook_url_file: '{}'\n    msteams_configs:\n      - webhook_url_file: '{}'\n",
        file.display(),
        file.display()
    );
    let cfg = tocsin_config::load_str(&yml, dir.path(), tocsin_config::ParseMode::default()).unwrap();
    let built = tocsin_receivers::build(
        &cfg.receivers[0],
        &Arc::new(Template::with_defaults()),
        &(Arc::new(tocsin_model::clock::SystemClock) as tocsin_model::clock::SharedClock),
    );
    let kinds: Vec<_> = built.iter().map(|i| i.kind).collect();
    assert_eq!(kinds, ["msteams", "msteamsv2"]);
    for i in &built {
        assert!(i.notifier.send_resolved());
        let e = i.notifier.notify(&ctx("r"), &[firing("i1")]).await.unwrap_err();
        assert_eq!(e.retry, Retry::No);
        assert!(e.message.starts_with("read webhook_url_file: open "), "{}", e.message);
    }
    let url = format!("http://127.0.0.1:{}/workflows/run?api-version=1&sig={sig}", server.port);
    std::fs::write(&file, format!("{url}\n")).unwrap();
    for i in &built {
        let e =
            assert_no_secret_leak(i.notifier.as_ref(), &ctx("r"), &[firing("i1")], &[sig]).await.unwrap_err();
        assert_eq!((e.retry, e.reason), (Retry::No, FailureReason::ClientError));
    }
    assert_eq!(server.seen.lock().await.len(), 2);
}
