//! `tls_server_config` → a rustls `ServerConfig` (exporter-toolkit `ConfigToTLSConfig`).
//!
//! rustls cannot do everything Go's crypto/tls does: TLS 1.0/1.1, CBC and RSA-key-exchange suites and P-521 do
//! not exist there. Such settings are accepted and ignored with a warning (the connection then uses something
//! at least as strong); names Go itself does not know are errors, in upstream's words.

use super::{TlsServerConfig, TlsVersion, WebConfig};
use rustls::crypto::{CryptoProvider, SupportedKxGroup, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme};
use std::sync::Arc;

/// Go's `tls.CipherSuites()` names; those rustls lacks are ignored with a warning.
const GO_CIPHER_SUITES: &[&str] = &[
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// Builds the server config, or `None` when the file does not enable TLS (plain HTTP).
pub fn server_config(config: &WebConfig) -> Result<Option<Arc<ServerConfig>>, String> {
    let c = &config.tls_server_config;
    if !c.is_enabled() {
        return Ok(None);
    }
    if c.cert_file.is_empty() && c.cert.is_empty() {
        return Err("missing one of cert or cert_file".into());
    }
    if c.key_file.is_empty() && c.key.is_empty() {
        return Err("missing one of key or key_file".into());
    }
    let (certs, key) = load_key_pair(c)?;
    let provider = Arc::new(provider(c)?);
    let versions = versions(c)?;
    let verifier = client_verifier(c, &provider)?;
    let mut server = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| format!("invalid TLS configuration: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| format!("failed to load X509KeyPair: {e}"))?;
    server.ignore_client_order = c.prefer_server_cipher_suites;
    server.alpn_protocols = if config.http_server_config.http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Some(Arc::new(server)))
}

fn read(kind: &str, path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("failed to read {kind} ({path}): {e}"))
}

fn load_key_pair(
    c: &TlsServerConfig,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let cert_pem =
        if c.cert_file.is_empty() { c.cert.as_bytes().to_vec() } else { read("cert_file", &c.cert_file)? };
    let key_pem =
        if c.key_file.is_empty() { c.key.as_bytes().to_vec() } else { read("key_file", &c.key_file)? };
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("failed to load X509KeyPair: {e}"))?;
    if certs.is_empty() {
        return Err(
            "failed to load X509KeyPair: tls: failed to find any PEM data in certificate input".into()
        );
    }
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| format!("failed to load X509KeyPair: {e}"))?;
    Ok((certs, key))
}

/// The ring provider restricted to the configured TLS 1.2 cipher suites and curves (TLS 1.3 suites are not
/// configurable, as in Go).
fn provider(c: &TlsServerConfig) -> Result<CryptoProvider, String> {
    let mut provider = rustls::crypto::ring::default_provider();
    for name in &c.cipher_suites {
        if !GO_CIPHER_SUITES.contains(&name.as_str()) {
            return Err(format!("unknown cipher: {name}"));
        }
    }
    if !c.cipher_suites.is_empty() {
        let name = |s: &rustls::SupportedCipherSuite| format!("{:?}", s.suite());
        let mut chosen: Vec<_> =
            provider.cipher_suites.iter().filter(|s| s.tls13().is_some()).copied().collect();
        for want in &c.cipher_suites {
            match provider.cipher_suites.iter().find(|s| s.tls13().is_none() && name(s) == *want) {
                Some(s) => chosen.push(*s),
                None if want.starts_with("TLS_AES_") || want.starts_with("TLS_CHACHA20_") => {}
                None => {
                    tracing::warn!(cipher = %want, "cipher_suites: not supported by this server, ignored")
                }
            }
        }
        if chosen.iter().any(|s| s.tls13().is_none()) {
            provider.cipher_suites = chosen;
        } else {
            tracing::warn!(
                "cipher_suites: none of the configured TLS 1.2 suites is supported; using the defaults"
            );
        }
    }
    if !c.curve_preferences.is_empty() {
        let mut groups: Vec<&'static dyn SupportedKxGroup> = Vec::new();
        for curve in &c.curve_preferences {
            match curve.as_str() {
                "X25519" => groups.push(rustls::crypto::ring::kx_group::X25519),
                "CurveP256" => groups.push(rustls::crypto::ring::kx_group::SECP256R1),
                "CurveP384" => groups.push(rustls::crypto::ring::kx_group::SECP384R1),
                "CurveP521" => tracing::warn!(curve = %curve, "curve_preferences: not supported, ignored"),
                _ => return Err(format!("unknown curve: {curve}")),
            }
        }
        if groups.is_empty() {
            tracing::warn!("curve_preferences: no supported curve configured; using the defaults");
        } else {
            provider.kx_groups = groups;
        }
    }
    Ok(provider)
}

