//! `wecom_configs` against a mock WeCom group robot on loopback that checks the key and the body as WeCom does
//! (content limits included) and answers success, errcodes and rate limits.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;
mod dingtalk_mock;

use common::{ctx, firing};
use dingtalk_mock::{check_answers, errcode, AnswerCase, Mock, Req};
use std::sync::Arc;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::ratelimit::RateLimiter;
use tocsin_receivers::wecom::{Wecom, WecomMessageType, WecomSettings, MAX_MARKDOWN, MAX_TEXT};
use tocsin_template::Template;

const KEY: &str = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";

/// WeCom's checks: the key, a known msgtype and the content limits.
fn verify(req: &Req) -> Result<(), (i64, String)> {
    if req.param("key") != Some(KEY) {
        return Err((93000, "invalid webhook url, hint: [x], more info at https://open.work.weixin.qq.com/devtool/query?e=93000".into()));
    }
    let kind = req.body["msgtype"].as_str().unwrap_or_default();
    let content = req.body[kind]["content"].as_str().ok_or((40008, "invalid message type".to_owned()))?;
    let max = if kind == "text" { MAX_TEXT } else { MAX_MARKDOWN };
    if content.len() > max {
        return Err((40058, format!("{kind}.content exceed max length {max}")));
    }
    Ok(())
}

async fn robot(script: Vec<(u16, String)>) -> Mock {
    Mock::start(Arc::new(move |req, n| match verify(req) {
        Err((code, msg)) => errcode(code, &msg),
        Ok(()) => script.get(n).cloned().unwrap_or_else(|| errcode(0, "ok")),
    }))
    .await
}

fn wecom(s: WecomSettings) -> Wecom {
    Wecom::new(s, Arc::new(Template::with_defaults())).with_limiter(Arc::new(RateLimiter::robots()))
}

fn url(mock: &Mock) -> String {
    mock.url(&format!("/cgi-bin/webhook/send?key={KEY}"))
}

#[tokio::test]
async fn markdown_text_and_markdown_v2_shapes() {
    let mock = robot(vec![]).await;
    let mut s = WecomSettings::new(url(&mock));
    s.mentioned_list = vec!["zhangsan".into(), "@all".into()];
    s.mentioned_mobile_list = vec!["13800000000".into()];
    wecom(s.clone()).notify(&ctx("ops"), &[firing("i1")]).await.unwrap();
    let b = mock.last().body;
    assert_eq!(b["msgtype"], "markdown");
    let content = b["markdown"]["content"].as_str().unwrap();
    assert!(content.contains("i1") && content.contains("Firing"), "{content}");
    assert!(content.ends_with("\n<@zhangsan>"), "markdown mentions are inline: {content}");
    assert!(b["markdown"].get("mentioned_list").is_none());

    s.message_type = WecomMessageType::Text;
    s.message = "{{ .Status }}: {{ .CommonLabels.alertname }}".into();
    wecom(s.clone()).notify(&ctx("ops"), &[firing("i1")]).await.unwrap();
    let b = mock.last().body;
    assert_eq!(b["msgtype"], "text");
    assert_eq!(b["text"]["content"], "firing: A");
    assert_eq!(b["text"]["mentioned_list"], serde_json::json!(["zhangsan", "@all"]));
    assert_eq!(b["text"]["mentioned_mobile_list"], serde_json::json!(["13800000000"]));

    s.message_type = WecomMessageType::MarkdownV2;
    wecom(s).notify(&ctx("ops"), &[firing("i1")]).await.unwrap();
    let b = mock.last().body;
    assert_eq!(b["msgtype"], "markdown_v2");
    assert_eq!(b["markdown_v2"]["content"], "firing: A");
}

