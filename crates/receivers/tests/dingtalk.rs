//! `dingtalk_configs` against a mock DingTalk robot on loopback that checks the access token and the signature
//! (加签) as DingTalk does, and answers success, errcodes and rate limits.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;
mod dingtalk_mock;

use chrono::{DateTime, Utc};
use common::{ctx, firing};
use dingtalk_mock::{check_answers, errcode, AnswerCase, Mock, Req};
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::{ManualClock, SharedClock};
use tocsin_model::time::parse_rfc3339;
use tocsin_model::{Alert, LabelSet};
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::dingtalk::sign::dingtalk_sign;
use tocsin_receivers::dingtalk::{DingTalk, DingTalkMessageType, DingTalkSettings, MAX_BODY};
use tocsin_receivers::ratelimit::RateLimiter;
use tocsin_receivers::SecretSource;
use tocsin_template::Template;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const SECRET: &str = "SEC0123456789abcdef";
const NOW_MS: i64 = 1_700_000_000_000;
const VECTOR_SIGN: &str = "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D";

fn clock() -> SharedClock {
    Arc::new(ManualClock::new(DateTime::<Utc>::from_timestamp_millis(NOW_MS).unwrap()))
}

/// DingTalk's checks: the token, then (when signed) timestamp within an hour and the signature.
fn verify(req: &Req, secret: Option<&str>) -> Result<(), (i64, &'static str)> {
    if req.param("access_token") != Some(TOKEN) {
        return Err((300001, "token is not exist"));
    }
    if let Some(secret) = secret {
        let ts: i64 =
            req.param("timestamp").and_then(|t| t.parse().ok()).ok_or((310000, "invalid timestamp"))?;
        if (ts - NOW_MS).abs() > 3_600_000 {
            return Err((310000, "invalid timestamp"));
        }
        if req.param("sign") != Some(dingtalk_sign(secret, ts).as_str()) {
            return Err((310000, "sign not match"));
        }
    }
    if req.body["msgtype"].as_str().is_none() {
        return Err((40035, "missing msgtype"));
    }
    Ok(())
}

/// A robot that verifies with `secret` and then answers the scripted errcodes in order (then success).
async fn robot(secret: Option<&'static str>, script: Vec<(u16, String)>) -> Mock {
    Mock::start(Arc::new(move |req, n| match verify(req, secret) {
        Err((code, msg)) => errcode(code, msg),
        Ok(()) => script.get(n).cloned().unwrap_or_else(|| errcode(0, "ok")),
    }))
    .await
}

fn dingtalk(settings: DingTalkSettings) -> DingTalk {
    DingTalk::new(settings, Arc::new(Template::with_defaults()), clock())
        .with_limiter(Arc::new(RateLimiter::robots()))
}

fn settings(mock: &Mock) -> DingTalkSettings {
    let mut s = DingTalkSettings::new(mock.url(&format!("/robot/send?access_token={TOKEN}")));
    s.secret = Some(SecretSource::Inline(SECRET.to_owned()));
    s
}

#[tokio::test]
async fn signed_markdown_with_mentions() {
    let mock = robot(Some(SECRET), vec![]).await;
    let mut s = settings(&mock);
    s.at_mobiles = vec!["13800000000".into()];
    s.at_user_ids = vec!["manager01".into()];
    dingtalk(s).notify(&ctx("ops"), &[firing("i1"), firing("i2")]).await.unwrap();

    let req = mock.last();
    assert_eq!(req.path, "/robot/send");
    assert_eq!(req.param("timestamp"), Some("1700000000000"));
    assert_eq!(req.param("sign"), Some(VECTOR_SIGN), "the published test vector");
    assert!(req.content_type.starts_with("application/json"));
    let b = &req.body;
    assert_eq!(b["msgtype"], "markdown");
    let title = b["markdown"]["title"].as_str().unwrap();
    assert!(title.starts_with("[FIRING:2]"), "{title}");
    let text = b["markdown"]["text"].as_str().unwrap();
    assert!(text.contains("i1") && text.contains("i2"), "{text}");
    assert!(text.contains("Firing"), "{text}");
    assert!(text.ends_with("@13800000000 @manager01"), "mentions must be in the text: {text}");
    assert_eq!(b["at"]["atMobiles"], serde_json::json!(["13800000000"]));
    assert_eq!(b["at"]["atUserIds"], serde_json::json!(["manager01"]));
    assert_eq!(b["at"]["isAtAll"], false);
}

