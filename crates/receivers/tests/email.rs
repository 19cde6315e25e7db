//! The email integration against a real SMTP server (Python's aiosmtpd, started per test on 127.0.0.1): the
//! message as received (headers, multipart/alternative, both parts), STARTTLS with a CA made by rcgen,
//! implicit TLS, AUTH PLAIN and LOGIN, skipped auth, `require_tls` against a server without STARTTLS, SMTP
//! reply classes and retries, and no password in any error. Each test prints `skipped: aiosmtpd not installed`
//! and passes when aiosmtpd is missing (`.ci/install-deps` installs it).
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;
#[path = "email/server.rs"]
mod server;

use common::{ctx, firing, install_crypto};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use server::{Mode, Opts, Smtpd};
use std::path::PathBuf;
use std::sync::Arc;
use tocsin_model::clock::ManualClock;
use tocsin_pipeline::notifier::{Notifier, NotifyError, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::email::{Email, EmailSettings};
use tocsin_receivers::{PemSource, SecretSource};
use tocsin_template::Template;

const FROM: &str = "Alertmanager <am@example.com>";

fn email(s: EmailSettings) -> Email {
    Email::new(s, Arc::new(Template::with_defaults()), Arc::new(ManualClock::new(common::now())))
}

fn settings(port: u16, to: &str) -> EmailSettings {
    EmailSettings { require_tls: false, ..EmailSettings::new("127.0.0.1", port, FROM, to) }
}

async fn send(s: EmailSettings) -> Result<(), NotifyError> {
    email(s).notify(&ctx("mail-team"), &[firing("i1")]).await
}

/// A CA and a server certificate for 127.0.0.1 and `mx.test`, as PEM files in a temp dir.
struct Pki {
    dir: tempfile::TempDir,
    ca_pem: String,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, "tocsin email test CA");
        let ca = p.self_signed(&ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec!["127.0.0.1".to_owned(), "mx.test".to_owned()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, "mx.test");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = p.signed_by(&key, &ca, &ca_key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("server.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("server.key"), key.serialize_pem()).unwrap();
        Pki { dir, ca_pem: ca.pem() }
    }

    fn cert(&self) -> Option<(PathBuf, PathBuf)> {
        Some((self.dir.path().join("server.pem"), self.dir.path().join("server.key")))
    }
}

#[tokio::test]
async fn plain_delivery_headers_and_both_parts() {
    if !server::available() {
        return;
    }
    let smtpd = Smtpd::start(Opts::default()).unwrap();
    let mut s = settings(smtpd.port, "ops@example.com, Oncall <{{ .CommonLabels.instance }}@example.com>");
    s.headers.insert("X-Team".into(), "{{ .GroupLabels.alertname }}-team".into());
    s.headers.insert("X-Summary".into(), "告警 {{ .Status }}".into());
    s.text = "Alerts:{{ range .Alerts }} {{ .Labels.instance }}{{ end }} = ok, é".into();
    s.html = "<p>{{ .Status }} <b>{{ .CommonLabels.alertname }}</b> {{ \"<x>\" }}</p>".into();
    send(s).await.unwrap();

    let got = smtpd.received();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.meta["mail_from"], "am@example.com");
    assert_eq!(m.meta["rcpt_tos"], serde_json::json!(["ops@example.com", "i1@example.com"]));
    assert_eq!(m.meta["tls"], false);
    assert_eq!(m.header("Subject").as_deref(), Some("[FIRING:1] A (i1)"));
    assert_eq!(m.header("From").as_deref(), Some(FROM));
    assert_eq!(m.header("To").as_deref(), Some("ops@example.com, Oncall <i1@example.com>"));
    assert_eq!(m.header("X-Team").as_deref(), Some("A-team"));
    assert_eq!(m.header("X-Summary").as_deref(), Some("告警 firing"));
    assert!(m.raw.contains("X-Summary: =?utf-8?q?=E5=91=8A=E8=AD=A6_firing?=\r\n"), "{}", m.raw);
    assert_eq!(m.header("Date").as_deref(), Some("Sat, 01 Jun 2024 00:00:00 +0000"));
    assert_eq!(m.header("MIME-Version").as_deref(), Some("1.0"));
    let id = m.header("Message-Id").unwrap();
    assert!(id.starts_with("<1717200000000000000.") && id.ends_with('>') && id.contains('@'), "{id}");
    assert_eq!(m.meta["content_type"], "multipart/alternative");
    let parts = m.parts();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(parts[0].0, "text/plain");
    assert_eq!(parts[0].1.replace("\r\n", "\n"), "Alerts: i1 = ok, é");
    assert_eq!(parts[1].0, "text/html");
    assert_eq!(parts[1].1.replace("\r\n", "\n"), "<p>firing <b>A</b> &lt;x&gt;</p>");
    for p in m.meta["parts"].as_array().unwrap() {
        assert_eq!(p["transfer_encoding"], "quoted-printable");
        assert_eq!(p["charset"].as_str().map(str::to_ascii_lowercase).as_deref(), Some("utf-8"));
    }
}

#[tokio::test]
async fn defaults_send_only_the_html_part_and_custom_headers_override() {
    if !server::available() {
        return;
    }
    let smtpd = Smtpd::start(Opts::default()).unwrap();
    let mut s = settings(smtpd.port, "ops@example.com");
    s.headers.insert("Subject".into(), "custom {{ .Status }}".into());
    s.headers.insert("Message-Id".into(), "<fixed@example.com>".into());
    send(s).await.unwrap();
    let m = &smtpd.received()[0];
    assert_eq!(m.header("Subject").as_deref(), Some("custom firing"));
    assert_eq!(m.header("Message-Id").as_deref(), Some("<fixed@example.com>"));
    assert_eq!(m.raw.matches("Message-Id:").count(), 1);
    let parts = m.parts();
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_eq!(parts[0].0, "text/html");
    assert!(parts[0].1.contains("i1"), "the default HTML lists the alert's labels");
}

#[tokio::test]
async fn require_tls_without_starttls_fails_with_upstreams_message() {
    if !server::available() {
        return;
    }
    let smtpd = Smtpd::start(Opts::default()).unwrap();
    let s = EmailSettings::new("127.0.0.1", smtpd.port, FROM, "ops@example.com");
    let e = send(s).await.unwrap_err();
    assert_eq!(
        e.message,
        format!(
            "'require_tls' is true (default) but \"127.0.0.1:{}\" does not advertise the STARTTLS extension",
            smtpd.port
        )
    );
    assert_eq!(e.retry, Retry::Yes);
    assert!(smtpd.received().is_empty());
}

#[tokio::test]
async fn starttls_with_the_configured_ca_and_server_name() {
    if !server::available() {
        return;
    }
    install_crypto();
    let pki = Pki::new();
    let smtpd = Smtpd::start(Opts { mode: Mode::StartTls, cert: pki.cert(), ..Opts::default() }).unwrap();
    for server_name in [None, Some("mx.test".to_owned())] {
        let mut s = EmailSettings::new("127.0.0.1", smtpd.port, FROM, "ops@example.com");
        s.tls.ca = Some(PemSource::Inline(pki.ca_pem.clone()));
        s.tls.server_name = server_name;
        send(s).await.unwrap();
    }
    let got = smtpd.received();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|m| m.meta["tls"] == true));
}

