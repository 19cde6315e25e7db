//! `slack_configs`: golden bodies captured from Alertmanager 0.25 (`tests/golden_slack/`, see its README), the
//! 0.26+ answer checks (`ok` / `{"ok":true}`), retry classification, `api_url_file`, and no secret leaks.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use common::golden::{self, assert_same};
use common::server::{response, Server};
use common::{ctx, firing, install_crypto};
use std::sync::Arc;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::slack::{Slack, SlackSettings, MAX_TITLE_RUNES};
use tocsin_template::Template;

const AM_YML: &str = include_str!("golden_slack/am.yml.in");
const DEFAULT: &[u8] = include_bytes!("golden_slack/default.json");
const FULL: &[u8] = include_bytes!("golden_slack/full.json");

/// The capture's config, with the sink at `base` (`http://127.0.0.1:<port>`).
fn config(base: &str) -> tocsin_config::Config {
    golden::config(AM_YML, base, &"é".repeat(1100))
}

fn slack_of(cfg: &tocsin_config::Config, receiver: &str) -> Slack {
    let c = &cfg.receiver(receiver).unwrap().slack_configs[0];
    Slack::from_config(c, Arc::new(Template::with_defaults()))
}

#[test]
fn default_templates_match_alertmanager() {
    let s = slack_of(&config("http://127.0.0.1:1"), "slack-default");
    assert_same("body", &s.body(&golden::ctx("slack-default"), &golden::alerts()).unwrap(), DEFAULT);
}

#[test]
fn every_field_matches_alertmanager() {
    let s = slack_of(&config("http://127.0.0.1:1"), "slack-full");
    assert_same("body", &s.body(&golden::ctx("slack-full"), &golden::alerts()).unwrap(), FULL);
}

fn ok_server(status: u16, content_type: &'static str, body: &'static str) -> common::server::Responder {
    Arc::new(move |_| response(status, &format!("content-type: {content_type}\r\n"), body.as_bytes()))
}

/// Through the real client: path, headers and the very bytes of the golden file.
#[tokio::test]
async fn sends_the_golden_body() {
    install_crypto();
    let server = Server::start(None, ok_server(200, "text/html", "ok")).await;
    let cfg = config(&format!("http://127.0.0.1:{}", server.port));
    slack_of(&cfg, "slack-full").notify(&golden::ctx("slack-full"), &golden::alerts()).await.unwrap();
    let seen = server.seen.lock().await.clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].head.starts_with("POST /full HTTP/1.1\r\n"), "{}", seen[0].head);
    assert!(seen[0].head.to_ascii_lowercase().contains("content-type: application/json\r\n"));
    assert_same("body", &seen[0].body, FULL);
}

fn settings(url: String, channel: &str) -> SlackSettings {
    let yml = format!(
        "route: {{receiver: r}}\nreceivers:\n  - name: r\n    slack_configs:\n      - api_url: '{url}'\n        channel: '{channel}'\n"
    );
    let cfg = tocsin_config::load_str(&yml, std::path::Path::new("/"), tocsin_config::ParseMode::default())
        .unwrap();
    SlackSettings::from_config(&cfg.receivers[0].slack_configs[0])
}