#[tokio::test]
async fn errcodes_and_retry_classification() {
    let cases = vec![
        AnswerCase {
            name: "frequency limit",
            answer: errcode(45009, "api freq out of limit"),
            want: (Retry::Yes, FailureReason::ClientError, "errcode 45009: api freq out of limit"),
        },
        AnswerCase {
            name: "system busy",
            answer: errcode(-1, "system busy"),
            want: (Retry::Yes, FailureReason::ServerError, "errcode -1: system busy"),
        },
        AnswerCase {
            name: "too long",
            answer: errcode(40058, "markdown.content exceed max length 4096"),
            want: (
                Retry::No,
                FailureReason::ClientError,
                "errcode 40058: markdown.content exceed max length 4096",
            ),
        },
        AnswerCase {
            name: "http 500",
            answer: (500, String::new()),
            want: (Retry::Yes, FailureReason::ServerError, "unexpected status code 500"),
        },
    ];
    check_answers(cases, &ctx("ops"), &[firing("i1")], |answer| async {
        let mock = robot(vec![answer]).await;
        let w = wecom(WecomSettings::new(url(&mock)));
        (mock, w)
    })
    .await;
}

#[tokio::test]
async fn wrong_key_fails_without_leaking() {
    let mock = robot(vec![]).await;
    let bad_key = "ffffffff-0000-4bc4-97a0-0ec2sifa5bbb";
    let bad = mock.url(&format!("/cgi-bin/webhook/send?key={bad_key}"));
    let w = wecom(WecomSettings::new(bad.clone()));
    let e = assert_no_secret_leak(&w, &ctx("ops"), &[firing("i1")], &[&bad, bad_key]).await.unwrap_err();
    assert!(e.message.starts_with("errcode 93000: invalid webhook url"), "{}", e.message);
    assert_eq!(e.retry, Retry::No);

    let closed = format!("http://127.0.0.1:1/cgi-bin/webhook/send?key={KEY}");
    let w = wecom(WecomSettings::new(closed.clone()));
    let e = assert_no_secret_leak(&w, &ctx("ops"), &[firing("i1")], &[&closed, KEY]).await.unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
}

#[tokio::test]
async fn content_is_kept_within_the_limits() {
    let mock = robot(vec![]).await;
    let alerts: Vec<_> = (0..200).map(|i| firing(&format!("实例-{i:03}"))).collect();
    let mut s = WecomSettings::new(url(&mock));
    s.mentioned_list = vec!["zhangsan".into()];
    wecom(s.clone()).notify(&ctx("ops"), &alerts).await.unwrap();
    let content = mock.last().body["markdown"]["content"].as_str().unwrap().to_owned();
    assert!(content.len() <= MAX_MARKDOWN, "{}", content.len());
    assert!(content.contains(" more alerts\n<@zhangsan>"), "{}", &content[content.len() - 60..]);

    s.message_type = WecomMessageType::Text;
    wecom(s).notify(&ctx("ops"), &alerts).await.unwrap();
    let content = mock.last().body["text"]["content"].as_str().unwrap().to_owned();
    assert!(content.len() <= MAX_TEXT, "{}", content.len());
    assert!(content.trim_end().ends_with(" more alerts"));
}

#[tokio::test]
async fn from_config() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "route: {{receiver: w}}\nreceivers:\n- name: w\n  wecom_configs:\n  - url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}\n    message_type: text\n    mentioned_mobile_list: [13800000000]\n"
    );
    let cfg = tocsin_config::load_str(&yaml, dir.path(), tocsin_config::ParseMode::default()).unwrap();
    let c = &cfg.receivers[0].wecom_configs[0];
    let s = WecomSettings::from_config(c);
    assert_eq!(s.message_type, WecomMessageType::Text);
    assert_eq!(s.mentioned_mobile_list, ["13800000000"]);
    let w = Wecom::from_config(c, Arc::new(Template::with_defaults()));
    assert!(!format!("{w:?}").contains(KEY));
    assert!(!cfg.to_yaml().contains(KEY));
}

#[test]
fn example_config_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/wecom.yml");
    let cfg = tocsin_config::load(&path, tocsin_config::ParseMode::default()).unwrap();
    assert!(cfg.receivers.iter().any(|r| !r.wecom_configs.is_empty()));
    assert!(!cfg.to_yaml().contains("REPLACE"), "secrets render as <secret>");
}
