//! Defaults, inheritance, route compilation, secrets and paths.
mod common;
use common::load;
use std::time::Duration;
use tocsin_config::{GroupBy, IntegrationRef};

const BASE: &str = r#"
global:
  smtp_smarthost: 'smtp.example.org:25'
  smtp_from: 'am@example.org'
  smtp_auth_password: 'pw'
  slack_api_url: 'https://hooks.slack.com/services/x'
  http_config:
    basic_auth: {username: u, password: hunter2}
route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s
  routes:
    - matchers: ['team="b"', 'sev=~"crit"']
      receiver: team-b
      repeat_interval: 1d2h
      routes:
        - match: {env: prod}
          group_by: ['...']
          continue: true
    - match_re: {service: 'api|web'}
      receiver: default
      group_by: [service]
      active_time_intervals: [office]
templates: ['templates/*.tmpl', '/abs/x.tmpl']
time_intervals:
  - name: office
    time_intervals: [{weekdays: ['monday:friday']}]
receivers:
  - name: default
    webhook_configs:
      - url: 'http://127.0.0.1:5001/'
  - name: team-b
    email_configs:
      - to: b@example.org
    slack_configs:
      - channel: '#b'
        http_config: {tls_config: {ca_file: ca.pem}}
    opsgenie_configs:
      - api_key: k
        api_url: 'https://og.example/v2'
"#;