#[tokio::test]
async fn starttls_with_an_untrusted_certificate_fails_and_retries() {
    if !server::available() {
        return;
    }
    install_crypto();
    let pki = Pki::new();
    let smtpd = Smtpd::start(Opts { mode: Mode::StartTls, cert: pki.cert(), ..Opts::default() }).unwrap();
    let s = EmailSettings::new("127.0.0.1", smtpd.port, FROM, "ops@example.com");
    let e = send(s).await.unwrap_err();
    assert!(e.message.starts_with("send STARTTLS command: "), "{}", e.message);
    assert_eq!(e.retry, Retry::Yes);
    // insecure_skip_verify accepts it.
    let mut s = EmailSettings::new("127.0.0.1", smtpd.port, FROM, "ops@example.com");
    s.tls.insecure_skip_verify = true;
    send(s).await.unwrap();
    assert_eq!(smtpd.received().len(), 1);
}

#[tokio::test]
async fn implicit_tls_on_port_465() {
    if !server::available() {
        return;
    }
    install_crypto();
    let pki = Pki::new();
    let Some(smtpd) =
        Smtpd::start(Opts { mode: Mode::Implicit, cert: pki.cert(), port: 465, ..Opts::default() })
    else {
        eprintln!("skipped: cannot bind 127.0.0.1:465 (needs privileges or the port is taken)");
        return;
    };
    let mut s = EmailSettings::new("127.0.0.1", 465, FROM, "ops@example.com");
    s.tls.ca = Some(PemSource::Inline(pki.ca_pem.clone()));
    send(s).await.unwrap();
    assert_eq!(smtpd.received()[0].meta["tls"], true);
}

