//! `tls_config` against a local HTTPS server with certificates made by rcgen: CA file, server name, client
//! certificates, insecure_skip_verify, unreadable files. Certificates cover 127.0.0.1 or `tocsin.test` only.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use common::server::{response, Responder, Server};
use common::{ctx, firing, install_crypto};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tocsin_pipeline::notifier::{FailureReason, Notifier, Retry};
use tocsin_receivers::conformance::assert_no_secret_leak;
use tocsin_receivers::{HttpClientSettings, PemSource, TlsSettings, Webhook, WebhookSettings};

struct Pki {
    ca: Certificate,
    ca_key: KeyPair,
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, "tocsin test CA");
        let ca = p.self_signed(&ca_key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Pki { ca, ca_key, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A leaf signed by the CA, written as `<name>.pem` / `<name>.key`.
    fn leaf(&self, name: &str, sans: &[&str], usage: ExtendedKeyUsagePurpose) -> (Certificate, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.extended_key_usages = vec![usage];
        let cert = p.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.path(&format!("{name}.key")), key.serialize_pem()).unwrap();
        (cert, key)
    }

    /// An HTTPS server with a certificate for `sans`; `require_client_cert` makes it reject clients without one.
    async fn server(&self, sans: &[&str], require_client_cert: bool) -> Server {
        let (cert, key) = self.leaf("server", sans, ExtendedKeyUsagePurpose::ServerAuth);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(CertificateDer::from(self.ca.der().to_vec())).unwrap();
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
            builder.with_client_cert_verifier(v)
        } else {
            builder.with_no_client_auth()
        };
        let cfg = builder
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let ok: Responder = Arc::new(|_| response(200, "", b""));
        Server::start(Some(Arc::new(cfg)), ok).await
    }
}

fn file(p: &Path) -> Option<PemSource> {
    Some(PemSource::File(p.to_path_buf()))
}

fn hook(port: u16, tls: TlsSettings) -> Webhook {
    Webhook::new(WebhookSettings {
        http: HttpClientSettings { tls, ..HttpClientSettings::default() },
        ..WebhookSettings::new(format!("https://127.0.0.1:{port}/hook"))
    })
}

#[tokio::test]
async fn ca_file_trusts_the_server() {
    install_crypto();
    let pki = Pki::new();
    let srv = pki.server(&["127.0.0.1"], false).await;
    hook(srv.port, TlsSettings { ca: file(&pki.path("ca.pem")), ..TlsSettings::default() })
        .notify(&ctx("r"), &[firing("i1")])
        .await
        .unwrap();
    assert_eq!(srv.seen.lock().await.len(), 1);
}

#[tokio::test]
async fn unknown_ca_is_a_retryable_transport_error() {
    install_crypto();
    let pki = Pki::new();
    let srv = pki.server(&["127.0.0.1"], false).await;
    let e = hook(srv.port, TlsSettings::default()).notify(&ctx("r"), &[firing("i1")]).await.unwrap_err();
    assert_eq!((e.retry, e.reason), (Retry::Yes, FailureReason::Other));
    assert!(e.message.starts_with("Post \"<redacted>\": "), "{}", e.message);
    assert!(srv.seen.lock().await.is_empty());
}

#[tokio::test]
async fn insecure_skip_verify_accepts_anything() {
    install_crypto();
    let pki = Pki::new();
    let srv = pki.server(&["tocsin.test"], false).await;
    hook(srv.port, TlsSettings { insecure_skip_verify: true, ..TlsSettings::default() })
        .notify(&ctx("r"), &[firing("i1")])
        .await
        .unwrap();
    assert_eq!(srv.seen.lock().await.len(), 1);
}

#[tokio::test]
async fn server_name_overrides_the_verified_name() {
    install_crypto();
    let pki = Pki::new();
    let srv = pki.server(&["tocsin.test"], false).await;
    let ca = file(&pki.path("ca.pem"));
    let wrong = hook(srv.port, TlsSettings { ca: ca.clone(), ..TlsSettings::default() });
    assert!(wrong.notify(&ctx("r"), &[firing("i1")]).await.is_err(), "cert is not valid for 127.0.0.1");
    let named =
        hook(srv.port, TlsSettings { ca, server_name: Some("tocsin.test".into()), ..TlsSettings::default() });
    named.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
}

#[tokio::test]
async fn client_certificate_presented() {
    install_crypto();
    let pki = Pki::new();
    let srv = pki.server(&["127.0.0.1"], true).await;
    pki.leaf("client", &["client.tocsin.test"], ExtendedKeyUsagePurpose::ClientAuth);
    let ca = file(&pki.path("ca.pem"));
    let without = hook(srv.port, TlsSettings { ca: ca.clone(), ..TlsSettings::default() });
    assert!(without.notify(&ctx("r"), &[firing("i1")]).await.is_err(), "server requires a client cert");
    let with = hook(
        srv.port,
        TlsSettings {
            ca,
            cert: file(&pki.path("client.pem")),
            key: file(&pki.path("client.key")),
            ..TlsSettings::default()
        },
    );
    with.notify(&ctx("r"), &[firing("i1")]).await.unwrap();
    let seen = srv.seen.lock().await;
    assert_eq!(seen.len(), 1);
    assert!(seen[0].client_cert);
}

#[tokio::test]
async fn tls_files_errors_name_the_file_never_the_content() {
    install_crypto();
    let pki = Pki::new();
    let srv = pki.server(&["127.0.0.1"], false).await;
    let (_, key) = pki.leaf("client", &["client.tocsin.test"], ExtendedKeyUsagePurpose::ClientAuth);
    let key_pem = key.serialize_pem();
    let key_body = key_pem.lines().nth(1).unwrap().to_owned();

    let missing = pki.path("nope.pem");
    let e = hook(srv.port, TlsSettings { ca: file(&missing), ..TlsSettings::default() })
        .notify(&ctx("r"), &[firing("i1")])
        .await
        .unwrap_err();
    assert_eq!(e.retry, Retry::Yes);
    assert!(
        e.message.starts_with(&format!("unable to read CA file {}: ", missing.display())),
        "{}",
        e.message
    );

    // A key that does not match the certificate: the error names both files, and no key material leaks.
    std::fs::write(pki.path("other.key"), KeyPair::generate().unwrap().serialize_pem()).unwrap();
    std::fs::write(pki.path("garbage.key"), format!("not a key {key_body}")).unwrap();
    for key_file in ["other.key", "garbage.key"] {
        let h = hook(
            srv.port,
            TlsSettings {
                ca: file(&pki.path("ca.pem")),
                cert: file(&pki.path("client.pem")),
                key: file(&pki.path(key_file)),
                ..TlsSettings::default()
            },
        );
        let r = assert_no_secret_leak(&h, &ctx("r"), &[firing("i1")], &[&key_body]).await;
        let e = r.unwrap_err();
        assert!(e.message.contains(key_file), "{key_file}: {}", e.message);
    }
}