#[tokio::test]
async fn text_and_action_card_shapes() {
    let mock = robot(None, vec![]).await;
    let mut s = DingTalkSettings::new(mock.url(&format!("/robot/send?access_token={TOKEN}")));
    s.message_type = DingTalkMessageType::Text;
    s.at_all = true;
    s.text = "{{ .Status }} {{ len .Alerts }}".into();
    dingtalk(s.clone()).notify(&ctx("ops"), &[firing("i1")]).await.unwrap();
    let req = mock.last();
    assert_eq!(req.param("sign"), None, "unsigned without a secret");
    assert_eq!(req.body["msgtype"], "text");
    assert_eq!(req.body["text"]["content"], "firing 1");
    assert_eq!(req.body["at"]["isAtAll"], true);

    s.message_type = DingTalkMessageType::ActionCard;
    s.at_mobiles = vec!["13800000000".into()];
    dingtalk(s).notify(&ctx("ops"), &[firing("i1")]).await.unwrap();
    let b = mock.last().body;
    assert_eq!(b["msgtype"], "actionCard");
    assert_eq!(b["actionCard"]["singleURL"], "http://am.example:9093/#/alerts?receiver=ops");
    assert!(b["actionCard"]["title"].as_str().unwrap().starts_with("[FIRING:1]"));
    assert!(b.get("at").is_none(), "cards do not support @");
}

#[tokio::test]
async fn errcodes_and_retry_classification() {
    let cases = vec![
        AnswerCase {
            name: "rate limited (old code)",
            answer: errcode(130101, "send too fast, exceed 20 times per minute"),
            want: (
                Retry::Yes,
                FailureReason::ClientError,
                "errcode 130101: send too fast, exceed 20 times per minute",
            ),
        },
        AnswerCase {
            name: "rate limited (new code)",
            answer: errcode(410100, "发送速度太快而限流"),
            want: (Retry::Yes, FailureReason::ClientError, "errcode 410100: 发送速度太快而限流"),
        },
        AnswerCase {
            name: "system busy",
            answer: errcode(-1, "系统繁忙"),
            want: (Retry::Yes, FailureReason::ServerError, "errcode -1: 系统繁忙"),
        },
        AnswerCase {
            name: "keywords",
            answer: errcode(310000, "keywords not in content"),
            want: (Retry::No, FailureReason::ClientError, "errcode 310000: keywords not in content"),
        },
        AnswerCase {
            name: "too long",
            answer: errcode(460101, "message too long, exceed 20000 bytes"),
            want: (
                Retry::No,
                FailureReason::ClientError,
                "errcode 460101: message too long, exceed 20000 bytes",
            ),
        },
        AnswerCase {
            name: "http 503",
            answer: (503, "unavailable".into()),
            want: (Retry::Yes, FailureReason::ServerError, "unexpected status code 503: unavailable"),
        },
    ];
    check_answers(cases, &ctx("ops"), &[firing("i1")], |answer| async {
        let mock = robot(Some(SECRET), vec![answer]).await;
        let d = dingtalk(settings(&mock));
        (mock, d)
    })
    .await;
}

