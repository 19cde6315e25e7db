//! Jira (0.28) against a loopback mock of the REST API: search by the group's `ALERT{…}` label, create or update,
//! reopen/resolve transitions, API v3 descriptions, truncation, templated custom fields and retry rules. There is
//! no Alertmanager ≥0.28 on this machine, so the expected requests follow upstream's source (notify/jira).
#![allow(clippy::unwrap_used)]

mod common;

use common::server::{response, Seen, Server};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::time::parse_rfc3339;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::jira::{Jira, JiraSettings};
use tocsin_receivers::{Auth, HttpClientSettings, SecretSource};
use tocsin_template::Template;

/// SHA-256 of common::ctx's group key `{}:{alertname="A"}`.
fn label() -> String {
    format!("ALERT{{{}}}", tocsin_receivers::sns::sigv4::sha256_hex(b"{}:{alertname=\"A\"}"))
}

fn settings(api_url: String) -> JiraSettings {
    JiraSettings {
        api_url,
        project: "OPS".into(),
        issue_type: "Bug".into(),
        summary: "{{ .GroupLabels.alertname }} {{ .Status }}".into(),
        description: "{{ range .Alerts }}{{ .Labels.instance }} <&>\n{{ end }}".into(),
        labels: vec!["zeta".into(), "{{ .Receiver }}".into()],
        priority: "High".into(),
        reopen_transition: String::new(),
        resolve_transition: String::new(),
        wont_fix_resolution: String::new(),
        reopen_duration: Duration::ZERO,
        fields: BTreeMap::new(),
        send_resolved: true,
        http: HttpClientSettings {
            auth: Auth::Basic {
                username: SecretSource::Inline("bot".into()),
                password: Some(SecretSource::Inline("pw".into())),
            },
            ..Default::default()
        },
    }
}

fn resolved(instance: &str) -> Arc<Alert> {
    let mut a = Alert::clone(&common::firing(instance));
    a.ends_at = parse_rfc3339("2024-05-31T23:30:00Z").unwrap();
    Arc::new(a)
}