#[tokio::test]
async fn auth_plain_and_login_with_inline_and_file_passwords() {
    if !server::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, "s3cret-pass\n").unwrap();
    for mech in ["PLAIN", "LOGIN"] {
        let smtpd = Smtpd::start(Opts {
            auth: Some(("alice".into(), "s3cret-pass".into())),
            mechanisms: vec![mech],
            ..Opts::default()
        })
        .unwrap();
        for password in [SecretSource::Inline("s3cret-pass".into()), SecretSource::File(pw_file.clone())] {
            let mut s = settings(smtpd.port, "ops@example.com");
            s.auth_username = "alice".into();
            s.auth_password = Some(password);
            send(s).await.unwrap_or_else(|e| panic!("{mech}: {e}"));
        }
        let got = smtpd.received();
        assert_eq!(got.len(), 2, "{mech}");
        for m in got {
            assert_eq!(m.meta["authenticated"], true, "{mech}");
            assert_eq!(m.meta["login"], "alice", "{mech}");
        }
    }
}

#[tokio::test]
async fn bad_password_fails_permanently_without_the_password() {
    if !server::available() {
        return;
    }
    let smtpd = Smtpd::start(Opts {
        auth: Some(("alice".into(), "right-pass".into())),
        mechanisms: vec!["PLAIN"],
        ..Opts::default()
    })
    .unwrap();
    let mut s = settings(smtpd.port, "ops@example.com");
    s.auth_username = "alice".into();
    s.auth_password = Some(SecretSource::Inline("wrong-pass-7731".into()));
    s.auth_secret = Some(SecretSource::Inline("cram-secret-9912".into()));
    let n = email(s);
    let e = assert_no_secret_leak(&n, &ctx("r"), &[firing("i1")], &["wrong-pass-7731", "cram-secret-9912"])
        .await
        .unwrap_err();
    assert!(e.message.starts_with("*smtp.plainAuth auth: 535 "), "{}", e.message);
    assert_eq!(e.retry, Retry::No);
    assert!(smtpd.received().is_empty());
}

#[tokio::test]
async fn missing_password_names_each_offered_mechanism() {
    if !server::available() {
        return;
    }
    let smtpd = Smtpd::start(Opts { auth: Some(("alice".into(), "p".into())), ..Opts::default() }).unwrap();
    let mut s = settings(smtpd.port, "ops@example.com");
    s.auth_username = "alice".into();
    let e = send(s).await.unwrap_err();
    assert_eq!(
        e.message,
        "find auth mechanism: missing password for LOGIN auth mechanism; missing password for PLAIN auth mechanism"
    );
    assert_eq!(e.retry, Retry::Yes);
}

#[tokio::test]
async fn auth_is_skipped_when_the_server_offers_none() {
    if !server::available() {
        return;
    }
    let smtpd = Smtpd::start(Opts::default()).unwrap();
    let mut s = settings(smtpd.port, "ops@example.com");
    s.auth_username = "alice".into();
    s.auth_password = Some(SecretSource::Inline("pw".into()));
    send(s).await.unwrap();
    assert_eq!(smtpd.received()[0].meta["authenticated"], false);
}

#[tokio::test]
async fn reply_classes_decide_retries() {
    if !server::available() {
        return;
    }
    let smtpd = Smtpd::start(Opts::default()).unwrap();
    struct Case {
        name: &'static str,
        to: &'static str,
        want_prefix: &'static str,
        want_retry: Retry,
    }
    let cases = [
        Case {
            name: "550 is permanent",
            to: "ops@example.com, reject550@example.com",
            want_prefix: "send RCPT command: 550 5.1.1 no such user",
            want_retry: Retry::No,
        },
        Case {
            name: "451 is retried",
            to: "defer451@example.com",
            want_prefix: "send RCPT command: 451 4.3.0 try again later",
            want_retry: Retry::Yes,
        },
    ];
    for c in cases {
        let e = send(settings(smtpd.port, c.to)).await.unwrap_err();
        assert_eq!(e.message, c.want_prefix, "{}", c.name);
        assert_eq!(e.retry, c.want_retry, "{}", c.name);
    }
    assert!(smtpd.received().is_empty());
}

