//! HTTP behaviour the testkit sink cannot show: response bodies in errors, redirects.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use common::server::{response, Responder, Server};
use common::{ctx, firing, install_crypto};
use std::sync::Arc;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::classify::MAX_ERROR_BODY;
use tocsin_receivers::{HttpClientSettings, Webhook, WebhookSettings};

#[tokio::test]
async fn error_body_appended_first_kib() {
    install_crypto();
    let mut body = b"upstream says: ".to_vec();
    body.extend(std::iter::repeat_n(b'x', 4000));
    let respond: Responder = Arc::new(move |_| response(503, "", &body));
    let srv = Server::start(None, respond).await;
    let h = Webhook::new(WebhookSettings::new(format!("http://127.0.0.1:{}/", srv.port)));
    let e = h.notify(&ctx("r"), &[firing("i1")]).await.unwrap_err();
    assert_eq!((e.retry, e.reason), (Retry::Yes, FailureReason::ServerError));
    let prefix = "unexpected status code 503: upstream says: x";
    assert!(e.message.starts_with(prefix), "{}", e.message);
    assert_eq!(e.message.len(), "unexpected status code 503: ".len() + MAX_ERROR_BODY);
}

fn redirecting() -> Responder {
    Arc::new(|path| match path {
        "/old" => response(307, "location: /new\r\n", b""),
        _ => response(200, "", b""),
    })
}

#[tokio::test]
async fn follows_redirects_by_default() {
    install_crypto();
    let srv = Server::start(None, redirecting()).await;
    let h = Webhook::new(WebhookSettings::new(format!("http://127.0.0.1:{}/old", srv.port)));
    h.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    let seen = srv.seen.lock().await;
    assert_eq!(seen.len(), 2);
    assert!(seen[1].head.starts_with("POST /new "), "{}", seen[1].head);
    assert_eq!(seen[0].body, seen[1].body, "307 keeps method and body");
}

#[tokio::test]
async fn redirect_not_followed_is_permanent_failure() {
    install_crypto();
    let srv = Server::start(None, redirecting()).await;
    let h = Webhook::new(WebhookSettings {
        http: HttpClientSettings { follow_redirects: false, ..HttpClientSettings::default() },
        ..WebhookSettings::new(format!("http://127.0.0.1:{}/old", srv.port))
    });
    let e = h.notify(&ctx("r"), &[firing("i1")]).await.unwrap_err();
    assert_eq!((e.retry, e.reason), (Retry::No, FailureReason::Other));
    assert_eq!(e.message, "unexpected status code 307");
    assert_eq!(srv.seen.lock().await.len(), 1);
}

#[tokio::test]
async fn proxy_url_is_used() {
    install_crypto();
    let proxy = Server::start(None, Arc::new(|_| response(200, "", b""))).await;
    let h = Webhook::new(WebhookSettings {
        http: HttpClientSettings {
            proxy_url: Some(tocsin_receivers::SecretSource::Inline(format!(
                "http://127.0.0.1:{}",
                proxy.port
            ))),
            ..HttpClientSettings::default()
        },
        ..WebhookSettings::new("http://hooks.tocsin.invalid/x")
    });
    h.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    let seen = proxy.seen.lock().await;
    assert!(seen[0].head.starts_with("POST http://hooks.tocsin.invalid/x HTTP/1.1"), "{}", seen[0].head);
}

#[tokio::test]
async fn http1_only_when_http2_disabled() {
    install_crypto();
    let srv = Server::start(None, Arc::new(|_| response(200, "", b""))).await;
    let h = Webhook::new(WebhookSettings {
        http: HttpClientSettings { enable_http2: false, ..HttpClientSettings::default() },
        ..WebhookSettings::new(format!("http://127.0.0.1:{}/", srv.port))
    });
    h.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    assert!(srv.seen.lock().await[0].head.contains("HTTP/1.1"));
}