/// A mock Jira: `search` answers with the given issues; creates, updates and transitions succeed; the
/// transitions list offers "Reopen" (11) and "Done" (21).
async fn mock(issues: Value) -> Server {
    let search = json!({ "issues": issues }).to_string();
    Server::start(
        None,
        Arc::new(move |path: &str| {
            if path.ends_with("/search") || path.ends_with("/search/jql") {
                response(200, "", search.as_bytes())
            } else if path.ends_with("/transitions") {
                response(
                    200,
                    "",
                    br#"{"transitions":[{"id":"11","name":"Reopen"},{"id":"21","name":"Done"}]}"#,
                )
            } else if path.ends_with("/issue") {
                response(201, "", br#"{"id":"10001","key":"OPS-1"}"#)
            } else {
                response(204, "", b"")
            }
        }),
    )
    .await
}

async fn calls(server: &Server) -> Vec<(String, String, Seen)> {
    server
        .seen
        .lock()
        .await
        .iter()
        .map(|s| {
            let mut first = s.head.split_whitespace();
            (first.next().unwrap().to_owned(), first.next().unwrap().to_owned(), s.clone())
        })
        .collect()
}

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn issue(key: &str, category: &str) -> Value {
    json!([{ "key": key, "fields": { "status": { "name": "x", "statusCategory": { "key": category } } } }])
}

fn jira(s: JiraSettings) -> Jira {
    Jira::new(s, Arc::new(Template::with_defaults()))
}

#[tokio::test]
async fn creates_an_issue_for_a_new_firing_group() {
    let server = mock(json!([])).await;
    let j = jira(settings(format!("http://127.0.0.1:{}/rest/api/2", server.port)));
    j.notify(&common::ctx("team-x"), &[common::firing("i1"), common::firing("i2")]).await.unwrap();
    let calls = calls(&server).await;
    assert_eq!(calls.len(), 2);

    let (method, path, search) = &calls[0];
    assert_eq!((method.as_str(), path.as_str()), ("POST", "/rest/api/2/search"));
    let want_search = format!(
        "{{\"fields\":[\"status\"],\"jql\":\"statusCategory != Done and project=\\\"OPS\\\" and \
         labels=\\\"{}\\\" order by status ASC,resolutiondate DESC\",\"maxResults\":2}}\n",
        label()
    );
    assert_eq!(String::from_utf8_lossy(&search.body), want_search);
    assert_eq!(header(search, "content-type"), Some("application/json"));
    assert_eq!(header(search, "accept-language"), Some("en"));
    assert_eq!(header(search, "authorization"), Some("Basic Ym90OnB3"));

    let (method, path, create) = &calls[1];
    assert_eq!((method.as_str(), path.as_str()), ("POST", "/rest/api/2/issue"));
    // Keys sorted as Go marshals a map; HTML-safe escaping; labels sorted with the group label.
    let want = format!(
        "{{\"fields\":{{\"description\":\"i1 \\u003c\\u0026\\u003e\\ni2 \\u003c\\u0026\\u003e\\n\",\
         \"issuetype\":{{\"name\":\"Bug\"}},\"labels\":[\"{}\",\"team-x\",\"zeta\"],\"priority\":{{\"name\":\"High\"}},\
         \"project\":{{\"key\":\"OPS\"}},\"summary\":\"A firing\"}}}}\n",
        label()
    );
    assert_eq!(String::from_utf8_lossy(&create.body), want);
}

#[tokio::test]
async fn resolved_group_without_issue_sends_nothing_more() {
    let server = mock(json!([])).await;
    let j = jira(settings(format!("http://127.0.0.1:{}/rest/api/2", server.port)));
    j.notify(&common::ctx("r"), &[resolved("i1")]).await.unwrap();
    let calls = calls(&server).await;
    assert_eq!(calls.len(), 1, "only the search");
    assert!(calls[0].1.ends_with("/search"));
}

#[tokio::test]
async fn firing_group_reopens_its_done_issue_within_the_reopen_window() {
    let server = mock(issue("OPS-7", "done")).await;
    let mut s = settings(format!("http://127.0.0.1:{}/rest/api/2", server.port));
    s.reopen_transition = "Reopen".into();
    s.reopen_duration = Duration::from_secs(90 * 60);
    s.wont_fix_resolution = "Won't Fix".into();
    jira(s).notify(&common::ctx("r"), &[common::firing("i1")]).await.unwrap();
    let calls = calls(&server).await;
    let summary: Vec<(&str, &str)> = calls.iter().map(|(m, p, _)| (m.as_str(), p.as_str())).collect();
    assert_eq!(
        summary,
        [
            ("POST", "/rest/api/2/search"),
            ("PUT", "/rest/api/2/issue/OPS-7"),
            ("GET", "/rest/api/2/issue/OPS-7/transitions"),
            ("POST", "/rest/api/2/issue/OPS-7/transitions"),
        ]
    );
    let search: Value = serde_json::from_slice(&calls[0].2.body).unwrap();
    assert_eq!(
        search["jql"],
        format!(
            "resolution != \"Won't Fix\" and (resolutiondate is EMPTY OR resolutiondate >= -90m) and \
             project=\"OPS\" and labels=\"{}\" order by status ASC,resolutiondate DESC",
            label()
        )
    );
    assert_eq!(calls[3].2.body, b"{\"transition\":{\"id\":\"11\"}}\n");
}

#[tokio::test]
async fn resolved_group_resolves_its_open_issue() {
    let server = mock(issue("OPS-7", "indeterminate")).await;
    let mut s = settings(format!("http://127.0.0.1:{}/rest/api/2", server.port));
    s.resolve_transition = "Done".into();
    jira(s).notify(&common::ctx("r"), &[resolved("i1")]).await.unwrap();
    let calls = calls(&server).await;
    assert_eq!(calls.len(), 4);
    assert_eq!((calls[1].0.as_str(), calls[1].1.as_str()), ("PUT", "/rest/api/2/issue/OPS-7"));
    let update: Value = serde_json::from_slice(&calls[1].2.body).unwrap();
    assert_eq!(update["fields"]["summary"], "A resolved");
    assert_eq!(calls[3].2.body, b"{\"transition\":{\"id\":\"21\"}}\n");
}

#[tokio::test]
async fn open_issue_of_a_firing_group_is_only_updated() {
    let server = mock(issue("OPS-7", "new")).await;
    let mut s = settings(format!("http://127.0.0.1:{}/rest/api/2", server.port));
    s.reopen_transition = "Reopen".into();
    jira(s).notify(&common::ctx("r"), &[common::firing("i1")]).await.unwrap();
    assert_eq!(calls(&server).await.len(), 2);
}

#[tokio::test]
async fn unknown_transition_fails_permanently() {
    let server = mock(issue("OPS-7", "new")).await;
    let mut s = settings(format!("http://127.0.0.1:{}/rest/api/2", server.port));
    s.resolve_transition = "Close it".into();
    let e = jira(s).notify(&common::ctx("r"), &[resolved("i1")]).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert_eq!(e.message, "can't find transition Close it for issue OPS-7");
}

#[tokio::test]
async fn api_v3_sends_the_description_as_document_json() {
    let server = mock(json!([])).await;
    let mut s = settings(format!("http://127.0.0.1:{}/rest/api/3", server.port));
    s.description = r#"{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"{{ .Status }}"}]}]}"#.into();
    jira(s.clone()).notify(&common::ctx("r"), &[common::firing("i1")]).await.unwrap();
    let calls = calls(&server).await;
    let create: Value = serde_json::from_slice(&calls[1].2.body).unwrap();
    assert_eq!(create["fields"]["description"]["content"][0]["content"][0]["text"], "firing");

    s.description = "not json".into();
    let e = jira(s).notify(&common::ctx("r"), &[common::firing("i1")]).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.starts_with("description unmarshaling:"), "{}", e.message);
}

