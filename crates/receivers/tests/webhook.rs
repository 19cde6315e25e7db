//! The webhook integration against a local sink on 127.0.0.1:0: authentication, retry classification, timeout,
//! truncation, files read at send time, and no secret in any error.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use common::{ctx, firing, install_crypto};
use std::time::Duration;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::{Auth, HttpClientSettings, SecretSource, Webhook, WebhookSettings};
use tocsin_testkit::Sink;

fn hook(url: String, auth: Auth) -> Webhook {
    Webhook::new(WebhookSettings {
        http: HttpClientSettings { auth, ..HttpClientSettings::default() },
        ..WebhookSettings::new(url)
    })
}

#[tokio::test]
async fn basic_auth_inline_and_file() {
    install_crypto();
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cr3t-pass\n").unwrap();
    let inline = hook(
        sink.url("/"),
        Auth::Basic {
            username: SecretSource::Inline("admin".into()),
            password: Some(SecretSource::Inline("s3cr3t-pass".into())),
        },
    );
    let from_file = hook(
        sink.url("/"),
        Auth::Basic {
            username: SecretSource::Inline("admin".into()),
            password: Some(SecretSource::File(pw)),
        },
    );
    inline.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    from_file.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    for r in sink.requests() {
        assert_eq!(r.header("authorization"), Some("Basic YWRtaW46czNjcjN0LXBhc3M="));
    }
}

#[tokio::test]
async fn bearer_and_custom_type_and_rotation() {
    install_crypto();
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "tok-1").unwrap();
    let default_type = hook(
        sink.url("/"),
        Auth::Authorization { kind: String::new(), credentials: Some(SecretSource::Inline("abc".into())) },
    );
    let custom = hook(
        sink.url("/"),
        Auth::Authorization { kind: "Token".into(), credentials: Some(SecretSource::File(token.clone())) },
    );
    default_type.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    custom.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    std::fs::write(&token, "tok-2\n").unwrap();
    custom.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    let got: Vec<_> = sink.requests().iter().map(|r| r.header("authorization").unwrap().to_owned()).collect();
    assert_eq!(got, ["Bearer abc", "Token tok-1", "Token tok-2"]);
}

#[tokio::test]
async fn status_codes_classified() {
    install_crypto();
    struct Case {
        name: &'static str,
        status: u16,
        want: Option<(Retry, FailureReason)>,
    }
    let cases = [
        Case { name: "ok", status: 200, want: None },
        Case { name: "accepted", status: 202, want: None },
        Case { name: "server error", status: 500, want: Some((Retry::Yes, FailureReason::ServerError)) },
        Case { name: "unavailable", status: 503, want: Some((Retry::Yes, FailureReason::ServerError)) },
        Case { name: "too many requests", status: 429, want: Some((Retry::Yes, FailureReason::ClientError)) },
        Case { name: "bad request", status: 400, want: Some((Retry::No, FailureReason::ClientError)) },
        Case { name: "unauthorized", status: 401, want: Some((Retry::No, FailureReason::ClientError)) },
    ];
    let sink = Sink::start().await;
    let h = Webhook::new(WebhookSettings::new(sink.url("/")));
    for c in cases {
        sink.script(&[c.status]);
        let got = h.notify(&ctx("r"), &[firing("i1")]).await.err();
        assert_eq!(got.as_ref().map(|e| (e.retry, e.reason)), c.want, "{}", c.name);
        if let Some(e) = got {
            assert_eq!(e.message, format!("unexpected status code {}", c.status), "{}", c.name);
        }
    }
}

/// A receiver that answers 500 and then 200 gets the body twice; the pipeline's retry stage does the retrying.
#[tokio::test]
async fn retryable_then_success() {
    install_crypto();
    let sink = Sink::start().await;
    sink.script(&[500]);
    let h = Webhook::new(WebhookSettings::new(sink.url("/")));
    let e = h.notify(&ctx("r"), &[firing("i1")]).await.unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
    h.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].body, reqs[1].body);
}

