//! `feishu_configs` against a mock Feishu bot on loopback that verifies the body signature as Feishu does and
//! answers in both response shapes (`StatusCode` and `code`), with errors and rate limits.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;
mod dingtalk_mock;

use chrono::{DateTime, Utc};
use common::{ctx, firing};
use dingtalk_mock::{check_answers, AnswerCase, Mock, Req};
use std::sync::Arc;
use tocsin_model::clock::{ManualClock, SharedClock};
use tocsin_model::time::parse_rfc3339;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::dingtalk::sign::feishu_sign;
use tocsin_receivers::feishu::{Feishu, FeishuMessageType, FeishuSettings, MAX_BODY};
use tocsin_receivers::ratelimit::RateLimiter;
use tocsin_receivers::SecretSource;
use tocsin_template::Template;

const TOKEN: &str = "0a1b2c3d-aaaa-bbbb-cccc-0123456789ab";
const SECRET: &str = "demo-secret";
const NOW_S: i64 = 1_700_000_000;

fn clock() -> SharedClock {
    Arc::new(ManualClock::new(DateTime::<Utc>::from_timestamp(NOW_S, 0).unwrap()))
}

fn new_shape(code: i64, msg: &str) -> (u16, String) {
    (200, serde_json::json!({"code": code, "data": {}, "msg": msg}).to_string())
}