#[tokio::test]
async fn long_texts_are_cut_in_runes() {
    let server = mock(json!([])).await;
    let mut s = settings(format!("http://127.0.0.1:{}/rest/api/2", server.port));
    s.summary = "é".repeat(300);
    s.description = "ü".repeat(40_000);
    jira(s).notify(&common::ctx("r"), &[common::firing("i1")]).await.unwrap();
    let create: Value = serde_json::from_slice(&calls(&server).await[1].2.body).unwrap();
    let summary = create["fields"]["summary"].as_str().unwrap();
    assert_eq!(summary.chars().count(), 255);
    assert!(summary.ends_with("é…"));
    let description = create["fields"]["description"].as_str().unwrap();
    assert_eq!(description.chars().count(), 32767);
    assert!(description.ends_with('…'));
}

#[tokio::test]
async fn custom_fields_are_templated_deeply() {
    let server = mock(json!([])).await;
    let mut s = settings(format!("http://127.0.0.1:{}/rest/api/2", server.port));
    s.fields = [
        ("customfield_10000".to_owned(), json!("{{ .GroupLabels.alertname }}")),
        ("customfield_10001".to_owned(), json!("{{ len .Alerts }}")),
        ("customfield_10002".to_owned(), json!({ "k-{{ .Status }}": ["v-{{ .Status }}", 7, true] })),
        ("summary".to_owned(), json!("custom wins")),
    ]
    .into_iter()
    .collect();
    jira(s).notify(&common::ctx("r"), &[common::firing("i1")]).await.unwrap();
    let create: Value = serde_json::from_slice(&calls(&server).await[1].2.body).unwrap();
    let f = &create["fields"];
    assert_eq!(f["customfield_10000"], "A");
    assert_eq!(f["customfield_10001"], 1, "a rendered number becomes a number");
    assert_eq!(f["customfield_10002"], json!({ "k-firing": ["v-firing", 7, true] }));
    assert_eq!(f["summary"], "custom wins");
}

