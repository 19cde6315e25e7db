//! `discord_configs`: golden bodies captured from Alertmanager 0.25 (`tests/golden_discord/`, see its README),
//! the 0.26+/0.28 additions (rune limits, `content`, `username`, `avatar_url`) pinned by hand, retry
//! classification, `webhook_url_file`, and no secret leaks.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use common::golden::{self, alerts_of, assert_same};
use common::server::{response, Server};
use common::{ctx, firing, install_crypto};
use serde_json::json;
use std::sync::Arc;
use tocsin_pipeline::notifier::{FailureReason, Notifier, NotifyCtx, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::discord::{
    Discord, DiscordSettings, COLOR_FIRING, COLOR_RESOLVED, MAX_CONTENT_RUNES, MAX_DESCRIPTION_RUNES,
    MAX_TITLE_RUNES,
};
use tocsin_template::Template;

const RESOLVED_ALERTS: &str = include_str!("golden_discord/alerts_resolved.json");
const AM_YML: &str = include_str!("golden_discord/am.yml.in");
const DEFAULT: &[u8] = include_bytes!("golden_discord/default.body.json");
const FULL: &[u8] = include_bytes!("golden_discord/full.body.json");
const RESOLVED: &[u8] = include_bytes!("golden_discord/resolved.body.json");

/// The capture's context: `--web.external-url=http://am.example:9093/prefix`, `group_by: [alertname]`.
fn golden_ctx(receiver: &str, alertname: &str) -> NotifyCtx {
    let group_key = format!("{{}}/{{alertname=\"{alertname}\"}}:{{alertname=\"{alertname}\"}}");
    golden::ctx_with(receiver, &group_key, alertname)
}

/// The capture's config, with the sink at `base` (`http://127.0.0.1:<port>`).
fn config(base: &str) -> tocsin_config::Config {
    golden::config(AM_YML, base, &"é".repeat(200))
}

fn discord_of(cfg: &tocsin_config::Config, receiver: &str) -> Discord {
    let c = &cfg.receiver(receiver).unwrap().discord_configs[0];
    Discord::from_config(c, Arc::new(Template::with_defaults()))
}

#[test]
fn custom_templates_match_alertmanager() {
    let d = discord_of(&config("http://127.0.0.1:1"), "discord-full");
    assert_same("body", &d.body(&golden_ctx("discord-full", "Golden"), &golden::alerts()).unwrap(), FULL);
}

/// tocsin's default `discord.default.message` is its own text (see the template crate): it renders the same
/// lines as upstream's, without upstream's blank lines. Everything else is compared exactly.
fn assert_same_but_blank_lines(got: &[u8], want: &[u8]) {
    let mut got: serde_json::Value = serde_json::from_slice(got).unwrap();
    let mut want: serde_json::Value = serde_json::from_slice(want).unwrap();
    for v in [&mut got, &mut want] {
        let d = v["embeds"][0]["description"].as_str().unwrap();
        let lines: Vec<&str> = d.lines().filter(|l| !l.is_empty()).collect();
        v["embeds"][0]["description"] = json!(lines);
    }
    assert_eq!(got, want);
}

#[test]
fn default_templates_match_alertmanager() {
    let d = discord_of(&config("http://127.0.0.1:1"), "discord-default");
    let got = d.body(&golden_ctx("discord-default", "Golden"), &golden::alerts()).unwrap();
    assert_same_but_blank_lines(&got, DEFAULT);
}

#[test]
fn resolved_is_green() {
    let d = discord_of(&config("http://127.0.0.1:1"), "discord-resolved");
    let ctx = golden_ctx("discord-resolved", "GoldenResolved");
    let got = d.body(&ctx, &alerts_of(RESOLVED_ALERTS)).unwrap();
    assert_same_but_blank_lines(&got, RESOLVED);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&got).unwrap()["embeds"][0]["color"],
        COLOR_RESOLVED
    );
    assert_eq!(COLOR_FIRING, 10038562, "0x992D22, as captured");
}

fn settings(url: String) -> DiscordSettings {
    let yml = format!(
        "route: {{receiver: r}}\nreceivers:\n  - name: r\n    discord_configs:\n      - webhook_url: '{url}'\n"
    );
    let cfg = tocsin_config::load_str(&yml, std::path::Path::new("/"), tocsin_config::ParseMode::default())
        .unwrap();
    DiscordSettings::from_config(&cfg.receivers[0].discord_configs[0])
}

fn discord(s: DiscordSettings) -> Discord {
    Discord::new(s, Arc::new(Template::with_defaults()))
}