fn old_shape_ok() -> (u16, String) {
    (200, r#"{"Extra":null,"StatusCode":0,"StatusMessage":"success"}"#.to_owned())
}

/// Feishu's checks: the hook token, then (when signed) timestamp and signature from the body.
fn verify(req: &Req, secret: Option<&str>) -> Result<(), (u16, String)> {
    if req.path != format!("/open-apis/bot/v2/hook/{TOKEN}") {
        return Err(new_shape(19001, "param invalid: incoming webhook access token invalid"));
    }
    if let Some(secret) = secret {
        let ts: i64 = req.body["timestamp"].as_str().and_then(|t| t.parse().ok()).unwrap_or(0);
        let ok =
            (ts - NOW_S).abs() <= 3600 && req.body["sign"].as_str() == Some(feishu_sign(secret, ts).as_str());
        if !ok {
            return Err(new_shape(
                19021,
                "sign match fail or timestamp is not within one hour from current time",
            ));
        }
    }
    if req.body["msg_type"].as_str().is_none() {
        return Err((400, r#"{"code":9499,"msg":"Bad Request"}"#.to_owned()));
    }
    Ok(())
}

async fn bot(secret: Option<&'static str>, script: Vec<(u16, String)>) -> Mock {
    Mock::start(Arc::new(move |req, n| match verify(req, secret) {
        Err(answer) => answer,
        Ok(()) => script.get(n).cloned().unwrap_or_else(old_shape_ok),
    }))
    .await
}

fn url(mock: &Mock) -> String {
    mock.url(&format!("/open-apis/bot/v2/hook/{TOKEN}"))
}

fn feishu(s: FeishuSettings) -> Feishu {
    Feishu::new(s, Arc::new(Template::with_defaults()), clock())
        .with_limiters(vec![Arc::new(RateLimiter::new(100, std::time::Duration::from_secs(60)))])
}

fn resolved(instance: &str) -> Arc<tocsin_model::Alert> {
    let mut a = (*firing(instance)).clone();
    a.ends_at = parse_rfc3339("2024-05-31T23:30:00Z").unwrap();
    Arc::new(a)
}

#[tokio::test]
async fn signed_interactive_card_coloured_by_status() {
    let mock = bot(Some(SECRET), vec![]).await;
    let mut s = FeishuSettings::new(url(&mock));
    s.secret = Some(SecretSource::Inline(SECRET.into()));
    let f = feishu(s);
    f.notify(&ctx("ops"), &[firing("i1")]).await.unwrap();
    let b = mock.last().body;
    assert_eq!(b["timestamp"], "1700000000");
    assert_eq!(b["sign"], "mYHw2R2SOm8Rw/sne3lQdmz4sOfntKR+1P/8RKKTwmA=", "the published test vector");
    assert_eq!(b["msg_type"], "interactive");
    let card = &b["card"];
    assert_eq!(card["header"]["template"], "red");
    assert!(card["header"]["title"]["content"].as_str().unwrap().starts_with("[FIRING:1]"));
    assert_eq!(card["elements"][0]["tag"], "div");
    assert_eq!(card["elements"][0]["text"]["tag"], "lark_md");
    assert!(card["elements"][0]["text"]["content"].as_str().unwrap().contains("i1"));
    assert_eq!(card["elements"][2]["actions"][0]["url"], "http://am.example:9093/#/alerts?receiver=ops");

    f.notify(&ctx("ops"), &[resolved("i1")]).await.unwrap();
    let b = mock.last().body;
    assert_eq!(b["card"]["header"]["template"], "green");
    assert!(b["card"]["header"]["title"]["content"].as_str().unwrap().starts_with("[RESOLVED]"));
}

#[tokio::test]
async fn text_and_post_shapes_and_both_answers() {
    let mock = bot(None, vec![new_shape(0, "success"), old_shape_ok()]).await;
    let mut s = FeishuSettings::new(url(&mock));
    s.message_type = FeishuMessageType::Text;
    s.text = "{{ .Status }}\n{{ .CommonLabels.alertname }}".into();
    feishu(s.clone()).notify(&ctx("ops"), &[firing("i1")]).await.unwrap();
    let b = mock.last().body;
    assert_eq!(
        b,
        serde_json::json!({"msg_type": "text", "content": {"text": "firing\nA"}}),
        "unsigned: no sign"
    );

    s.message_type = FeishuMessageType::Post;
    feishu(s).notify(&ctx("ops"), &[firing("i1")]).await.unwrap();
    let b = mock.last().body;
    assert_eq!(b["msg_type"], "post");
    let post = &b["content"]["post"]["zh_cn"];
    assert!(post["title"].as_str().unwrap().starts_with("[FIRING:1]"));
    assert_eq!(
        post["content"],
        serde_json::json!([[{"tag": "text", "text": "firing"}], [{"tag": "text", "text": "A"}]])
    );
}

#[tokio::test]
async fn codes_and_retry_classification() {
    let cases = vec![
        AnswerCase {
            name: "frequency limited",
            answer: new_shape(11232, "frequency limited"),
            want: (Retry::Yes, FailureReason::ClientError, "code 11232: frequency limited"),
        },
        AnswerCase {
            name: "too large",
            answer: new_shape(19036, "the message exceeds the size limit of 30KB"),
            want: (
                Retry::No,
                FailureReason::ClientError,
                "code 19036: the message exceeds the size limit of 30KB",
            ),
        },
        AnswerCase {
            name: "old shape error",
            answer: (200, r#"{"StatusCode":19024,"StatusMessage":"Key Words Not Found"}"#.into()),
            want: (Retry::No, FailureReason::ClientError, "code 19024: Key Words Not Found"),
        },
        AnswerCase {
            name: "http 400 with code",
            answer: (400, r#"{"code":9499,"msg":"Bad Request"}"#.into()),
            want: (Retry::No, FailureReason::ClientError, "code 9499: Bad Request"),
        },
        AnswerCase {
            name: "platform rate limit",
            answer: (429, r#"{"code":99991400,"msg":"request trigger frequency limit"}"#.into()),
            want: (Retry::Yes, FailureReason::ClientError, "code 99991400: request trigger frequency limit"),
        },
    ];
    check_answers(cases, &ctx("ops"), &[firing("i1")], |answer| async {
        let mock = bot(None, vec![answer]).await;
        let f = feishu(FeishuSettings::new(url(&mock)));
        (mock, f)
    })
    .await;
}

#[tokio::test]
async fn wrong_secret_and_token_fail_without_leaking() {
    let mock = bot(Some(SECRET), vec![]).await;
    let u = url(&mock);
    let mut s = FeishuSettings::new(u.clone());
    s.secret = Some(SecretSource::Inline("not-the-secret".into()));
    let e = assert_no_secret_leak(&feishu(s), &ctx("ops"), &[firing("i1")], &[&u, TOKEN, "not-the-secret"])
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "code 19021: sign match fail or timestamp is not within one hour from current time"
    );
    assert_eq!(e.retry, Retry::No);

    let closed = format!("http://127.0.0.1:1/open-apis/bot/v2/hook/{TOKEN}");
    let mut s = FeishuSettings::new(closed.clone());
    s.secret = Some(SecretSource::Inline(SECRET.into()));
    let e = assert_no_secret_leak(&feishu(s), &ctx("ops"), &[firing("i1")], &[&closed, TOKEN, SECRET])
        .await
        .unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
}

#[tokio::test]
async fn large_groups_fit_the_body_limit() {
    let mock = bot(Some(SECRET), vec![]).await;
    let mut s = FeishuSettings::new(url(&mock));
    s.secret = Some(SecretSource::Inline(SECRET.into()));
    let alerts: Vec<_> = (0..500).map(|i| firing(&format!("节点-{i:03}"))).collect();
    feishu(s).notify(&ctx("ops"), &alerts).await.unwrap();
    let req = mock.last();
    assert!(req.raw.len() <= MAX_BODY, "{}", req.raw.len());
    let text = req.body["card"]["elements"][0]["text"]["content"].as_str().unwrap();
    assert!(text.trim_end().ends_with(" more alerts"), "{}", &text[text.len() - 40..]);
}

#[tokio::test]
async fn from_config() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "route: {{receiver: f}}\nreceivers:\n- name: f\n  feishu_configs:\n  - url: https://open.feishu.cn/open-apis/bot/v2/hook/{TOKEN}\n    secret: {SECRET}\n    message_type: post\n"
    );
    let cfg = tocsin_config::load_str(&yaml, dir.path(), tocsin_config::ParseMode::default()).unwrap();
    let c = &cfg.receivers[0].feishu_configs[0];
    let s = FeishuSettings::from_config(c);
    assert_eq!(s.message_type, FeishuMessageType::Post);
    assert_eq!(s.secret, Some(SecretSource::Inline(SECRET.into())));
    let f = Feishu::from_config(c, Arc::new(Template::with_defaults()), clock());
    let dbg = format!("{f:?}");
    assert!(!dbg.contains(TOKEN) && !dbg.contains(SECRET), "{dbg}");
    let yaml = cfg.to_yaml();
    assert!(!yaml.contains(TOKEN) && !yaml.contains(SECRET), "{yaml}");
}

#[test]
fn example_config_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/feishu.yml");
    let cfg = tocsin_config::load(&path, tocsin_config::ParseMode::default()).unwrap();
    assert!(cfg.receivers.iter().any(|r| !r.feishu_configs.is_empty()));
    assert!(!cfg.to_yaml().contains("REPLACE"), "secrets render as <secret>");
}