#[tokio::test]
async fn connection_refused_is_retried() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let e = send(settings(port, "ops@example.com")).await.unwrap_err();
    assert!(
        e.message.starts_with(&format!("establish connection to server: dial tcp 127.0.0.1:{port}: ")),
        "{}",
        e.message
    );
    assert_eq!(e.retry, Retry::Yes);
}

#[tokio::test]
async fn template_and_address_errors_are_permanent() {
    struct Case {
        name: &'static str,
        from: &'static str,
        to: &'static str,
        want_prefix: &'static str,
    }
    let cases = [
        Case { name: "bad to template", from: FROM, to: "{{ .Nope", want_prefix: "execute 'to' template: " },
        Case {
            name: "bad from address",
            from: "not an address",
            to: "a@b.c",
            want_prefix: "parse 'from' addresses: ",
        },
        Case {
            name: "two from addresses",
            from: "a@b.c, d@e.f",
            to: "a@b.c",
            want_prefix: "must be exactly one 'from' address (got: 2)",
        },
    ];
    for c in cases {
        // Nothing listens on port 1: these must fail before connecting.
        let s = EmailSettings { require_tls: false, ..EmailSettings::new("127.0.0.1", 1, c.from, c.to) };
        let e = send(s).await.unwrap_err();
        assert!(e.message.starts_with(c.want_prefix), "{}: {}", c.name, e.message);
        assert_eq!(e.retry, Retry::No, "{}", c.name);
    }
}

#[tokio::test]
async fn built_from_yaml_with_global_smtp_settings() {
    if !server::available() {
        return;
    }
    let smtpd =
        Smtpd::start(Opts { auth: Some(("alice".into(), "file-pass".into())), ..Opts::default() }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smtp-password"), "file-pass\n").unwrap();
    let yml = format!(
        r#"
global:
  smtp_smarthost: '127.0.0.1:{port}'
  smtp_from: 'Global <global@example.com>'
  smtp_hello: tocsin.test
  smtp_auth_username: alice
  smtp_auth_password_file: smtp-password
  smtp_require_tls: false
route:
  receiver: mail
receivers:
  - name: mail
    email_configs:
      - to: 'ops@example.com'
        headers:
          subject: 'lower-case key {{{{ .Status }}}}'
        text: 'text {{{{ .CommonLabels.instance }}}}'
"#,
        port = smtpd.port
    );
    let cfg = tocsin_config::load_str(&yml, dir.path(), tocsin_config::ParseMode::default()).unwrap();
    let template = Arc::new(Template::with_defaults());
    let clock: tocsin_model::clock::SharedClock = Arc::new(ManualClock::new(common::now()));
    let built = tocsin_receivers::build(&cfg.receivers[0], &template, &clock);
    assert_eq!(built.len(), 1);
    assert_eq!(built[0].kind, "email");
    assert!(!built[0].notifier.send_resolved(), "email's send_resolved defaults to false");
    built[0].notifier.notify(&ctx("mail"), &[firing("i1")]).await.unwrap();
    let m = &smtpd.received()[0];
    assert_eq!(m.meta["login"], "alice");
    assert_eq!(m.meta["mail_from"], "global@example.com");
    assert_eq!(m.header("From").as_deref(), Some("Global <global@example.com>"));
    assert_eq!(m.header("Subject").as_deref(), Some("lower-case key firing"));
    let parts: Vec<String> = m.parts().into_iter().map(|p| p.0).collect();
    assert_eq!(parts, ["text/plain", "text/html"]);
}

#[test]
fn the_example_config_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/email.yml");
    let cfg = tocsin_config::load(std::path::Path::new(path), tocsin_config::ParseMode::default()).unwrap();
    let template = Arc::new(Template::with_defaults());
    let clock: tocsin_model::clock::SharedClock = Arc::new(ManualClock::new(common::now()));
    for r in &cfg.receivers {
        let built = tocsin_receivers::build(r, &template, &clock);
        assert!(built.iter().all(|i| i.kind == "email" && format!("{:?}", i.notifier).starts_with("Email")));
    }
}