/// 0.26+ cut title and description by runes, 0.28 adds `content` (a template, ≤ 2000 runes), `username` and
/// `avatar_url` (as written; omitted when empty). Derived from upstream's source; 0.25 cannot show them.
#[test]
fn limits_and_0_28_fields() {
    let mut s = settings("http://127.0.0.1:1/api/webhooks/1/t".into());
    s.title = "é".repeat(300);
    s.message = "🚨".repeat(5000);
    s.content = "{{ .Status }} ".to_owned() + &"x".repeat(3000);
    s.username = "Alertmanager <bot>".into();
    s.avatar_url = "https://img.example/a.png?x=1&y=2".into();
    let body = discord(s).body(&ctx("r"), &[firing("i1")]).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let e = &v["embeds"][0];
    let title = e["title"].as_str().unwrap();
    assert_eq!(title.chars().count(), MAX_TITLE_RUNES);
    assert!(title.ends_with("é…"));
    let desc = e["description"].as_str().unwrap();
    assert_eq!(desc.chars().count(), MAX_DESCRIPTION_RUNES);
    assert!(desc.ends_with("🚨…"));
    let content = v["content"].as_str().unwrap();
    assert_eq!(content.chars().count(), MAX_CONTENT_RUNES);
    assert!(content.starts_with("firing xxx") && content.ends_with("x…"));
    let text = String::from_utf8(body).unwrap();
    assert!(text.ends_with(
        r#""color":10038562}],"username":"Alertmanager \u003cbot\u003e","avatar_url":"https://img.example/a.png?x=1\u0026y=2"}
"#
    ));

    // An avatar_url Go's url.Parse rejects is dropped.
    let mut s = settings("http://127.0.0.1:1/x".into());
    s.avatar_url = "https://img.example/%zz.png".into();
    let v: serde_json::Value =
        serde_json::from_slice(&discord(s).body(&ctx("r"), &[firing("i1")]).unwrap()).unwrap();
    assert!(v.get("avatar_url").is_none(), "{v}");

    // Empty username and avatar_url are omitted, content always sent.
    let mut s = settings("http://127.0.0.1:1/x".into());
    s.title = "t".into();
    s.message = "m".into();
    let body = discord(s).body(&ctx("r"), &[firing("i1")]).unwrap();
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "{\"content\":\"\",\"embeds\":[{\"title\":\"t\",\"description\":\"m\",\"color\":10038562}]}\n"
    );
}

#[tokio::test]
async fn retries_like_upstream() {
    install_crypto();
    struct Case {
        status: u16,
        want: Result<(), (Retry, &'static str)>,
    }
    let cases = [
        Case { status: 204, want: Ok(()) },
        Case { status: 200, want: Ok(()) },
        Case { status: 400, want: Err((Retry::No, "unexpected status code 400: answer")) },
        Case { status: 404, want: Err((Retry::No, "unexpected status code 404: answer")) },
        // Discord rate-limits with 429, yet upstream's retrier for Discord has no retry codes.
        Case { status: 429, want: Err((Retry::No, "unexpected status code 429: answer")) },
        Case { status: 500, want: Err((Retry::Yes, "unexpected status code 500: answer")) },
        Case { status: 502, want: Err((Retry::Yes, "unexpected status code 502: answer")) },
    ];
    for c in cases {
        let status = c.status;
        let server = Server::start(None, Arc::new(move |_| response(status, "", b"answer"))).await;
        let d = discord(settings(format!("http://127.0.0.1:{}/api/webhooks/1/tok", server.port)));
        let got = d.notify(&ctx("r"), &[firing("i1")]).await.map_err(|e| {
            // Upstream returns the retrier's error without a reason: the metric says `other`.
            assert_eq!(e.reason, FailureReason::Other);
            (e.retry, e.message)
        });
        assert_eq!(got, c.want.map_err(|(r, m)| (r, m.to_owned())), "{status}");
        let seen = server.seen.lock().await.clone();
        assert!(seen[0].head.starts_with("POST /api/webhooks/1/tok HTTP/1.1\r\n"));
        assert!(seen[0].head.to_ascii_lowercase().contains("content-type: application/json\r\n"));
    }
}

#[tokio::test]
async fn webhook_url_file_and_no_leaks() {
    install_crypto();
    let token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
    let server = Server::start(
        None,
        Arc::new(|path: &str| response(401, "", format!("{{\"message\": \"bad token {path}\"}}").as_bytes())),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("discord_url");
    let mut s = settings("http://unused".into());
    s.url = tocsin_receivers::SecretSource::File(path.clone());
    let d = discord(s);
    let e = d.notify(&ctx("r"), &[firing("i1")]).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.starts_with("read webhook_url_file: open "), "{}", e.message);
    std::fs::write(&path, format!(" http://127.0.0.1:{}/api/webhooks/1/{token}\n", server.port)).unwrap();
    let e = assert_no_secret_leak(&d, &ctx("r"), &[firing("i1")], &[token]).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.starts_with("unexpected status code 401: "), "{}", e.message);
    // Nothing listens on port 1: a retried transport error without the URL.
    let d = discord(settings(format!("http://127.0.0.1:1/api/webhooks/1/{token}")));
    let e = assert_no_secret_leak(&d, &ctx("r"), &[firing("i1")], &[token]).await.unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
}
