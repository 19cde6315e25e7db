//! SNS: the Publish bodies equal, byte for byte, what Alertmanager 0.25 sent for the same alerts and config
//! (`tests/golden_sns/`, captured by `capture.sh`); our SigV4 reproduces the signatures aws-sdk-go v1 put on
//! those requests; what goes over a socket verifies with an independent verifier at a fixed clock; and the
//! failure paths (XML errors, retries, credentials, region, templates) say what went wrong without secrets.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::golden::{alerts, ctx};
use common::server::{response, Server};
use std::collections::BTreeMap;
use std::sync::Arc;
use tocsin_model::clock::{ManualClock, SharedClock};
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::sns::{sigv4, EnvLookup, SigV4Settings, Sns, SnsSettings};
use tocsin_receivers::HttpClientSettings;
use tocsin_template::Template;

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn template() -> Arc<Template> {
    Arc::new(Template::with_defaults())
}

fn clock_at(t: DateTime<Utc>) -> SharedClock {
    Arc::new(ManualClock::new(t))
}

fn no_env() -> EnvLookup {
    Arc::new(|_| None)
}

fn env(pairs: &[(&'static str, &'static str)]) -> EnvLookup {
    let map: BTreeMap<&str, &str> = pairs.iter().copied().collect();
    Arc::new(move |k| map.get(k).map(|v| (*v).to_owned()))
}

fn base(api_url: &str) -> SnsSettings {
    SnsSettings {
        api_url: api_url.to_owned(),
        sigv4: SigV4Settings {
            region: "us-east-1".into(),
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            ..Default::default()
        },
        topic_arn: String::new(),
        phone_number: String::new(),
        target_arn: String::new(),
        subject: r#"{{ template "sns.default.subject" . }}"#.into(),
        message: r#"{{ template "sns.default.message" . }}"#.into(),
        attributes: BTreeMap::new(),
        send_resolved: true,
        http: HttpClientSettings::default(),
    }
}