#[tokio::test]
async fn wrong_secret_fails_without_leaking() {
    let mock = robot(Some(SECRET), vec![]).await;
    let url = mock.url(&format!("/robot/send?access_token={TOKEN}"));
    let mut s = DingTalkSettings::new(url.clone());
    s.secret = Some(SecretSource::Inline("SECwrongwrongwrong".into()));
    let d = dingtalk(s);
    let e = assert_no_secret_leak(&d, &ctx("ops"), &[firing("i1")], &[&url, TOKEN, "SECwrongwrongwrong"])
        .await
        .unwrap_err();
    assert_eq!(e.message, "errcode 310000: sign not match");
    assert_eq!(e.retry, Retry::No);

    // A refused connection: the error shows neither URL nor token.
    let closed = format!("http://127.0.0.1:1/robot/send?access_token={TOKEN}");
    let mut s = DingTalkSettings::new(closed.clone());
    s.secret = Some(SecretSource::Inline(SECRET.into()));
    let e = assert_no_secret_leak(&dingtalk(s), &ctx("ops"), &[firing("i1")], &[&closed, TOKEN, SECRET])
        .await
        .unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
    assert!(e.message.starts_with("Post \"<redacted>\""), "{}", e.message);
}

#[tokio::test]
async fn url_and_secret_files_are_read_at_send_time() {
    let mock = robot(Some(SECRET), vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("url");
    let secret_file = dir.path().join("secret");
    std::fs::write(&url_file, format!("{}\n", mock.url(&format!("/robot/send?access_token={TOKEN}"))))
        .unwrap();
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let mut s = DingTalkSettings::new("");
    s.url = SecretSource::File(url_file);
    s.secret = Some(SecretSource::File(secret_file.clone()));
    let d = dingtalk(s);
    d.notify(&ctx("ops"), &[firing("i1")]).await.unwrap();
    assert_eq!(mock.last().param("sign"), Some(VECTOR_SIGN));

    std::fs::remove_file(&secret_file).unwrap();
    let e = d.notify(&ctx("ops"), &[firing("i1")]).await.unwrap_err();
    assert!(
        e.message.starts_with(&format!("read secret_file: open {}", secret_file.display())),
        "{}",
        e.message
    );
    assert_eq!(e.retry, Retry::No);
}

fn big_alert(i: usize, description: &str) -> Arc<Alert> {
    let labels: LabelSet =
        [("alertname", "A".to_owned()), ("instance", format!("host-{i:04}.example"))].into_iter().collect();
    Arc::new(Alert {
        labels,
        annotations: [("description", description)].into_iter().collect(),
        starts_at: parse_rfc3339("2024-05-31T23:00:00Z").unwrap(),
        ends_at: parse_rfc3339("2099-01-01T00:00:00Z").unwrap(),
        generator_url: "".into(),
        updated_at: parse_rfc3339("2024-05-31T23:00:00Z").unwrap().to_utc(),
        timeout: false,
    })
}

#[tokio::test]
async fn oversized_messages_are_shortened_not_rejected() {
    // The mock rejects what DingTalk rejects.
    let mock = Mock::start(Arc::new(|req, _| {
        if req.raw.len() > 20_000 {
            errcode(460101, "message too long, exceed 20000 bytes")
        } else {
            errcode(0, "ok")
        }
    }))
    .await;
    let url = mock.url(&format!("/robot/send?access_token={TOKEN}"));
    let mut s = DingTalkSettings::new(url);
    s.at_mobiles = vec!["13800000000".into()];
    let d = dingtalk(s.clone());

    // Many alerts: whole alerts are dropped and counted.
    let alerts: Vec<_> =
        (0..400).map(|i| big_alert(i, "磁盘使用率超过 90% / disk usage above 90%")).collect();
    d.notify(&ctx("ops"), &alerts).await.unwrap();
    let req = mock.last();
    assert!(req.raw.len() <= MAX_BODY, "{}", req.raw.len());
    let text = req.body["markdown"]["text"].as_str().unwrap();
    let line = text.lines().rev().find(|l| l.starts_with('…')).expect("a more-alerts line");
    let n: usize = line.trim_start_matches("… ").trim_end_matches(" more alerts").parse().unwrap();
    assert!(n > 0 && n < 400, "{line}");
    assert!(text.contains("host-0000") && !text.contains("host-0399"));
    assert!(text.ends_with("@13800000000"), "mentions survive shortening");

    // One alert larger than the limit: cut at a character boundary (the description is all 3-byte runes).
    let huge = "告".repeat(10_000);
    d.notify(&ctx("ops"), &[big_alert(0, &huge), big_alert(1, "x")]).await.unwrap();
    let req = mock.last();
    assert!(req.raw.len() <= MAX_BODY);
    let text = req.body["markdown"]["text"].as_str().unwrap();
    assert!(text.contains("…\n\n… 1 more alerts"), "{}", &text[text.len() - 80..]);

    // max_alerts.
    let mut s2 = s;
    s2.max_alerts = 3;
    dingtalk(s2).notify(&ctx("ops"), &alerts[..10]).await.unwrap();
    let text = mock.last().body["markdown"]["text"].as_str().unwrap().to_owned();
    assert!(text.contains("… 7 more alerts"), "{text}");
    assert!(text.contains("host-0002") && !text.contains("host-0003"));
}

#[tokio::test]
async fn rate_limiter_delays_instead_of_dropping() {
    // Real sockets, so real time with a short window: 2 messages per 300 ms.
    let mock = robot(None, vec![]).await;
    let limiter = Arc::new(RateLimiter::new(2, Duration::from_millis(300)));
    let s = DingTalkSettings::new(mock.url(&format!("/robot/send?access_token={TOKEN}")));
    let d = DingTalk::new(s, Arc::new(Template::with_defaults()), clock()).with_limiter(limiter);
    let start = tokio::time::Instant::now();
    for i in 0..3 {
        d.notify(&ctx("ops"), &[firing(&format!("i{i}"))]).await.unwrap();
    }
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3, "nothing dropped");
    // The third send waited for the first to leave the window.
    assert!(reqs[2].at - start >= Duration::from_millis(300), "{:?}", reqs[2].at - start);
}

