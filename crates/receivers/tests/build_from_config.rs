//! `build` from a real `alertmanager.yml`: the config crate's structs map onto working integrations, in the
//! receiver's declaration order.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use common::{ctx, firing, install_crypto};
use std::time::Duration;
use tocsin_config::ParseMode;
use tocsin_pipeline::notifier::Retry;
use tocsin_testkit::Sink;

#[tokio::test]
async fn builds_integrations_from_yaml() {
    install_crypto();
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("password"), "s3cr3t-pass\n").unwrap();
    std::fs::write(dir.path().join("url"), sink.url("/from-file")).unwrap();
    let yml = format!(
        r#"
route:
  receiver: team
receivers:
  - name: team
    rocketchat_configs:
      - {{api_url: 'http://127.0.0.1:9/rc', token_id: id, token: tok, channel: '#ops'}}
    webhook_configs:
      - url: '{url}'
        send_resolved: false
        max_alerts: 1
        timeout: 5s
        http_config:
          basic_auth: {{username: admin, password_file: password}}
      - url_file: url
        http_config:
          authorization: {{credentials: tok}}
"#,
        url = sink.url("/inline")
    );
    let cfg = tocsin_config::load_str(&yml, dir.path(), ParseMode::default()).unwrap();
    let template = std::sync::Arc::new(tocsin_template::Template::with_defaults());
    let clock: tocsin_model::clock::SharedClock = std::sync::Arc::new(tocsin_model::clock::SystemClock);
    let built = tocsin_receivers::build(&cfg.receivers[0], &template, &clock);
    let ids: Vec<_> = built.iter().map(|i| (i.kind, i.index)).collect();
    assert_eq!(ids, [("webhook", 0), ("webhook", 1), ("rocketchat", 0)]);

    // Rocket.Chat's default send_resolved is false; its port 9 is closed: a retryable transport error.
    assert!(!built[2].notifier.send_resolved());
    let e = built[2].notifier.notify(&ctx("team"), &[firing("i1")]).await.unwrap_err();
    assert_eq!(e.retry, Retry::Yes, "{}", e.message);

    assert!(!built[0].notifier.send_resolved());
    built[0].notifier.notify(&ctx("team"), &[firing("i1"), firing("i2")]).await.unwrap();
    built[1].notifier.notify(&ctx("team"), &[firing("i1")]).await.unwrap();
    let reqs = sink.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(reqs[0].path, "/inline");
    assert_eq!(reqs[0].header("authorization"), Some("Basic YWRtaW46czNjcjN0LXBhc3M="));
    assert_eq!(reqs[0].json()["truncatedAlerts"], 1);
    assert_eq!(reqs[1].path, "/from-file");
    assert_eq!(reqs[1].header("authorization"), Some("Bearer tok"));
}