#[tokio::test]
async fn timeout_is_retryable_deadline() {
    install_crypto();
    let sink = Sink::start().await;
    sink.set_delay(Duration::from_secs(30));
    let h = Webhook::new(WebhookSettings {
        timeout: Some(Duration::from_millis(150)),
        ..WebhookSettings::new(sink.url("/secret-path"))
    });
    let e = h.notify(&ctx("r"), &[firing("i1")]).await.unwrap_err();
    assert_eq!((e.retry, e.reason), (Retry::Yes, FailureReason::ContextDeadlineExceeded));
    assert_eq!(e.message, "Post \"<redacted>\": configured webhook timeout reached (150ms)");
}

#[tokio::test]
async fn max_alerts_truncates() {
    install_crypto();
    let sink = Sink::start().await;
    let h = Webhook::new(WebhookSettings { max_alerts: 2, ..WebhookSettings::new(sink.url("/")) });
    h.notify(&ctx("r"), &[firing("i1"), firing("i2"), firing("i3")]).await.unwrap();
    h.notify(&ctx("r"), &[firing("i1"), firing("i2")]).await.unwrap();
    let reqs = sink.requests();
    let first = reqs[0].json();
    assert_eq!(first["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(first["truncatedAlerts"], 1);
    assert_eq!(first["commonLabels"], serde_json::json!({"alertname": "A"}));
    assert_eq!(reqs[1].json()["truncatedAlerts"], 0);
}

#[tokio::test]
async fn url_file_read_at_send_time() {
    install_crypto();
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("url");
    let h = Webhook::new(WebhookSettings { url: SecretSource::File(f.clone()), ..WebhookSettings::new("") });
    let e = h.notify(&ctx("r"), &[firing("i1")]).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.starts_with(&format!("read url_file: open {}: ", f.display())), "{}", e.message);
    std::fs::write(&f, format!("  {}\n", sink.url("/from-file"))).unwrap();
    h.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    assert_eq!(sink.requests()[0].path, "/from-file");
}

#[tokio::test]
async fn transport_error_is_retryable_and_redacted() {
    install_crypto();
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/hook/tok-in-path?key=tok-in-query");
    let h = Webhook::new(WebhookSettings::new(url.clone()));
    let e = assert_no_secret_leak(&h, &ctx("r"), &[firing("i1")], &[&url, "tok-in-path", "tok-in-query"])
        .await
        .unwrap_err();
    assert_eq!((e.retry, e.reason), (Retry::Yes, FailureReason::Other));
    assert!(e.message.starts_with("Post \"<redacted>\": "), "{}", e.message);
    assert!(e.message.contains("Connection refused"), "{}", e.message);
}

#[tokio::test]
async fn no_secret_in_errors() {
    install_crypto();
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing-password");
    let url = sink.url("/hook/tok-in-path?key=tok-in-query");
    let secrets = [url.as_str(), "tok-in-path", "tok-in-query", "s3cr3t-pass", "bearer-s3cr3t"];
    let cases: Vec<(&str, Webhook, u16)> = vec![
        (
            "basic auth, 500",
            hook(
                url.clone(),
                Auth::Basic {
                    username: SecretSource::Inline("admin".into()),
                    password: Some(SecretSource::Inline("s3cr3t-pass".into())),
                },
            ),
            500,
        ),
        (
            "bearer, 400",
            hook(
                url.clone(),
                Auth::Authorization {
                    kind: "Bearer".into(),
                    credentials: Some(SecretSource::Inline("bearer-s3cr3t".into())),
                },
            ),
            400,
        ),
        (
            "missing password file",
            hook(
                url.clone(),
                Auth::Basic {
                    username: SecretSource::Inline("admin".into()),
                    password: Some(SecretSource::File(missing)),
                },
            ),
            200,
        ),
    ];
    for (name, h, status) in cases {
        sink.script(&[status]);
        let r = assert_no_secret_leak(&h, &ctx("r"), &[firing("i1")], &secrets).await;
        assert!(r.is_err(), "{name}");
    }
}

#[test]
fn send_resolved_reported() {
    let on = Webhook::new(WebhookSettings::new("http://127.0.0.1:1/"));
    let off =
        Webhook::new(WebhookSettings { send_resolved: false, ..WebhookSettings::new("http://127.0.0.1:1/") });
    assert!(on.send_resolved());
    assert!(!off.send_resolved());
}