#[test]
fn route_tree_compiles_with_inheritance() {
    let c = load(BASE).unwrap();
    let root = &c.route;
    assert_eq!(root.key(), "{}");
    assert_eq!(root.group_wait, Duration::from_secs(10));
    assert_eq!(root.group_interval, Duration::from_secs(300));
    assert_eq!(root.repeat_interval, Duration::from_secs(4 * 3600));
    let b = &root.routes[0];
    assert_eq!(b.key(), r#"{}/{sev=~"crit",team="b"}"#);
    assert_eq!(b.id(), r#"{}/{sev=~"crit",team="b"}/0"#);
    assert_eq!(b.group_by, GroupBy::List(vec!["alertname".into()]));
    assert_eq!(b.group_wait, Duration::from_secs(10));
    assert_eq!(b.repeat_interval, Duration::from_secs(26 * 3600));
    let prod = &b.routes[0];
    assert_eq!(prod.receiver, "team-b");
    assert_eq!(prod.group_by, GroupBy::All);
    assert!(prod.continue_);
    assert_eq!(prod.key(), r#"{}/{sev=~"crit",team="b"}/{env="prod"}"#);
    let svc = &root.routes[1];
    assert_eq!(svc.key(), r#"{}/{service=~"^(?:api|web)$"}"#);
    assert_eq!(svc.active_time_intervals, vec!["office".to_string()]);
    assert!(c.time_intervals.contains_key("office"));

    let labels: tocsin_model::LabelSet =
        [("team", "b"), ("sev", "crit"), ("env", "prod")].into_iter().collect();
    let keys: Vec<&str> = root.match_labels(&labels).iter().map(|r| r.key()).collect();
    assert_eq!(keys, vec![r#"{}/{sev=~"crit",team="b"}/{env="prod"}"#]);
    let other: tocsin_model::LabelSet = [("service", "db")].into_iter().collect();
    assert_eq!(root.match_labels(&other).iter().map(|r| r.key()).collect::<Vec<_>>(), vec!["{}"]);
}

#[test]
fn receivers_inherit_globals() {
    let c = load(BASE).unwrap();
    let wh = &c.receiver("default").unwrap().webhook_configs[0];
    assert!(wh.send_resolved);
    let http = wh.http_config.as_ref().unwrap();
    assert_eq!(http.basic_auth.as_ref().unwrap().password.expose(), "hunter2");
    let b = c.receiver("team-b").unwrap();
    let e = &b.email_configs[0];
    assert!(!e.send_resolved);
    assert_eq!(e.smarthost.to_string(), "smtp.example.org:25");
    assert_eq!(e.from, "am@example.org");
    assert_eq!(e.hello, "localhost");
    assert_eq!(e.auth_password.expose(), "pw");
    assert_eq!(e.require_tls, Some(true));
    assert_eq!(
        e.headers.get("Subject").map(String::as_str),
        Some(r#"{{ template "email.default.subject" . }}"#)
    );
    let s = &b.slack_configs[0];
    assert_eq!(s.api_url.as_ref().unwrap().expose().unwrap().as_str(), "https://hooks.slack.com/services/x");
    let tls = &s.http_config.as_ref().unwrap().tls_config;
    assert_eq!(tls.ca_file, "/etc/am/ca.pem");
    assert!(s.http_config.as_ref().unwrap().basic_auth.is_none(), "own http_config replaces the global one");
    assert_eq!(b.opsgenie_configs[0].api_url.as_ref().unwrap().as_str(), "https://og.example/v2/");
    let kinds: Vec<(&str, usize)> = b.integrations().iter().map(|i| (i.type_name(), i.index)).collect();
    assert_eq!(kinds, vec![("email", 0), ("slack", 0), ("opsgenie", 0)]);
    assert!(matches!(b.integrations()[0].config, IntegrationRef::Email(_)));
}

#[test]
fn templates_and_files_are_relative_to_config_dir() {
    let c = load(BASE).unwrap();
    let t: Vec<String> = c.templates.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(t, vec!["/etc/am/templates/*.tmpl", "/abs/x.tmpl"]);
}

#[test]
fn secrets_render_as_placeholder() {
    let c = load(BASE).unwrap();
    let y = c.to_yaml();
    assert!(!y.contains("hunter2") && !y.contains("hooks.slack.com") && !y.contains(": pw"), "{y}");
    assert!(y.contains("password: <secret>"), "{y}");
    assert!(!format!("{c:?}").contains("hunter2"));
    // Defaults are filled in.
    assert!(y.contains("follow_redirects: true") && y.contains("resolve_timeout: 5m"), "{y}");
    assert!(y.contains("repeat_interval: 1d2h"), "{y}");
}

#[test]
fn defaults_of_an_empty_global() {
    let c = load("global:\nroute: {receiver: r}\nreceivers: [{name: r}]\n").unwrap();
    let g = &c.global;
    assert_eq!(g.resolve_timeout(), Duration::from_secs(300));
    assert!(g.smtp_require_tls);
    assert_eq!(g.smtp_hello, "localhost");
    assert_eq!(g.pagerduty_url.as_ref().unwrap().as_str(), "https://events.pagerduty.com/v2/enqueue");
    assert_eq!(g.telegram_api_url.as_ref().unwrap().as_str(), "https://api.telegram.org");
    assert!(g.http_config.follow_redirects && g.http_config.enable_http2);
    assert_eq!(c.route.group_by, GroupBy::List(vec![]));
}

#[test]
fn send_resolved_defaults_per_type() {
    let text = r#"
global: {slack_api_url: 'http://s', opsgenie_api_key: k, victorops_api_key: k, wechat_api_secret: s, wechat_api_corp_id: 1, smtp_smarthost: 'h:25', smtp_from: a@b, jira_api_url: 'http://j', rocketchat_token: t, rocketchat_token_id: i}
route: {receiver: r}
receivers:
- name: r
  webhook_configs: [{url: 'http://w'}]
  email_configs: [{to: a@b}]
  pagerduty_configs: [{routing_key: k}]
  slack_configs: [{}]
  opsgenie_configs: [{}]
  wechat_configs: [{}]
  victorops_configs: [{routing_key: r}]
  pushover_configs: [{user_key: u, token: t}]
  sns_configs: [{topic_arn: a}]
  telegram_configs: [{bot_token: t, chat_id: 1}]
  discord_configs: [{webhook_url: 'http://d'}]
  webex_configs: [{room_id: r, http_config: {bearer_token: t}}]
  msteams_configs: [{webhook_url: 'http://m'}]
  msteamsv2_configs: [{webhook_url: 'http://m'}]
  jira_configs: [{project: P, issue_type: Bug}]
  rocketchat_configs: [{}]
"#;
    let c = load(text).unwrap();
    let got: Vec<(&str, bool)> =
        c.receivers[0].integrations().iter().map(|i| (i.type_name(), i.config.send_resolved())).collect();
    let want = vec![
        ("discord", true),
        ("email", false),
        ("pagerduty", true),
        ("slack", false),
        ("webhook", true),
        ("opsgenie", true),
        ("wechat", false),
        ("pushover", true),
        ("victorops", true),
        ("sns", true),
        ("telegram", true),
        ("webex", true),
        ("msteams", true),
        ("msteamsv2", true),
        ("jira", true),
        ("rocketchat", false),
    ];
    assert_eq!(got, want);
    assert_eq!(c.receivers[0].wechat_configs[0].corp_id, "1");
}

#[test]
fn hash_is_md5_prefix_little_endian() {
    // md5("") = d41d8cd98f00b204…; first six bytes little-endian.
    assert_eq!(tocsin_config::config_hash(""), 0x008f_d98c_1dd4);
}