fn versions(c: &TlsServerConfig) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
    if c.min_version < TlsVersion::Tls12 {
        tracing::warn!(min_version = ?c.min_version, "TLS 1.0 and 1.1 are not supported; the minimum is TLS 1.2");
    }
    if c.max_version < TlsVersion::Tls12 || c.min_version > c.max_version {
        return Err(format!(
            "unsupported TLS version range {:?}..{:?}: only TLS12 and TLS13 are supported",
            c.min_version, c.max_version
        ));
    }
    let mut v = Vec::new();
    if c.min_version <= TlsVersion::Tls12 {
        v.push(&rustls::version::TLS12);
    }
    if c.max_version == TlsVersion::Tls13 {
        v.push(&rustls::version::TLS13);
    }
    Ok(v)
}

fn client_verifier(
    c: &TlsServerConfig,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let ca_pem = if !c.client_ca_file.is_empty() {
        Some(read("client_ca_file", &c.client_ca_file)?)
    } else if !c.client_ca.is_empty() {
        Some(c.client_ca.as_bytes().to_vec())
    } else {
        None
    };
    let roots = || -> Result<Arc<RootCertStore>, String> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_deref().unwrap_or_default()) {
            let cert = cert.map_err(|e| format!("client CA: {e}"))?;
            roots.add(cert).map_err(|e| format!("client CA: {e}"))?;
        }
        if roots.is_empty() {
            return Err(format!(
                "client_auth_type {} requires client_ca_file with certificates",
                c.client_auth_type
            ));
        }
        Ok(Arc::new(roots))
    };
    let webpki = |optional: bool| -> Result<Arc<dyn ClientCertVerifier>, String> {
        let mut b = WebPkiClientVerifier::builder_with_provider(roots()?, provider.clone());
        if optional {
            b = b.allow_unauthenticated();
        }
        b.build().map(|v| v as Arc<dyn ClientCertVerifier>).map_err(|e| format!("client CA: {e}"))
    };
    let algs = provider.signature_verification_algorithms;
    match c.client_auth_type.as_str() {
        "" | "NoClientCert" => {
            if ca_pem.is_some() {
                return Err("client CA's have been configured without a Client Auth Policy".into());
            }
            Ok(WebPkiClientVerifier::no_client_auth())
        }
        "RequestClientCert" => Ok(Arc::new(AnyClientCert { mandatory: false, algs })),
        "RequireAnyClientCert" | "RequireClientCert" => Ok(Arc::new(AnyClientCert { mandatory: true, algs })),
        "VerifyClientCertIfGiven" => webpki(true),
        "RequireAndVerifyClientCert" => webpki(false),
        other => Err(format!("invalid ClientAuth: {other}")),
    }
}

/// Go's `RequestClientCert` / `RequireAnyClientCert`: ask for a certificate and check the handshake signature,
/// but do not verify the chain.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algs: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        input: &'static str,
        want_err: Option<&'static str>,
    }

    #[test]
    fn builds_or_explains() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("s.crt"), cert.pem()).expect("write");
        std::fs::write(dir.path().join("s.key"), key.serialize_pem()).expect("write");
        std::fs::write(dir.path().join("ca.crt"), cert.pem()).expect("write");
        let base = "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n";
        let cases = [
            Case { name: "plain", input: "", want_err: None },
            Case { name: "tls", input: "", want_err: None },
            Case { name: "no key", input: "NOKEY", want_err: Some("missing one of key or key_file") },
            Case { name: "unknown cipher", input: "  cipher_suites: [TLS_FOO]\n", want_err: Some("unknown cipher: TLS_FOO") },
            Case {
                name: "cbc cipher ignored",
                input: "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n",
                want_err: None,
            },
            Case { name: "unknown curve", input: "  curve_preferences: [P999]\n", want_err: Some("unknown curve: P999") },
            Case { name: "curves", input: "  curve_preferences: [CurveP521, X25519]\n", want_err: None },
            Case { name: "tls10 max", input: "  max_version: TLS11\n", want_err: Some("only TLS12 and TLS13") },
            Case { name: "tls13 only", input: "  min_version: TLS13\n", want_err: None },
            Case { name: "bad auth type", input: "  client_auth_type: Maybe\n", want_err: Some("invalid ClientAuth: Maybe") },
            Case {
                name: "ca without policy",
                input: "  client_ca_file: ca.crt\n",
                want_err: Some("client CA's have been configured without a Client Auth Policy"),
            },
            Case {
                name: "verify without ca",
                input: "  client_auth_type: RequireAndVerifyClientCert\n",
                want_err: Some("requires client_ca_file"),
            },
            Case {
                name: "verify if given",
                input: "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n",
                want_err: None,
            },
            Case { name: "request", input: "  client_auth_type: RequestClientCert\n", want_err: None },
        ];
        for c in cases {
            let text = match (c.name, c.input) {
                ("plain", _) => String::new(),
                (_, "NOKEY") => "tls_server_config:\n  cert_file: s.crt\n".to_owned(),
                (_, extra) => format!("{base}{extra}"),
            };
            let config = super::super::parse(&text, dir.path()).expect("parse");
            match (server_config(&config), c.want_err) {
                (Ok(got), None) => assert_eq!(got.is_some(), c.name != "plain", "{}", c.name),
                (Err(e), Some(want)) => assert!(e.contains(want), "{}: {e}", c.name),
                (got, want) => panic!("{}: got {:?}, want {want:?}", c.name, got.map(|g| g.is_some())),
            }
        }
    }
}