#[tokio::test]
async fn status_codes_follow_upstream_retry_rules() {
    struct Case {
        name: &'static str,
        status: u16,
        want: (Retry, FailureReason),
    }
    let cases = [
        Case { name: "429", status: 429, want: (Retry::Yes, FailureReason::ClientError) },
        Case { name: "503", status: 503, want: (Retry::Yes, FailureReason::ServerError) },
        Case { name: "400", status: 400, want: (Retry::No, FailureReason::ClientError) },
        Case { name: "401", status: 401, want: (Retry::No, FailureReason::ClientError) },
    ];
    for c in cases {
        let status = c.status;
        let server = Server::start(
            None,
            Arc::new(move |_: &str| response(status, "", br#"{"errorMessages":["nope"]}"#)),
        )
        .await;
        let j = jira(settings(format!("http://127.0.0.1:{}/rest/api/2", server.port)));
        let e = j.notify(&common::ctx("r"), &[common::firing("i1")]).await.unwrap_err();
        assert_eq!((e.retry, e.reason), c.want, "{}: {}", c.name, e.message);
        assert_eq!(
            e.message,
            format!("failed to look up existing issues: unexpected status code {status}: {{\"errorMessages\":[\"nope\"]}}"),
            "{}",
            c.name
        );
    }
}

#[tokio::test]
async fn create_failure_names_the_request() {
    let server = Server::start(
        None,
        Arc::new(|path: &str| {
            if path.ends_with("/search") {
                response(200, "", br#"{"issues":[]}"#)
            } else {
                response(400, "", br#"{"errors":{"project":"project is required"}}"#)
            }
        }),
    )
    .await;
    let j = jira(settings(format!("http://127.0.0.1:{}/rest/api/2", server.port)));
    let e = j.notify(&common::ctx("r"), &[common::firing("i1")]).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert_eq!(
        e.message,
        r#"failed to POST request to "issue": unexpected status code 400: {"errors":{"project":"project is required"}}"#
    );
}

#[tokio::test]
async fn bad_template_fails_before_the_issue_is_written() {
    let server = mock(json!([])).await;
    let mut s = settings(format!("http://127.0.0.1:{}/rest/api/2", server.port));
    s.summary = "{{ .Oops".into();
    let e = jira(s).notify(&common::ctx("r"), &[common::firing("i1")]).await.unwrap_err();
    assert_eq!(e.retry, Retry::No);
    assert!(e.message.starts_with("summary template:"), "{}", e.message);
    assert_eq!(calls(&server).await.len(), 1, "only the search ran");
}

/// A firing alert `alertname=A` with the extra labels given.
fn firing_with(extra: &[(&str, &str)]) -> Arc<Alert> {
    let mut a = Alert::clone(&common::firing("i1"));
    for (k, v) in extra {
        a.labels.insert((*k).to_owned(), (*v).to_owned());
    }
    Arc::new(a)
}

#[tokio::test]
async fn self_reproducing_field_templates_are_cut_off() {
    struct Case {
        name: &'static str,
        labels: Vec<(&'static str, String)>,
        want: &'static str,
    }
    let me = "{{ .CommonLabels.payload }}";
    let wide =
        |inner: &str| format!("[{}]", vec![format!("\"{{{{ .CommonLabels.{inner} }}}}\""); 100].join(","));
    let cases = [
        Case {
            name: "renders to itself",
            labels: vec![("payload", format!("[\"{me}\"]"))],
            want: "jira field customfield_1: template nesting deeper than 8",
        },
        Case {
            // 120 nested lists per level: the recursion is bounded in depth, not only in re-renders.
            name: "renders to itself deep inside lists",
            labels: vec![("payload", format!("{}\"{me}\"{}", "[".repeat(120), "]".repeat(120)))],
            want: "jira field customfield_1: value nesting deeper than 32",
        },
        Case {
            name: "renders to itself a few lists deeper each time",
            labels: vec![("payload", format!("[[[[\"{me}\"]]]]"))],
            want: "jira field customfield_1: value nesting deeper than 32",
        },
        Case {
            name: "fans out",
            labels: vec![("payload", wide("b")), ("b", wide("c")), ("c", "x".to_owned())],
            want: "jira field customfield_1: more than 10000 template renders",
        },
    ];
    for c in cases {
        let server = mock(json!([])).await;
        let mut s = settings(format!("http://127.0.0.1:{}/rest/api/2", server.port));
        s.fields = [("customfield_1".to_owned(), json!(me))].into_iter().collect();
        let labels: Vec<(&str, &str)> = c.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let e = jira(s).notify(&common::ctx("r"), &[firing_with(&labels)]).await.unwrap_err();
        assert_eq!((e.retry, e.message.as_str()), (Retry::No, c.want), "{}", c.name);
        assert_eq!(calls(&server).await.len(), 1, "{}: only the search ran", c.name);
    }
}

#[tokio::test]
async fn nesting_within_the_limit_still_renders() {
    let server = mock(json!([])).await;
    let mut s = settings(format!("http://127.0.0.1:{}/rest/api/2", server.port));
    s.fields = [("customfield_1".to_owned(), json!("{{ .CommonLabels.l1 }}"))].into_iter().collect();
    // l1 → [l2] → [[l3]] … 8 re-renders down to a plain string.
    let names: Vec<String> = (1..=9).map(|i| format!("l{i}")).collect();
    let mut labels: Vec<(String, String)> = (1..9)
        .map(|i| (names[i - 1].clone(), format!("[\"{{{{ .CommonLabels.{} }}}}\"]", names[i])))
        .collect();
    labels.push(("l9".into(), "leaf".into()));
    let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    jira(s).notify(&common::ctx("r"), &[firing_with(&labels)]).await.unwrap();
    let create: Value = serde_json::from_slice(&calls(&server).await[1].2.body).unwrap();
    assert_eq!(create["fields"]["customfield_1"], json!([[[[[[[["leaf"]]]]]]]]));
}

#[tokio::test]
async fn transport_and_body_errors_are_not_retried() {
    // Nothing listens: the exchange fails.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let e = jira(settings(format!("http://127.0.0.1:{port}/rest/api/2")))
        .notify(&common::ctx("r"), &[common::firing("i1")])
        .await
        .unwrap_err();
    assert_eq!(e.retry, Retry::No, "{}", e.message);
    assert!(e.message.starts_with("failed to look up existing issues: Post \"<redacted>\""), "{}", e.message);

    // The answer promises 100 bytes and closes after one: the body read fails.
    let server = Server::start(
        None,
        Arc::new(|_: &str| b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{".to_vec()),
    )
    .await;
    let e = jira(settings(format!("http://127.0.0.1:{}/rest/api/2", server.port)))
        .notify(&common::ctx("r"), &[common::firing("i1")])
        .await
        .unwrap_err();
    assert_eq!(e.retry, Retry::No, "{}", e.message);
    assert!(e.message.starts_with("failed to look up existing issues: "), "{}", e.message);
}
