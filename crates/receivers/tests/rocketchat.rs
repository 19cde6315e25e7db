//! `rocketchat_configs` (0.28): bodies pinned byte for byte to upstream's structs (`tests/golden_rocketchat/`,
//! derived from the Slack captures, see its README), the request on the wire (path, auth headers), answer checks
//! and retry classification, `token_file`/`token_id_file`, `build`, and no secret leaks.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use common::golden::{self, assert_same, load};
use common::server::{response, Responder, Server};
use common::{ctx, firing, install_crypto};
use std::sync::Arc;
use tocsin_model::clock::SharedClock;
use tocsin_model::SystemClock;
use tocsin_pipeline::notifier::{FailureReason, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::rocketchat::{Rocketchat, RocketchatSettings, MAX_TITLE_RUNES};
use tocsin_template::Template;

const AM_YML: &str = include_str!("golden_rocketchat/am.yml.in");
const DEFAULT: &[u8] = include_bytes!("golden_rocketchat/default.json");
const FULL: &[u8] = include_bytes!("golden_rocketchat/full.json");

/// The fixture's config, with the server at `base` (`http://127.0.0.1:<port>`).
fn config(base: &str) -> tocsin_config::Config {
    golden::config(AM_YML, base, &"é".repeat(1100))
}

fn rocketchat_of(cfg: &tocsin_config::Config, receiver: &str) -> Rocketchat {
    let c = &cfg.receiver(receiver).unwrap().rocketchat_configs[0];
    Rocketchat::from_config(c, Arc::new(Template::with_defaults()))
}

fn answer(status: u16, body: impl Into<String>) -> Responder {
    let body = body.into();
    Arc::new(move |_| response(status, "content-type: application/json\r\n", body.as_bytes()))
}

const OK: &str = r#"{"ts":1,"channel":"GENERAL","message":{"msg":""},"success":true}"#;

/// The header's value in a raw request head (names compared case-insensitively).
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn default_templates_match_upstream() {
    let r = rocketchat_of(&config("http://127.0.0.1:1"), "rc-default");
    assert_same("body", &r.body(&golden::ctx("rc-default"), &golden::alerts()).unwrap(), DEFAULT);
}

#[test]
fn every_field_matches_upstream() {
    let r = rocketchat_of(&config("http://127.0.0.1:1"), "rc-full");
    assert_same("body", &r.body(&golden::ctx("rc-full"), &golden::alerts()).unwrap(), FULL);
}

/// Through the real client: path, auth headers and the very bytes of the fixtures.
#[tokio::test]
async fn sends_the_golden_bodies() {
    install_crypto();
    let server = Server::start(None, answer(200, OK)).await;
    let cfg = config(&format!("http://127.0.0.1:{}", server.port));
    for (receiver, path, token, user, want) in [
        (
            "rc-default",
            "/default/api/v1/chat.postMessage",
            "tok-default-0123456789",
            "uid-default-0123456789",
            DEFAULT,
        ),
        ("rc-full", "/full/api/v1/chat.postMessage", "tok-full-0123456789", "uid-full-0123456789", FULL),
    ] {
        let r = rocketchat_of(&cfg, receiver);
        tocsin_pipeline::notifier::Notifier::notify(&r, &golden::ctx(receiver), &golden::alerts())
            .await
            .unwrap();
        let seen = server.seen.lock().await.pop().unwrap();
        assert!(seen.head.starts_with(&format!("POST {path} HTTP/1.1\r\n")), "{}", seen.head);
        assert_eq!(header(&seen.head, "x-auth-token"), Some(token));
        assert_eq!(header(&seen.head, "x-user-id"), Some(user));
        assert_eq!(header(&seen.head, "content-type"), Some("application/json"));
        assert_same("body", &seen.body, want);
    }
}

fn settings(url: &str, channel: &str) -> RocketchatSettings {
    let yml = format!(
        "route: {{receiver: r}}\nreceivers:\n  - name: r\n    rocketchat_configs:\n      - api_url: '{url}'\n        token: 'TOKENsecret0123456789'\n        token_id: 'USERid0123456789'\n        channel: '{channel}'\n"
    );
    RocketchatSettings::from_config(&load(&yml).receivers[0].rocketchat_configs[0])
}

fn notifier(settings: RocketchatSettings) -> Rocketchat {
    Rocketchat::new(settings, Arc::new(Template::with_defaults()))
}

#[tokio::test]
async fn answers_and_retries() {
    install_crypto();
    struct Case {
        name: &'static str,
        status: u16,
        body: &'static str,
        want: Result<(), (Retry, FailureReason, &'static str)>,
    }
    let cases = [
        Case { name: "ok", status: 200, body: OK, want: Ok(()) },
        Case {
            name: "api error with 200",
            status: 200,
            body: r#"{"success":false,"error":"error-not-allowed"}"#,
            want: Err((
                Retry::No,
                FailureReason::ClientError,
                "channel \"#ops\": error response from Rocketchat: error-not-allowed",
            )),
        },
        Case {
            name: "2xx that is not JSON is retried",
            status: 204,
            body: "",
            want: Err((
                Retry::Yes,
                FailureReason::ClientError,
                "channel \"#ops\": could not unmarshal JSON response \"\": EOF while parsing a value at line 1 column 0",
            )),
        },
        Case {
            name: "401",
            status: 401,
            body: r#"{"status":"error","message":"You must be logged in to do this."}"#,
            want: Err((
                Retry::No,
                FailureReason::ClientError,
                "channel \"#ops\": unexpected status code 401: {\"status\":\"error\",\"message\":\"You must be logged in to do this.\"}",
            )),
        },
        Case {
            name: "429 is not retried upstream",
            status: 429,
            body: "slow down",
            want: Err((Retry::No, FailureReason::ClientError, "channel \"#ops\": unexpected status code 429: slow down")),
        },
        Case {
            name: "500",
            status: 500,
            body: "oops",
            want: Err((Retry::Yes, FailureReason::ServerError, "channel \"#ops\": unexpected status code 500: oops")),
        },
    ];
    for c in cases {
        let server = Server::start(None, answer(c.status, c.body)).await;
        let r = notifier(settings(&format!("http://127.0.0.1:{}", server.port), "#ops"));
        let got = tocsin_pipeline::notifier::Notifier::notify(&r, &ctx("r"), &[firing("i1")])
            .await
            .map_err(|e| (e.retry, e.reason, e.message));
        let want = c.want.map_err(|(r, f, m)| (r, f, m.to_owned()));
        assert_eq!(got, want, "{}", c.name);
        let seen = server.seen.lock().await;
        assert!(seen[0].head.starts_with("POST /api/v1/chat.postMessage HTTP/1.1\r\n"), "{}", seen[0].head);
    }
}

/// An answer beyond the 4 MiB read (`success` comes last) cannot be judged; the 2xx is never retried, since
/// a retry would post the message again.
#[tokio::test]
async fn huge_answers_are_never_retried() {
    install_crypto();
    let body = format!(r#"{{"message":{{"msg":"{}"}},"success":true}}"#, "\\u00e9".repeat(1024 * 1024));
    let server = Server::start(None, answer(200, body)).await;
    let r = notifier(settings(&format!("http://127.0.0.1:{}", server.port), "#ops"));
    let e = tocsin_pipeline::notifier::Notifier::notify(&r, &ctx("r"), &[firing("i1")]).await.unwrap_err();
    assert_eq!((e.retry, e.reason), (Retry::No, FailureReason::ClientError));
    assert_eq!(
        e.message,
        "channel \"#ops\": response from Rocketchat larger than 4194304 bytes: outcome unknown"
    );
    assert_eq!(server.seen.lock().await.len(), 1);
}

#[tokio::test]
async fn title_is_cut_to_1024_runes() {
    let mut s = settings("http://127.0.0.1:1", "");
    s.config.title = "日".repeat(3000);
    let msg = notifier(s).request(&ctx("r"), &[firing("i1")]).unwrap();
    let title = &msg.attachments[0].title;
    assert_eq!(title.chars().count(), MAX_TITLE_RUNES);
    assert!(title.ends_with("日…"));
}

#[tokio::test]
async fn template_errors_are_permanent() {
    let mut s = settings("http://127.0.0.1:1", "");
    s.config.text = "{{ .Nope.Deeper }}".into();
    let e = tocsin_pipeline::notifier::Notifier::notify(&notifier(s), &ctx("r"), &[firing("i1")])
        .await
        .unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.contains("text"), "{}", e.message);
}

#[tokio::test]
async fn token_files_are_read_at_send_time() {
    install_crypto();
    let server = Server::start(None, answer(200, OK)).await;
    let dir = tempfile::tempdir().unwrap();
    let (token, user) = (dir.path().join("token"), dir.path().join("user"));
    let yml = format!(
        "global:\n  rocketchat_api_url: 'http://127.0.0.1:{}/chat'\n  rocketchat_token_file: '{}'\n  rocketchat_token_id_file: '{}'\nroute: {{receiver: r}}\nreceivers:\n  - name: r\n    rocketchat_configs:\n      - channel: '#c'\n",
        server.port,
        token.display(),
        user.display()
    );
    let cfg = tocsin_config::load_str(&yml, dir.path(), tocsin_config::ParseMode::default()).unwrap();
    let r =
        Rocketchat::from_config(&cfg.receivers[0].rocketchat_configs[0], Arc::new(Template::with_defaults()));
    let cx = ctx("r");
    let notify = || tocsin_pipeline::notifier::Notifier::notify(&r, &cx, &[]);
    let e = notify().await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.starts_with("could not read ") && e.message.contains("token"), "{}", e.message);
    std::fs::write(&token, "  file-token\n").unwrap();
    std::fs::write(&user, "file-user\n").unwrap();
    notify().await.unwrap();
    let seen = server.seen.lock().await;
    assert!(seen[0].head.starts_with("POST /chat/api/v1/chat.postMessage "), "{}", seen[0].head);
    assert_eq!(header(&seen[0].head, "x-auth-token"), Some("file-token"));
    assert_eq!(header(&seen[0].head, "x-user-id"), Some("file-user"));
}

#[tokio::test]
async fn build_makes_a_rocketchat_integration() {
    install_crypto();
    let server = Server::start(None, answer(200, OK)).await;
    let cfg = config(&format!("http://127.0.0.1:{}", server.port));
    let clock: SharedClock = Arc::new(SystemClock);
    let integrations = tocsin_receivers::build(
        cfg.receiver("rc-full").unwrap(),
        &Arc::new(Template::with_defaults()),
        &clock,
    );
    assert_eq!(integrations.len(), 1);
    assert_eq!((integrations[0].kind, integrations[0].index), ("rocketchat", 0));
    assert!(integrations[0].notifier.send_resolved());
    integrations[0].notifier.notify(&golden::ctx("rc-full"), &golden::alerts()).await.unwrap();
    assert_same("body", &server.seen.lock().await[0].body, FULL);
}

#[tokio::test]
async fn no_secret_leaks() {
    install_crypto();
    let (token, user) = ("TOKENsecret0123456789", "USERid0123456789");
    // Nothing listens on port 1: a transport error, retried, naming neither the URL nor the channel.
    let r = notifier(settings("http://127.0.0.1:1/base", "#ops"));
    let e = assert_no_secret_leak(&r, &ctx("r"), &[firing("i1")], &[token, user]).await.unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
    assert!(e.message.starts_with("Post \"<redacted>\": "), "{}", e.message);
    // A server that echoes the credentials in its error answers (Rocket.Chat does not; a proxy might).
    let echo = format!("bad token {token} for user {user}");
    for (status, body) in [(200, format!(r#"{{"success":false,"error":"{echo}"}}"#)), (403, echo.clone())] {
        let server = Server::start(None, answer(status, body)).await;
        let r = notifier(settings(&format!("http://127.0.0.1:{}", server.port), "#ops"));
        let e = assert_no_secret_leak(&r, &ctx("r"), &[firing("i1")], &[token, user]).await.unwrap_err();
        assert_eq!(e.retry, Retry::No);
        assert!(e.message.contains("bad token <redacted> for user <redacted>"), "{}", e.message);
    }
    // A token that is not a valid header value: Go's transport error, without the value.
    let mut s = settings("http://127.0.0.1:1", "#ops");
    s.token = tocsin_receivers::SecretSource::Inline("line\nbreak-secret".into());
    let e =
        assert_no_secret_leak(&notifier(s), &ctx("r"), &[firing("i1")], &["break-secret"]).await.unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
    assert_eq!(e.message, "Post \"<redacted>\": net/http: invalid header field value for \"X-Auth-Token\"");
}
