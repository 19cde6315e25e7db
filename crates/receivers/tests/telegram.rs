//! Telegram: the sendMessage requests equal, byte for byte, those Alertmanager 0.25 sent for the same alerts and
//! config (fixtures in `tests/golden_telegram/`, captured by its `capture.sh`); answers, retries, token secrecy.
#![allow(clippy::unwrap_used)]

mod common;

use common::golden::{alerts, assert_same, ctx, header, request_line, Captured};
use common::server::{response, Server};
use std::sync::Arc;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::http::SecretSource;
use tocsin_receivers::telegram::{Telegram, TelegramSettings};
use tocsin_template::Template;

const TOKEN: &str = "123456:AAE-golden_Token";

async fn server(answer: &'static [u8], status: u16) -> Server {
    Server::start(
        None,
        Arc::new(move |_: &str| response(status, "content-type: application/json\r\n", answer)),
    )
    .await
}

fn settings(base: &str, receiver: &str) -> TelegramSettings {
    let url = format!("{base}/{receiver}");
    let message = "{{ template \"__subject\" . }}\n{{ range .Alerts }}* {{ .Status }} {{ .Labels.instance }}: {{ .Annotations.summary }} {{ .Annotations.description }}\n{{ end }}<a href=\"{{ .ExternalURL }}\">AM</a> \"q\" 'a'";
    match receiver {
        "tg-html" => TelegramSettings {
            message: message.to_owned(),
            disable_notifications: true,
            ..TelegramSettings::new(url, TOKEN, -1001234567890)
        },
        "tg-md" => TelegramSettings {
            message: format!("{{{{ .Status }}}} {}", "ü".repeat(4200)),
            parse_mode: "Markdown".to_owned(),
            ..TelegramSettings::new(url, TOKEN, 42)
        },
        _ => TelegramSettings {
            message: "{{ template \"__subject\" . }}\n{{ range .Alerts }}* {{ .Labels.instance }}: {{ .Annotations.summary }}\n{{ end }}".to_owned(),
            parse_mode: String::new(),
            ..TelegramSettings::new(url, TOKEN, 42)
        },
    }
}

#[tokio::test]
async fn requests_match_alertmanager() {
    common::install_crypto();
    let srv = server(br#"{"ok":true,"result":{}}"#, 200).await;
    let base = format!("http://127.0.0.1:{}", srv.port);
    for name in ["tg-html", "tg-md", "tg-plain"] {
        let want = Captured::load("golden_telegram", &format!("{name}-sendMessage"));
        let t = Telegram::new(settings(&base, name), Arc::new(Template::with_defaults()));
        t.notify(&ctx(name), &alerts()).await.unwrap();
        let seen = srv.seen.lock().await.pop().unwrap();
        assert_eq!(request_line(&seen.head), want.line, "{name}");
        assert_same(name, &seen.body, &want.body);
        assert_eq!(header(&seen.head, "content-type"), want.header("content-type"), "{name}");
    }
}

#[tokio::test]
async fn ok_false_is_a_retried_failure_without_the_token() {
    common::install_crypto();
    let srv =
        server(br#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#, 400).await;
    let t = Telegram::new(
        settings(&format!("http://127.0.0.1:{}", srv.port), "tg-plain"),
        Arc::new(Template::with_defaults()),
    );
    let e = assert_no_secret_leak(&t, &ctx("r"), &alerts(), &[TOKEN]).await.unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
    assert_eq!(e.reason, FailureReason::Other, "upstream's reason for telebot errors");
    assert_eq!(e.message, "telegram: Bad Request: chat not found (400)");
}

/// telebot needs `"ok": true`: a 2xx JSON answer without it is a retried failure, not a success.
#[tokio::test]
async fn answer_without_ok_is_a_retried_failure() {
    common::install_crypto();
    let srv = server(br#"{"result":{"message_id":7}}"#, 200).await;
    let t = Telegram::new(
        settings(&format!("http://127.0.0.1:{}", srv.port), "tg-plain"),
        Arc::new(Template::with_defaults()),
    );
    let e = t.notify(&ctx("r"), &alerts()).await.unwrap_err();
    assert_eq!((e.retry, e.reason), (Retry::Yes, FailureReason::Other));
    assert_eq!(e.message, "telegram: answer without \"ok\": true (200)");
}

#[tokio::test]
async fn transport_error_hides_the_token() {
    common::install_crypto();
    let t = Telegram::new(settings("http://127.0.0.1:1", "tg-plain"), Arc::new(Template::with_defaults()));
    let e = assert_no_secret_leak(&t, &ctx("r"), &alerts(), &[TOKEN, "AAE-golden"]).await.unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
}

#[tokio::test]
async fn token_file_is_read_at_send_time() {
    common::install_crypto();
    let srv = server(br#"{"ok":true,"result":{}}"#, 200).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, "  999:file-token\n").unwrap();
    let s = TelegramSettings {
        bot_token: SecretSource::File(path.clone()),
        message_thread_id: 7,
        ..settings(&format!("http://127.0.0.1:{}", srv.port), "tg-plain")
    };
    let t = Telegram::new(s, Arc::new(Template::with_defaults()));
    t.notify(&ctx("r"), &alerts()).await.unwrap();
    let seen = srv.seen.lock().await.pop().unwrap();
    assert_eq!(request_line(&seen.head), "POST /tg-plain/bot999:file-token/sendMessage");
    let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(body["message_thread_id"], "7");
    std::fs::remove_file(&path).unwrap();
    let e = t.notify(&ctx("r"), &alerts()).await.unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
    assert!(e.message.starts_with("could not read "), "{}", e.message);
}