#[tokio::test]
async fn from_config_and_debug_hide_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "route: {{receiver: ding}}\nreceivers:\n- name: ding\n  dingtalk_configs:\n  - url: https://oapi.dingtalk.com/robot/send?access_token={TOKEN}\n    secret: {SECRET}\n    at_mobiles: [13800000000]\n    message_type: text\n"
    );
    let cfg = tocsin_config::load_str(&yaml, dir.path(), tocsin_config::ParseMode::default()).unwrap();
    let c = &cfg.receivers[0].dingtalk_configs[0];
    let s = DingTalkSettings::from_config(c);
    assert_eq!(s.message_type, DingTalkMessageType::Text);
    assert_eq!(s.at_mobiles, ["13800000000"]);
    let d = DingTalk::from_config(c, Arc::new(Template::with_defaults()), clock());
    let dbg = format!("{d:?}");
    assert!(!dbg.contains(TOKEN) && !dbg.contains(SECRET), "{dbg}");
}

#[test]
fn example_config_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/dingtalk.yml");
    let cfg = tocsin_config::load(&path, tocsin_config::ParseMode::default()).unwrap();
    assert!(cfg.receivers.iter().any(|r| !r.dingtalk_configs.is_empty()));
    assert!(!cfg.to_yaml().contains("REPLACE"), "secrets render as <secret>");
}

#[tokio::test]
async fn migration_note_time_zone_idiom_renders() {
    let mock = robot(None, vec![]).await;
    let mut s = DingTalkSettings::new(mock.url(&format!("/robot/send?access_token={TOKEN}")));
    s.message_type = DingTalkMessageType::Text;
    s.text =
        r#"{{ range .Alerts }}{{ .StartsAt | tz "Asia/Shanghai" | date "2006-01-02 15:04:05" }}{{ end }}"#
            .into();
    dingtalk(s).notify(&ctx("ops"), &[firing("i1")]).await.unwrap();
    assert_eq!(mock.last().body["text"]["content"], "2024-06-01 07:00:00");
}