/// The four receivers of golden_sns/capture.sh, by name, with the api_url given.
fn golden_settings(name: &str, api_url: &str) -> SnsSettings {
    let s = base(api_url);
    match name {
        "topic" => SnsSettings {
            topic_arn: "arn:aws:sns:us-east-1:123456789012:golden".into(),
            subject: r#"{{ template "__subject" . }}"#.into(),
            message: "{{ range .Alerts }}{{ .Status }} {{ .Labels.instance }}: {{ .Annotations.summary }}\n\
                      {{ .Annotations.description }}\n{{ end }}"
                .into(),
            attributes: [
                ("alertname", "{{ .GroupLabels.alertname }}"),
                ("key with space", "v&=+/é~*"),
                ("a", "1"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            ..s
        },
        "fifo" => SnsSettings {
            topic_arn: "arn:aws:sns:us-east-1:123456789012:golden.fifo".into(),
            message: "fifo {{ len .Alerts }}".into(),
            ..s
        },
        "sms" => SnsSettings {
            phone_number: "+15555550100".into(),
            subject: "sms subject".into(),
            message: format!("{}é€ tail", "x".repeat(1598)),
            ..s
        },
        "target" => SnsSettings {
            target_arn: "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/app/0a1b".into(),
            message: "target {{ .Status }}".into(),
            ..s
        },
        _ => unreachable!("{name}"),
    }
}

const GOLDEN: [&str; 4] = ["topic", "fifo", "sms", "target"];

fn golden_body(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/golden_sns/{name}.body", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Request line (`POST /path`) and headers by lower-case name, from a `.headers` fixture or a raw HTTP head.
struct Head {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(text: &str) -> Head {
        let mut lines = text.lines();
        let mut first = lines.next().unwrap().split_whitespace();
        let method = first.next().unwrap().to_owned();
        let path = first.next().unwrap().to_owned();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Head { method, path, headers }
    }

    fn golden(name: &str) -> Head {
        let path = format!("{}/tests/golden_sns/{name}.headers", env!("CARGO_MANIFEST_DIR"));
        Head::parse(&std::fs::read_to_string(path).unwrap())
    }

    fn get(&self, name: &str) -> &str {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

/// An independent check of a received request: takes the signed-header list and the date from the request
/// itself, recomputes the signature with the known secret, and returns (signed headers, whether it matches).
fn verify(head: &Head, body: &[u8], secret: &str, session_token: Option<&str>) -> (String, bool) {
    let auth = head.get("authorization");
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").expect("SigV4 authorization");
    let field = |name: &str| {
        rest.split(", ")
            .find_map(|p| p.strip_prefix(name).and_then(|p| p.strip_prefix('=')))
            .unwrap()
            .to_owned()
    };
    let credential = field("Credential");
    let signed = field("SignedHeaders");
    let got_signature = field("Signature");
    let parts: Vec<&str> = credential.split('/').collect();
    assert_eq!(parts.len(), 5, "{credential}");
    let (access_key, region, service) = (parts[0], parts[2], parts[3]);
    let date = head.get("x-amz-date");
    let now = Utc
        .with_ymd_and_hms(
            date[0..4].parse().unwrap(),
            date[4..6].parse().unwrap(),
            date[6..8].parse().unwrap(),
            date[9..11].parse().unwrap(),
            date[11..13].parse().unwrap(),
            date[13..15].parse().unwrap(),
        )
        .unwrap();
    assert_eq!(&date[..8], parts[1], "credential date = x-amz-date's day");
    let values: Vec<(&str, &str)> = signed.split(';').map(|n| (n, head.get(n))).collect();
    let (path, query) = head.path.split_once('?').unwrap_or((&head.path, ""));
    let req = sigv4::Request { method: &head.method, path, query, headers: &values, payload: body };
    let creds = sigv4::Credentials {
        access_key: access_key.to_owned(),
        secret_key: secret.to_owned(),
        session_token: session_token.map(str::to_owned),
    };
    let want = sigv4::sign(&req, &creds, sigv4::Scope { region, service }, now);
    (signed, want.signature == got_signature)
}

#[test]
fn publish_bodies_match_alertmanager() {
    let alerts = alerts();
    for name in GOLDEN {
        let sns = Sns::new(golden_settings(name, "http://127.0.0.1:1/"), template(), clock_at(common::now()));
        let body = sns.publish(&ctx(name), &alerts).unwrap().encode();
        let want = golden_body(name);
        assert!(
            body.as_bytes() == want.as_slice(),
            "{name}: body differs from Alertmanager 0.25's\n got: {body}\nwant: {}",
            String::from_utf8_lossy(&want)
        );
    }
}

/// aws-sdk-go v1's signatures on the captured requests are reproduced exactly from their body, headers and date.
#[test]
fn signatures_match_aws_sdk_go() {
    for name in GOLDEN {
        let head = Head::golden(name);
        let (signed, ok) = verify(&head, &golden_body(name), SECRET_KEY, None);
        assert_eq!(signed, "content-length;content-type;host;x-amz-date", "{name}");
        assert!(ok, "{name}: our SigV4 disagrees with aws-sdk-go v1's {}", head.get("authorization"));
        // The check is not vacuous: another secret, or one changed body byte, fails it.
        assert!(!verify(&head, &golden_body(name), "wrong", None).1, "{name}");
        let mut body = golden_body(name);
        body[0] ^= 1;
        assert!(!verify(&head, &body, SECRET_KEY, None).1, "{name}");
    }
}

/// Over a real socket: same body, path and signed-header set as upstream's, a signature that verifies, and the
/// date of the injected clock.
#[tokio::test]
async fn sent_requests_verify() {
    common::install_crypto();
    let ok =
        br#"<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>"#;
    let server = Server::start(None, Arc::new(move |_: &str| response(200, "", ok))).await;
    let at = Utc.with_ymd_and_hms(2024, 6, 1, 12, 34, 56).unwrap();
    let alerts = alerts();
    for name in GOLDEN {
        let want_head = Head::golden(name);
        let api_url = match name {
            "topic" => format!("http://127.0.0.1:{}/topic", server.port),
            "sms" => format!("http://127.0.0.1:{}/sms", server.port),
            "fifo" => format!("http://127.0.0.1:{}/", server.port),
            _ => format!("http://127.0.0.1:{}", server.port),
        };
        let sns = Sns::new(golden_settings(name, &api_url), template(), clock_at(at)).with_env(no_env());
        sns.notify(&ctx(name), &alerts).await.unwrap();
        let seen = server.seen.lock().await.pop().unwrap();
        let head = Head::parse(&seen.head);
        assert_eq!(seen.body, golden_body(name), "{name}");
        assert_eq!((head.method.as_str(), head.path.as_str()), ("POST", want_head.path.as_str()), "{name}");
        assert_eq!(head.get("content-type"), want_head.get("content-type"), "{name}");
        assert_eq!(head.get("x-amz-date"), "20240601T123456Z");
        let (signed, ok) = verify(&head, &seen.body, SECRET_KEY, None);
        assert_eq!(signed, "content-length;content-type;host;x-amz-date", "{name}");
        assert!(ok, "{name}: signature does not verify: {}", seen.head);
        assert!(head.get("authorization").contains("/20240601/us-east-1/sns/aws4_request"));
    }
}

#[tokio::test]
async fn environment_credentials_and_session_token() {
    common::install_crypto();
    let server = Server::start(None, Arc::new(|_: &str| response(200, "", b""))).await;
    let mut s = golden_settings("target", &format!("http://127.0.0.1:{}", server.port));
    s.sigv4 = SigV4Settings::default(); // no keys, no region: both come from elsewhere
    let sns = Sns::new(s, template(), clock_at(common::now())).with_env(env(&[
        ("AWS_ACCESS_KEY_ID", "AKIDENV"),
        ("AWS_SECRET_ACCESS_KEY", "envsecret"),
        ("AWS_SESSION_TOKEN", "envtoken"),
    ]));
    sns.notify(&ctx("target"), &alerts()).await.unwrap();
    let seen = server.seen.lock().await.pop().unwrap();
    let head = Head::parse(&seen.head);
    assert_eq!(head.get("x-amz-security-token"), "envtoken");
    // The region came from the target ARN.
    assert!(head.get("authorization").starts_with(
        "AWS4-HMAC-SHA256 Credential=AKIDENV/20240601/us-east-1/sns/aws4_request, \
         SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token,"
    ));
    let (_, ok) = verify(&head, &seen.body, "envsecret", Some("envtoken"));
    assert!(ok, "{}", seen.head);
}

#[tokio::test]
async fn aws_errors_are_classified_and_named() {
    common::install_crypto();
    struct Case {
        name: &'static str,
        status: u16,
        code: &'static str,
        want_retry: Retry,
        want_reason: FailureReason,
    }
    let cases = [
        Case {
            name: "invalid parameter",
            status: 400,
            code: "InvalidParameter",
            want_retry: Retry::No,
            want_reason: FailureReason::ClientError,
        },
        Case {
            name: "signature",
            status: 403,
            code: "SignatureDoesNotMatch",
            want_retry: Retry::No,
            want_reason: FailureReason::ClientError,
        },
        Case {
            name: "throttling",
            status: 400,
            code: "Throttling",
            want_retry: Retry::Yes,
            want_reason: FailureReason::ClientError,
        },
        Case {
            name: "throttled",
            status: 429,
            code: "Throttled",
            want_retry: Retry::Yes,
            want_reason: FailureReason::ClientError,
        },
        Case {
            name: "internal",
            status: 500,
            code: "InternalError",
            want_retry: Retry::Yes,
            want_reason: FailureReason::ServerError,
        },
    ];
    for c in cases {
        // The message echoes the secret key, to prove it is redacted.
        let xml = format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>bad &amp; {SECRET_KEY}</Message>\
             </Error><RequestId>r</RequestId></ErrorResponse>",
            c.code
        );
        let status = c.status;
        let server = Server::start(None, Arc::new(move |_: &str| response(status, "", xml.as_bytes()))).await;
        let s = golden_settings("fifo", &format!("http://127.0.0.1:{}/", server.port));
        let sns = Sns::new(s, template(), clock_at(common::now())).with_env(no_env());
        let e = sns.notify(&ctx("fifo"), &alerts()).await.unwrap_err();
        assert_eq!((e.retry, e.reason), (c.want_retry, c.want_reason), "{}: {}", c.name, e.message);
        assert_eq!(
            e.message,
            format!("unexpected status code {}: {}: bad & <redacted>", c.status, c.code),
            "{}",
            c.name
        );
    }
}

#[tokio::test]
async fn unreachable_endpoint_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let s = golden_settings("fifo", &format!("http://127.0.0.1:{port}/"));
    let sns = Sns::new(s, template(), clock_at(common::now())).with_env(no_env());
    let e = sns.notify(&ctx("fifo"), &alerts()).await.unwrap_err();
    assert_eq!(e.retry, Retry::Yes, "{}", e.message);
    assert!(!e.message.contains(&port.to_string()), "{}", e.message);
}

/// Upstream (0.25+) retries every Publish error that is no HTTP answer: missing credentials or region and a client
/// that cannot be built may be fixed by the next attempt. What tocsin does not support, and templates, are
/// permanent.
#[tokio::test]
async fn configuration_failures_are_classified_and_clear() {
    struct Case {
        name: &'static str,
        edit: fn(&mut SnsSettings),
        env: &'static [(&'static str, &'static str)],
        want: &'static str,
        retry: Retry,
    }
    let cases = [
        Case {
            name: "no credentials",
            edit: |s| s.sigv4 = SigV4Settings { region: "us-east-1".into(), ..Default::default() },
            env: &[],
            want: "no AWS credentials: set sigv4.access_key/secret_key or AWS_ACCESS_KEY_ID/\
                   AWS_SECRET_ACCESS_KEY (shared credential files and instance roles are not supported)",
            retry: Retry::Yes,
        },
        Case {
            name: "half the environment",
            edit: |s| s.sigv4 = SigV4Settings { region: "us-east-1".into(), ..Default::default() },
            env: &[("AWS_ACCESS_KEY_ID", "AKID")],
            want: "no AWS credentials",
            retry: Retry::Yes,
        },
        Case {
            name: "role_arn",
            edit: |s| s.sigv4.role_arn = "arn:aws:iam::123:role/x".into(),
            env: &[],
            want: "sigv4.role_arn is not supported by tocsin",
            retry: Retry::No,
        },
        Case {
            name: "profile without keys",
            edit: |s| {
                s.sigv4.access_key.clear();
                s.sigv4.secret_key.clear();
                s.sigv4.profile = "prod".into();
            },
            env: &[],
            want: "sigv4.profile is not supported by tocsin",
            retry: Retry::No,
        },
        Case {
            name: "no region anywhere",
            edit: |s| {
                s.sigv4.region.clear();
                s.phone_number = "+1555".into();
                s.topic_arn.clear();
            },
            env: &[],
            want: "region not configured in sns.sigv4.region or in default credentials chain",
            retry: Retry::Yes,
        },
        Case {
            name: "unreadable CA file",
            edit: |s| {
                s.http.tls.ca =
                    Some(tocsin_receivers::PemSource::File("/nonexistent/tocsin-test/ca.pem".into()))
            },
            env: &[],
            want: "unable to read CA file",
            retry: Retry::Yes,
        },
        Case {
            name: "message template",
            edit: |s| s.message = "{{ .Nope.Deeper }".into(),
            env: &[],
            want: "execute 'message' template:",
            retry: Retry::No,
        },
    ];
    for c in cases {
        let mut s = golden_settings("fifo", "http://127.0.0.1:1/");
        (c.edit)(&mut s);
        let sns = Sns::new(s, template(), clock_at(common::now())).with_env(env(c.env));
        let e = sns.notify(&ctx("fifo"), &alerts()).await.unwrap_err();
        assert_eq!(e.retry, c.retry, "{}: {}", c.name, e.message);
        assert!(e.message.starts_with(c.want), "{}: {}", c.name, e.message);
        assert!(!e.message.contains(SECRET_KEY), "{}", c.name);
    }
}

/// AWS's `SignatureDoesNotMatch` echoes the canonical request, session token included: the token must not
/// survive in the message even when it straddles the 1 KiB cut of the body.
#[tokio::test]
async fn echoed_session_token_is_redacted_across_the_cut() {
    common::install_crypto();
    const TOKEN: &str = "FwoGZXIvYXdzEBYaDEXAMPLEsessionTOKENvalue0123456789+/abcdefghijklmnopqrstuvwxyz==";
    for before in [1024 - 200, 1024 - 40, 1024 - 10, 1024 - 1, 1024, 1024 + 10] {
        // The token starts `before` bytes into the body.
        let head = "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>";
        let filler = "c".repeat(before - head.len());
        let xml = format!("{head}{filler}{TOKEN}\n\nhost;x-amz-date</Message></Error></ErrorResponse>");
        assert_eq!(xml.find(TOKEN), Some(before));
        let server = Server::start(None, Arc::new(move |_: &str| response(403, "", xml.as_bytes()))).await;
        let mut s = golden_settings("fifo", &format!("http://127.0.0.1:{}/", server.port));
        s.sigv4.access_key.clear();
        s.sigv4.secret_key.clear();
        let sns = Sns::new(s, template(), clock_at(common::now())).with_env(env(&[
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "envsecret"),
            ("AWS_SESSION_TOKEN", TOKEN),
        ]));
        let e = sns.notify(&ctx("fifo"), &alerts()).await.unwrap_err();
        assert_eq!(e.retry, Retry::No, "{before}");
        for k in 8..=TOKEN.len() {
            assert!(!e.message.contains(&TOKEN[..k]), "{before}: {k} bytes of the token in {}", e.message);
        }
        if before <= 1024 - 200 {
            assert!(e.message.ends_with("c<redacted>\n\nhost;x-amz-date"), "{before}: {}", e.message);
        }
    }
}

#[test]
fn profile_with_static_keys_uses_the_keys() {
    let mut s = golden_settings("fifo", "http://127.0.0.1:1/");
    s.sigv4.profile = "prod".into();
    let sns = Sns::new(s, template(), clock_at(common::now())).with_env(no_env());
    assert_eq!(sns.credentials().unwrap().access_key, ACCESS_KEY);
}

#[test]
fn long_subjects_and_messages_are_cut_on_character_boundaries() {
    let mut s = golden_settings("sms", "http://127.0.0.1:1/");
    s.message = format!("{}é tail", "x".repeat(1599)); // byte 1600 is inside "é"
    s.subject = "ü".repeat(150);
    let sns = Sns::new(s, template(), clock_at(common::now()));
    let p = sns.publish(&ctx("sms"), &alerts()).unwrap();
    assert_eq!(p.message, "x".repeat(1599));
    assert_eq!(p.attributes.get("truncated").map(String::as_str), Some("true"));
    let subject = p.subject.unwrap();
    assert_eq!(subject.chars().count(), 99);
    assert!(subject.ends_with('…'));

    let mut s = golden_settings("topic", "http://127.0.0.1:1/");
    s.message = "🚨".repeat(70_000); // 280 000 bytes > 256 KiB
    let p = Sns::new(s, template(), clock_at(common::now())).publish(&ctx("topic"), &alerts()).unwrap();
    assert_eq!(p.message.len(), 256 * 1024);
    assert_eq!(p.attributes.get("truncated").map(String::as_str), Some("true"));
}

#[test]
fn debug_output_hides_the_secret_key() {
    let sns = Sns::new(golden_settings("topic", "http://127.0.0.1:1/"), template(), clock_at(common::now()));
    let s = format!("{sns:?}");
    assert!(!s.contains(SECRET_KEY), "{s}");
}