#[tokio::test]
async fn answers_and_retries() {
    install_crypto();
    struct Case {
        name: &'static str,
        status: u16,
        content_type: &'static str,
        body: &'static str,
        want: Result<(), (Retry, FailureReason, &'static str)>,
    }
    let cases = [
        Case { name: "webhook ok", status: 200, content_type: "text/html", body: "ok", want: Ok(()) },
        Case {
            name: "api ok",
            status: 200,
            content_type: "application/json; charset=utf-8",
            body: r#"{"ok":true,"channel":"C1","ts":"1.2"}"#,
            want: Ok(()),
        },
        Case {
            name: "api not ok",
            status: 200,
            content_type: "application/json",
            body: r#"{"ok":false,"error":"not_in_channel"}"#,
            want: Err((
                Retry::No,
                FailureReason::ClientError,
                "channel \"#ops\": error response from Slack: not_in_channel",
            )),
        },
        Case {
            name: "webhook error text",
            status: 200,
            content_type: "text/plain",
            body: "invalid_token",
            want: Err((
                Retry::No,
                FailureReason::ClientError,
                "channel \"#ops\": received an error response from Slack: invalid_token",
            )),
        },
        Case {
            name: "404",
            status: 404,
            content_type: "text/plain",
            body: "no_team",
            want: Err((
                Retry::No,
                FailureReason::ClientError,
                "channel \"#ops\": unexpected status code 404: no_team",
            )),
        },
        Case {
            name: "429 is not retried upstream",
            status: 429,
            content_type: "text/plain",
            body: "rate_limited",
            want: Err((
                Retry::No,
                FailureReason::ClientError,
                "channel \"#ops\": unexpected status code 429: rate_limited",
            )),
        },
        Case {
            name: "500",
            status: 500,
            content_type: "text/plain",
            body: "oops",
            want: Err((
                Retry::Yes,
                FailureReason::ServerError,
                "channel \"#ops\": unexpected status code 500: oops",
            )),
        },
    ];
    for c in cases {
        let server = Server::start(None, ok_server(c.status, c.content_type, c.body)).await;
        let s = Slack::new(
            settings(format!("http://127.0.0.1:{}/services/T0/B0/x", server.port), "#ops"),
            Arc::new(Template::with_defaults()),
        );
        let got = s.notify(&ctx("r"), &[firing("i1")]).await.map_err(|e| (e.retry, e.reason, e.message));
        let want = c.want.map_err(|(r, f, m)| (r, f, m.to_owned()));
        assert_eq!(got, want, "{}", c.name);
    }
}

/// `chat.postMessage` echoes the message (non-ASCII as `\uXXXX`): an answer beyond the 4 MiB read is judged by
/// its start and never retried, since a retry would post the message again.
#[tokio::test]
async fn huge_answers_are_judged_by_their_start_and_never_retried() {
    install_crypto();
    let echo = "\\u00e9".repeat(1024 * 1024); // 6 MiB of echoed text
    struct Case {
        name: &'static str,
        body: String,
        want: Result<(), Retry>,
    }
    let cases = [
        Case {
            name: "ok",
            body: format!(r#"{{"ok":true,"channel":"C1","message":{{"text":"{echo}"}}}}"#),
            want: Ok(()),
        },
        Case {
            name: "ok with whitespace",
            body: format!("{{ \"ok\" :\n true, \"message\":{{\"text\":\"{echo}\"}}}}"),
            want: Ok(()),
        },
        Case {
            name: "not ok",
            body: format!(r#"{{"ok":false,"error":"x","message":{{"text":"{echo}"}}}}"#),
            want: Err(Retry::No),
        },
        Case {
            name: "ok is not first",
            body: format!(r#"{{"x":"{echo}","ok":true}}"#),
            want: Err(Retry::No),
        },
    ];
    for c in cases {
        let body: &'static [u8] = Box::leak(c.body.into_bytes().into_boxed_slice());
        let respond: common::server::Responder =
            Arc::new(move |_| response(200, "content-type: application/json\r\n", body));
        let server = Server::start(None, respond).await;
        let s = Slack::new(
            settings(format!("http://127.0.0.1:{}/api/chat.postMessage", server.port), "#ops"),
            Arc::new(Template::with_defaults()),
        );
        let got = s.notify(&ctx("r"), &[firing("i1")]).await.map_err(|e| e.retry);
        assert_eq!(got, c.want, "{}", c.name);
        assert_eq!(server.seen.lock().await.len(), 1, "{}", c.name);
    }
    // Below the cap an unparsable JSON answer is still retried, as upstream.
    let s = tocsin_receivers::slack::check_answer("application/json", br#"{"ok":tr"#);
    assert_eq!(s.unwrap_err().retry, Retry::Yes);
}

#[tokio::test]
async fn title_is_cut_to_1024_runes() {
    let mut s = settings("http://127.0.0.1:1/x".into(), "");
    s.config.title = "日".repeat(3000);
    let req = Slack::new(s, Arc::new(Template::with_defaults())).request(&ctx("r"), &[firing("i1")]).unwrap();
    let title = &req.attachments[0].title;
    assert_eq!(title.chars().count(), MAX_TITLE_RUNES);
    assert!(title.ends_with("日…"));
}

#[tokio::test]
async fn template_errors_are_permanent() {
    let mut s = settings("http://127.0.0.1:1/x".into(), "");
    s.config.text = "{{ .Nope.Deeper }}".into();
    let e = Slack::new(s, Arc::new(Template::with_defaults()))
        .notify(&ctx("r"), &[firing("i1")])
        .await
        .unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.contains("text"), "{}", e.message);
}

#[tokio::test]
async fn api_url_file_is_read_at_send_time() {
    install_crypto();
    let server = Server::start(None, ok_server(200, "text/html", "ok")).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slack_url");
    let yml = format!(
        "route: {{receiver: r}}\nreceivers:\n  - name: r\n    slack_configs:\n      - api_url_file: '{}'\n",
        path.display()
    );
    let cfg = tocsin_config::load_str(&yml, dir.path(), tocsin_config::ParseMode::default()).unwrap();
    let s = Slack::from_config(&cfg.receivers[0].slack_configs[0], Arc::new(Template::with_defaults()));
    let e = s.notify(&ctx("r"), &[firing("i1")]).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.contains("slack_url"), "{}", e.message);
    std::fs::write(&path, format!("http://127.0.0.1:{}/hook\n", server.port)).unwrap();
    s.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    assert!(server.seen.lock().await[0].head.starts_with("POST /hook "));
}

#[tokio::test]
async fn no_secret_leaks() {
    install_crypto();
    let token = "XXXXsecretTOKENxxxx";
    // Nothing listens on port 1: a transport error, retried, without the URL.
    let s = Slack::new(
        settings(format!("http://127.0.0.1:1/services/T0/B0/{token}"), "#ops"),
        Arc::new(Template::with_defaults()),
    );
    let e = assert_no_secret_leak(&s, &ctx("r"), &[firing("i1")], &[token]).await.unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
    // A server that echoes the URL in its error body.
    let server = Server::start(
        None,
        Arc::new(|path: &str| response(400, "", format!("bad url http://x{path}").as_bytes())),
    )
    .await;
    let url = format!("http://127.0.0.1:{}/services/T0/B0/{token}", server.port);
    let s = Slack::new(settings(url, "#ops"), Arc::new(Template::with_defaults()));
    let e = s.notify(&ctx("r"), &[firing("i1")]).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    // Upstream puts the body in the error as is; tocsin redacts the URL's token from it.
    assert_eq!(
        e.message,
        "channel \"#ops\": unexpected status code 400: bad url http://x/services/T0/B0/<redacted>"
    );
}
