//! WeChat: the gettoken and message/send requests equal, byte for byte, those Alertmanager 0.25 sent for the same
//! alerts and config (fixtures in `tests/golden_wechat/`, captured by its `capture.sh`); the access token cache;
//! errcode handling; secrecy.
#![allow(clippy::unwrap_used)]

mod common;

use common::golden::{assert_same, ctx, firing, header, request_line, Captured};
use common::server::{response, Server};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::http::HttpClientSettings;
use tocsin_receivers::wechat::{Wechat, WechatSettings};
use tocsin_template::Template;

const TOKEN_ANSWER: &[u8] =
    br#"{"errcode":0,"errmsg":"ok","access_token":"ACCESS-TOKEN-1","expires_in":7200}"#;

/// Answers gettoken with a token and message/send with the scripted errcodes (then 0).
async fn server(send_errcodes: &'static [i64]) -> Server {
    let sends = AtomicUsize::new(0);
    Server::start(
        None,
        Arc::new(move |path: &str| {
            if path.contains("/gettoken") {
                return response(200, "", TOKEN_ANSWER);
            }
            let n = sends.fetch_add(1, Ordering::SeqCst);
            let code = send_errcodes.get(n).copied().unwrap_or(0);
            response(200, "", format!(r#"{{"errcode":{code},"errmsg":"msg {code}"}}"#).as_bytes())
        }),
    )
    .await
}

fn settings(port: u16, name: &str) -> WechatSettings {
    let base = WechatSettings {
        api_url: format!("http://127.0.0.1:{port}/{name}/cgi-bin/"),
        api_secret: "golden-secret".into(),
        corp_id: "ww-golden-corp".into(),
        message: "# {{ .Status }} {{ len .Alerts }}".into(),
        message_type: "markdown".into(),
        agent_id: String::new(),
        to_user: String::new(),
        to_party: String::new(),
        to_tag: String::new(),
        send_resolved: false,
        http: HttpClientSettings::default(),
    };
    match name {
        "wc-text" => WechatSettings {
            api_secret: "golden secret/+&=".into(),
            message: "{{ template \"__subject\" . }}\n{{ range .Alerts }}* {{ .Status }} {{ .Labels.instance }}: {{ .Annotations.summary }} {{ .Annotations.description }}\n{{ end }}".into(),
            message_type: "text".into(),
            agent_id: "1000002".into(),
            to_user: "{{ .CommonLabels.job }}|ops".into(),
            to_party: "2".into(),
            to_tag: "tag<1>".into(),
            ..base
        },
        _ => base,
    }
}

#[tokio::test]
async fn requests_match_alertmanager() {
    common::install_crypto();
    let srv = server(&[]).await;
    for name in ["wc-text", "wc-md"] {
        let w = Wechat::new(settings(srv.port, name), Arc::new(Template::with_defaults()));
        w.notify(&ctx(name), &firing()).await.unwrap();
        let mut seen = srv.seen.lock().await;
        let (get, send) = (seen[0].clone(), seen[1].clone());
        seen.clear();
        drop(seen);
        let want = Captured::load("golden_wechat", &format!("{name}-gettoken"));
        assert_eq!(request_line(&get.head), want.line, "{name}");
        assert!(get.body.is_empty());
        let want = Captured::load("golden_wechat", &format!("{name}-send"));
        assert_eq!(request_line(&send.head), want.line, "{name}");
        assert_same(name, &send.body, &want.body);
        assert_eq!(header(&send.head, "content-type"), want.header("content-type"), "{name}");
    }
}

#[tokio::test]
async fn token_is_cached_and_dropped_when_expired() {
    common::install_crypto();
    // 1st send ok; 2nd says the token expired (42001); 3rd (after a new gettoken) ok; 4th permanent error.
    let srv = server(&[0, 42001, 0, 60020]).await;
    let w = Wechat::new(settings(srv.port, "wc-md"), Arc::new(Template::with_defaults()));
    let gets = |seen: &[common::server::Seen]| seen.iter().filter(|s| s.head.contains("/gettoken")).count();
    w.notify(&ctx("r"), &firing()).await.unwrap();
    let e = w.notify(&ctx("r"), &firing()).await.unwrap_err();
    assert_eq!((e.retry, e.message.as_str()), (Retry::Yes, "wechat errcode 42001: msg 42001"));
    assert_eq!(gets(&srv.seen.lock().await), 1, "cached between sends");
    w.notify(&ctx("r"), &firing()).await.unwrap();
    assert_eq!(gets(&srv.seen.lock().await), 2, "fetched again after 42001");
    let e = w.notify(&ctx("r"), &firing()).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    // Two hours later the token is refreshed even without an error.
    let mut later = ctx("r");
    later.now += chrono::Duration::hours(2) + chrono::Duration::seconds(1);
    w.notify(&later, &firing()).await.unwrap();
    assert_eq!(gets(&srv.seen.lock().await), 3);
}

#[tokio::test]
async fn gettoken_failures_and_secrecy() {
    common::install_crypto();
    let srv = Server::start(
        None,
        Arc::new(|_: &str| response(200, "", br#"{"errcode":40001,"errmsg":"invalid credential"}"#)),
    )
    .await;
    let w = Wechat::new(settings(srv.port, "wc-text"), Arc::new(Template::with_defaults()));
    let e =
        assert_no_secret_leak(&w, &ctx("r"), &firing(), &["golden secret/+&=", "golden+secret%2F%2B%26%3D"])
            .await
            .unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert_eq!(e.message, "invalid APISecret for CorpID: ww-golden-corp (errcode 40001: invalid credential)");
    assert_eq!(e.reason, FailureReason::Other);
    // Deliberate difference: a 5xx gettoken answer with JSON but no token is retried (upstream: permanent).
    let srv = Server::start(
        None,
        Arc::new(|_: &str| response(503, "", br#"{"errcode":-1,"errmsg":"system busy"}"#)),
    )
    .await;
    let w = Wechat::new(settings(srv.port, "wc-text"), Arc::new(Template::with_defaults()));
    let e = w.notify(&ctx("r"), &firing()).await.unwrap_err();
    assert_eq!((e.retry, e.reason), (Retry::Yes, FailureReason::Other));
    assert_eq!(e.message, "invalid APISecret for CorpID: ww-golden-corp (errcode -1: system busy)");
    for status in [500, 404] {
        let srv = Server::start(
            None,
            Arc::new(move |p: &str| {
                if p.contains("/gettoken") {
                    response(200, "", TOKEN_ANSWER)
                } else {
                    response(status, "", b"x")
                }
            }),
        )
        .await;
        let w = Wechat::new(settings(srv.port, "wc-text"), Arc::new(Template::with_defaults()));
        let e = assert_no_secret_leak(&w, &ctx("r"), &firing(), &["golden secret/+&=", "ACCESS-TOKEN-1"])
            .await
            .unwrap_err();
        assert_eq!((e.retry, e.message.clone()), (Retry::Yes, format!("unexpected status code {status}")));
        assert_eq!(e.reason, FailureReason::Other, "upstream's plain error: reason other ({status})");
    }
    let w = Wechat::new(settings(1, "wc-text"), Arc::new(Template::with_defaults()));
    let e = assert_no_secret_leak(&w, &ctx("r"), &firing(), &["golden secret/+&=", "golden+secret"])
        .await
        .unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
}
