//! Black-box: the real `tocsin` binary with one receiver holding every Alertmanager integration that can be
//! pointed at a loopback server (all but email, tested in tests/receivers.rs's crate, and Pushover, whose address
//! upstream fixes), each answering as its API does. One alert → one request to each, and the notification metrics
//! count each integration once, with no failure: the app builds every integration from `alertmanager.yml`
//! (globals, templates, secrets) and its pipeline drives them. The wire format of each is proven by the golden
//! tests in crates/receivers/tests.

use std::time::Duration;
use tocsin_testkit::{NodeBuilder, Sink};
use tokio::time::Instant;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tocsin")
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

/// (integration name, path prefix its request must arrive on).
const EXPECTED: [(&str, &str); 13] = [
    ("webhook", "/webhook"),
    ("slack", "/slack"),
    ("discord", "/discord"),
    ("msteams", "/msteams/"),
    ("msteamsv2", "/msteamsv2"),
    ("rocketchat", "/rc/api/v1/chat.postMessage"),
    ("telegram", "/tg/botTOKEN123/sendMessage"),
    ("webex", "/webex"),
    ("wechat", "/wechat/message/send"),
    ("pagerduty", "/pd"),
    ("opsgenie", "/og/v2/alerts"),
    ("victorops", "/vo/KEY/route-a"),
    ("sns", "/sns"),
];

fn config(sink: &Sink) -> String {
    let u = |p: &str| sink.url(p);
    format!(
        r#"
global:
  slack_api_url: '{slack}'
  opsgenie_api_url: '{og}'
  opsgenie_api_key: 'OGKEY'
  victorops_api_url: '{vo}'
  wechat_api_url: '{wechat}'
  wechat_api_secret: 'WSECRET'
  wechat_api_corp_id: 'corp'
  telegram_api_url: '{tg}'
  webex_api_url: '{webex}'
  jira_api_url: '{jira}'
route:
  receiver: all
  group_wait: 0s
  group_interval: 1h
receivers:
  - name: all
    webhook_configs: [{{url: '{webhook}'}}]
    slack_configs: [{{channel: '#ops', send_resolved: true}}]
    discord_configs: [{{webhook_url: '{discord}'}}]
    msteams_configs: [{{webhook_url: '{msteams}'}}]
    msteamsv2_configs: [{{webhook_url: '{msteamsv2}'}}]
    rocketchat_configs: [{{api_url: '{rc}', token_id: 'UID', token: 'RCTOKEN', channel: '#ops'}}]
    telegram_configs: [{{bot_token: 'TOKEN123', chat_id: 42}}]
    webex_configs: [{{room_id: 'room', http_config: {{authorization: {{credentials: 'WXTOKEN'}}}}}}]
    wechat_configs: [{{to_user: '@all', agent_id: '1000002'}}]
    pagerduty_configs: [{{routing_key: 'PDKEY', url: '{pd}'}}]
    opsgenie_configs: [{{}}]
    victorops_configs: [{{api_key: 'KEY', routing_key: 'route-a'}}]
    sns_configs:
      - api_url: '{sns}'
        topic_arn: 'arn:aws:sns:us-east-1:123456789012:alerts'
        sigv4: {{region: us-east-1, access_key: AKIDEXAMPLE, secret_key: SNSSECRET}}
    jira_configs: [{{project: OPS, issue_type: Bug}}]
"#,
        slack = u("/slack"),
        og = u("/og/"),
        vo = u("/vo/"),
        wechat = u("/wechat/"),
        tg = u("/tg"),
        webex = u("/webex"),
        jira = u("/jira/rest/api/2"),
        webhook = u("/webhook"),
        discord = u("/discord"),
        msteams = u("/msteams/"),
        msteamsv2 = u("/msteamsv2"),
        rc = u("/rc"),
        pd = u("/pd"),
        sns = u("/sns"),
    )
}

fn metric(text: &str, line_start: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(line_start).and_then(|v| v.trim().parse().ok()))
}

