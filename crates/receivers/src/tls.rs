//! `tls_config` (prometheus/common `TLSConfig`) turned into a rustls client configuration.
//!
//! Go semantics kept: a CA (`ca`/`ca_file`) replaces the system roots instead of adding to them;
//! `server_name` is the name the certificate is verified against; `insecure_skip_verify` skips every check.
//! rustls only speaks TLS 1.2 and 1.3, so `min_version: TLS10`/`TLS11` behave like `TLS12`.

use crate::http::HttpError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// `TLS10` … `TLS13`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

/// PEM text given inline (`ca`, `cert`, `key`) or as a file (`ca_file`, ...), read at every send.
#[derive(Clone, PartialEq, Eq)]
pub enum PemSource {
    Inline(String),
    File(PathBuf),
}

impl fmt::Debug for PemSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Inline keys are secrets; inline certificates are not, but one rule is simpler to audit.
            PemSource::Inline(_) => f.write_str("Inline(<pem>)"),
            PemSource::File(p) => write!(f, "File({})", p.display()),
        }
    }
}

impl PemSource {
    async fn read(&self, what: &'static str) -> Result<Vec<u8>, HttpError> {
        match self {
            PemSource::Inline(s) => Ok(s.as_bytes().to_vec()),
            PemSource::File(path) => tokio::fs::read(path).await.map_err(|source| HttpError::ReadFile {
                what,
                path: path.clone(),
                source,
            }),
        }
    }

    /// Where the PEM came from, for error messages.
    fn origin(&self) -> String {
        match self {
            PemSource::Inline(_) => "(inline)".to_owned(),
            PemSource::File(p) => p.display().to_string(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    pub ca: Option<PemSource>,
    pub cert: Option<PemSource>,
    pub key: Option<PemSource>,
    pub server_name: Option<String>,
    pub insecure_skip_verify: bool,
    pub min_version: Option<TlsVersion>,
    pub max_version: Option<TlsVersion>,
}

/// The bytes of the CA, certificate and key as read for one send; the client is rebuilt when they change.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsMaterial {
    ca: Option<Vec<u8>>,
    cert: Option<Vec<u8>>,
    key: Option<Vec<u8>>,
}

impl fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsMaterial(<pem>)")
    }
}

impl TlsMaterial {
    pub async fn read(s: &TlsSettings) -> Result<TlsMaterial, HttpError> {
        async fn opt(p: &Option<PemSource>, what: &'static str) -> Result<Option<Vec<u8>>, HttpError> {
            match p {
                Some(p) => p.read(what).await.map(Some),
                None => Ok(None),
            }
        }
        Ok(TlsMaterial {
            ca: opt(&s.ca, "CA file").await?,
            cert: opt(&s.cert, "client certificate file").await?,
            key: opt(&s.key, "client key file").await?,
        })
    }
}

fn provider() -> Arc<CryptoProvider> {
    // The binary installs ring as the process default; libraries and tests may not have, and ring is compiled in.
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

fn versions(s: &TlsSettings) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, HttpError> {
    let min = s.min_version.unwrap_or(TlsVersion::Tls12);
    let max = s.max_version.unwrap_or(TlsVersion::Tls13);
    let mut out = Vec::new();
    if min <= TlsVersion::Tls12 && max >= TlsVersion::Tls12 {
        out.push(&rustls::version::TLS12);
    }
    if max >= TlsVersion::Tls13 {
        out.push(&rustls::version::TLS13);
    }
    if out.is_empty() {
        return Err(HttpError::Tls("tls_config: only TLS 1.2 and 1.3 are supported".to_owned()));
    }
    Ok(out)
}

/// Builds the rustls configuration; `http2` selects the ALPN offer (`h2` first, as Go does).
pub fn client_config(s: &TlsSettings, m: &TlsMaterial, http2: bool) -> Result<ClientConfig, HttpError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions(s)?)
        .map_err(|e| HttpError::Tls(format!("tls_config: {e}")))?;
    let mut verifier: Arc<dyn ServerCertVerifier> = if s.insecure_skip_verify {
        Arc::new(NoVerification(provider.clone()))
    } else if let (Some(ca), Some(src)) = (&m.ca, &s.ca) {
        let mut roots = RootCertStore::empty();
        let what = || format!("unable to load specified CA cert {}", src.origin());
        for cert in CertificateDer::pem_slice_iter(ca) {
            let cert = cert.map_err(|_| HttpError::Tls(format!("{}: invalid PEM", what())))?;
            roots.add(cert).map_err(|e| HttpError::Tls(format!("{}: {e}", what())))?;
        }
        if roots.is_empty() {
            return Err(HttpError::Tls(format!("{}: no certificate found", what())));
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| HttpError::Tls(format!("{}: {e}", what())))?
    } else {
        Arc::new(SystemRoots(provider.clone()))
    };
    if let Some(name) = s.server_name.as_ref().filter(|n| !n.is_empty()) {
        let name = ServerName::try_from(name.clone())
            .map_err(|_| HttpError::Tls(format!("tls_config: invalid server_name {name:?}")))?;
        verifier = Arc::new(FixedServerName { inner: verifier, name });
    }
    let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
    let mut cfg = match (&m.cert, &m.key) {
        (Some(cert), Some(key)) => {
            let origin = format!(
                "unable to use specified client cert ({}) & key ({})",
                s.cert.as_ref().map(PemSource::origin).unwrap_or_default(),
                s.key.as_ref().map(PemSource::origin).unwrap_or_default()
            );
            let certs = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| HttpError::Tls(format!("{origin}: invalid certificate PEM")))?;
            if certs.is_empty() {
                return Err(HttpError::Tls(format!("{origin}: no certificate found")));
            }
            // Never format the key parse error: it is about secret bytes.
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|_| HttpError::Tls(format!("{origin}: invalid private key PEM")))?;
            builder.with_client_auth_cert(certs, key).map_err(|e| HttpError::Tls(format!("{origin}: {e}")))?
        }
        _ => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols =
        if http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
    Ok(cfg)
}

/// `insecure_skip_verify: true`: any certificate, any name; handshake signatures are still checked.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The system roots, loaded at the first certificate to verify and then shared by every client of the process,
/// as Go's `x509.SystemCertPool` is. Loading them reads every file of /etc/ssl/certs (~10 ms): done when the
/// client was built, it delayed the first notification of every integration, even over plain HTTP, and every
/// group flushing meanwhile waited for it behind the client cache.
#[derive(Debug)]
struct SystemRoots(Arc<CryptoProvider>);

impl SystemRoots {
    fn verifier(&self) -> Result<&'static rustls_platform_verifier::Verifier, rustls::Error> {
        static ROOTS: std::sync::OnceLock<Result<rustls_platform_verifier::Verifier, String>> =
            std::sync::OnceLock::new();
        ROOTS
            .get_or_init(|| {
                rustls_platform_verifier::Verifier::new(self.0.clone())
                    .map_err(|e| format!("unable to load system roots: {e}"))
            })
            .as_ref()
            .map_err(|e| rustls::Error::General(e.clone()))
    }
}

impl ServerCertVerifier for SystemRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    // Handshake signatures need no roots: checked as the platform verifier does, with the provider's algorithms.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `server_name`: verify the certificate against this name instead of the URL's host. (Go also sends it as
/// SNI; reqwest sends the URL host as SNI, which only matters to servers that pick certificates by SNI.)
#[derive(Debug)]
struct FixedServerName {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for FixedServerName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner.verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }
}