#[tokio::test]
async fn one_alert_reaches_every_integration_once() {
    let sink = Sink::start().await;
    sink.answer("/slack", "ok");
    sink.answer("/rc/", r#"{"success":true}"#);
    sink.answer("/tg/", r#"{"ok":true,"result":{"message_id":1}}"#);
    sink.answer(
        "/wechat/gettoken",
        r#"{"errcode":0,"errmsg":"ok","access_token":"WXACCESS","expires_in":7200}"#,
    );
    sink.answer("/wechat/message/send", r#"{"errcode":0,"errmsg":"ok"}"#);
    sink.answer("/jira/rest/api/2/search", r#"{"total":0,"issues":[]}"#);
    sink.answer("/jira/rest/api/2/issue", r#"{"id":"10000","key":"OPS-1"}"#);
    sink.answer(
        "/sns",
        "<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>",
    );
    let node =
        NodeBuilder::new(bin()).config(&config(&sink)).arg("--log.level=debug").start().expect("start");
    let r = client()
        .post(node.url("/api/v2/alerts"))
        .header("Content-Type", "application/json")
        .body(r#"[{"labels":{"alertname":"Everywhere","severity":"critical"},"annotations":{"summary":"disk full"}}]"#)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status().as_u16(), 200);

    // Every integration has sent (wechat fetches its token and jira searches first).
    let seen = |reqs: &[tocsin_testkit::SinkRequest]| {
        EXPECTED.iter().all(|(_, prefix)| reqs.iter().any(|r| r.path.starts_with(prefix)))
            && reqs.iter().any(|r| r.path == "/jira/rest/api/2/issue")
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen(&sink.requests()) {
        let paths: Vec<_> = sink.requests().into_iter().map(|r| r.path).collect();
        assert!(Instant::now() < deadline, "not every integration sent: {paths:?}\nlog:\n{}", node.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let metrics = client().get(node.url("/metrics")).send().await.expect("GET").text().await.expect("text");
    for kind in EXPECTED.iter().map(|(k, _)| *k).chain(["jira"]) {
        let total = metric(&metrics, &format!("alertmanager_notifications_total{{integration=\"{kind}\"}}"));
        assert_eq!(total, Some(1.0), "{kind}\n{metrics}");
        // Every attempt succeeded: an answer the integration misread would count here at once.
        let failed = metric(
            &metrics,
            &format!("alertmanager_notification_requests_failed_total{{integration=\"{kind}\"}}"),
        );
        assert_eq!(failed.unwrap_or(0.0), 0.0, "{kind}\n{metrics}\nlog:\n{}", node.log());
    }
    let failed: Vec<_> = metrics
        .lines()
        .filter(|l| l.starts_with("alertmanager_notifications_failed_total{") && !l.ends_with(" 0"))
        .collect();
    assert!(failed.is_empty(), "failures: {failed:?}\nlog:\n{}", node.log());

    let reqs = sink.requests();
    for (kind, prefix) in EXPECTED {
        let n = reqs.iter().filter(|r| r.path.starts_with(prefix)).count();
        assert_eq!(
            n,
            1,
            "{kind}: {n} requests on {prefix}; paths: {:?}\nlog:\n{}",
            reqs.iter().map(|r| &r.path).collect::<Vec<_>>(),
            node.log()
        );
    }
    let jira_creates = reqs.iter().filter(|r| r.path == "/jira/rest/api/2/issue").count();
    assert_eq!(jira_creates, 1);
    // The credentials arrived where each API expects them, and none is in the log.
    let header = |prefix: &str, name: &str| {
        reqs.iter().find(|r| r.path.starts_with(prefix)).and_then(|r| r.header(name)).map(str::to_owned)
    };
    assert_eq!(header("/og/", "authorization").as_deref(), Some("GenieKey OGKEY"));
    assert_eq!(header("/webex", "authorization").as_deref(), Some("Bearer WXTOKEN"));
    assert_eq!(header("/rc/", "x-auth-token").as_deref(), Some("RCTOKEN"));
    assert!(header("/sns", "authorization")
        .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")));
    let log = node.log();
    for secret in ["OGKEY", "WXTOKEN", "RCTOKEN", "SNSSECRET", "WSECRET", "TOKEN123", "PDKEY", "WXACCESS"] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
    // And the status page hides them too.
    let status =
        client().get(node.url("/api/v2/status")).send().await.expect("GET").text().await.expect("text");
    for secret in ["OGKEY", "WXTOKEN", "RCTOKEN", "SNSSECRET", "WSECRET", "TOKEN123", "PDKEY"] {
        assert!(!status.contains(secret), "{secret} in /api/v2/status");
    }
}
