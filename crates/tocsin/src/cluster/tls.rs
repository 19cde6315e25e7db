//! `--cluster.tls-config`: the YAML file upstream reads (`cluster/tls_config.go`) turned into the rustls
//! configurations of the gossip [`tocsin_gossip::TlsTransport`].
//!
//! - `tls_server_config` (required): exporter-toolkit's server block, parsed and built exactly as for
//!   `--web.config.file` ([`crate::webconfig`]). Set `client_auth_type: RequireAndVerifyClientCert` and a
//!   `client_ca_file` for mutual TLS; without it any client may connect, as upstream (logged at warn level at
//!   start). When client certificates are required, `tls_client_config` must present one: every node uses
//!   the same file, so without it every peer would refuse this node.
//! - `tls_client_config` (optional): prometheus/common's client TLS block, as `tls_config` in receivers.
//!   Peers are verified against their IP address unless `server_name` is set.
//!
//! Unknown keys and unreadable files are start-up errors naming the file (upstream: `yaml.UnmarshalStrict`,
//! exit 1). Relative paths resolve against the file's directory. Files are read once, at start.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use tocsin_gossip::{ClusterError, TlsConfig};
use tocsin_receivers::tls::{client_config, TlsMaterial};
use tocsin_receivers::TlsSettings;

use crate::webconfig::{self, TlsServerConfig, WebConfig};

/// Upstream's `TLSTransportConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TlsTransportFile {
    tls_server_config: Option<TlsServerConfig>,
    tls_client_config: Option<tocsin_config::TlsConfig>,
}

/// Upstream's error when the file has no server block.
pub const MISSING_SERVER_CONFIG: &str = "missing 'tls_server_config' entry in the TLS configuration";

/// Reads `path` and builds the server and client configurations (certificates and keys are loaded now).
pub async fn load(path: &Path) -> Result<TlsConfig, ClusterError> {
    let fail = |reason: String| {
        ClusterError::Config(format!(
            "unable to initialize TLS transport configuration for gossip mesh: --cluster.tls-config {}: {reason}",
            path.display()
        ))
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("open: {e}")))?;
    let file: TlsTransportFile = if text.trim().is_empty() {
        TlsTransportFile::default()
    } else {
        serde_yaml_ng::from_str(&text).map_err(|e| fail(e.to_string()))?
    };
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut server = file.tls_server_config.ok_or_else(|| fail(MISSING_SERVER_CONFIG.to_owned()))?;
    for p in [&mut server.cert_file, &mut server.key_file, &mut server.client_ca_file] {
        resolve(dir, p);
    }
    let mut client = file.tls_client_config.unwrap_or_default();
    for p in [&mut client.ca_file, &mut client.cert_file, &mut client.key_file] {
        resolve(dir, p);
    }
    let auth = server.client_auth_type.clone();
    let config = TlsConfig {
        server: server_config(server).map_err(fail)?,
        client: client_tls(&client).await.map_err(fail)?,
    };
    // Every node runs with the same file: requiring client certificates without presenting one would make
    // every peer refuse this node, silently.
    if requires_client_cert(&auth) && client.cert.is_empty() && client.cert_file.is_empty() {
        return Err(fail(format!(
            "tls_server_config.client_auth_type {auth} requires client certificates, \
             but tls_client_config has no cert_file: peers would refuse this node"
        )));
    }
    if auth != VERIFIED_CLIENTS {
        tracing::warn!(file = %path.display(), "{UNVERIFIED_CLIENTS_WARNING}");
    }
    Ok(config)
}

/// The only `client_auth_type` under which unknown hosts cannot open gossip connections.
const VERIFIED_CLIENTS: &str = "RequireAndVerifyClientCert";

/// Logged at start when the gossip port accepts clients without a verified certificate.
pub const UNVERIFIED_CLIENTS_WARNING: &str =
    "gossip TLS without client certificate verification: any host that \
     reaches the cluster port can connect; set client_auth_type: RequireAndVerifyClientCert";

/// Whether exporter-toolkit's `client_auth_type` makes the server refuse clients without a certificate.
fn requires_client_cert(auth: &str) -> bool {
    matches!(auth, "RequireAnyClientCert" | "RequireClientCert" | "RequireAndVerifyClientCert")
}

fn resolve(dir: &Path, path: &mut String) {
    if !path.is_empty() && Path::new(path.as_str()).is_relative() {
        *path = dir.join(path.as_str()).to_string_lossy().into_owned();
    }
}

fn server_config(server: TlsServerConfig) -> Result<Arc<rustls::ServerConfig>, String> {
    let web = WebConfig { tls_server_config: server, ..WebConfig::default() };
    // exporter-toolkit's `errNoTLSConfig`.
    let built = webconfig::tls::server_config(&web)?.ok_or("TLS config is not present")?;
    let mut config = Arc::unwrap_or_clone(built);
    // Gossip is not HTTP: no ALPN offer.
    config.alpn_protocols.clear();
    Ok(Arc::new(config))
}

async fn client_tls(c: &tocsin_config::TlsConfig) -> Result<Arc<rustls::ClientConfig>, String> {
    let has_cert = !c.cert.is_empty() || !c.cert_file.is_empty();
    let has_key = !c.key.is_empty() || !c.key_file.is_empty();
    if has_cert && !has_key {
        return Err("tls_client_config: exactly one of key or key_file must be configured when a client certificate is configured".into());
    }
    if has_key && !has_cert {
        return Err("tls_client_config: exactly one of cert or cert_file must be configured when a client key is configured".into());
    }
    let settings = TlsSettings::from_config(c);
    let material = TlsMaterial::read(&settings).await.map_err(|e| format!("tls_client_config: {e}"))?;
    let mut config =
        client_config(&settings, &material, false).map_err(|e| format!("tls_client_config: {e}"))?;
    config.alpn_protocols.clear();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pki(dir: &Path) {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        std::fs::write(dir.join("node.crt"), cert.pem()).expect("write");
        std::fs::write(dir.join("node.key"), key.serialize_pem()).expect("write");
    }

    #[tokio::test]
    async fn loads_or_names_the_problem() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("tempdir");
        write_pki(dir.path());
        let server = "tls_server_config:\n  cert_file: node.crt\n  key_file: node.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: node.crt\n";
        let client = "tls_client_config:\n  ca_file: node.crt\n  cert_file: node.crt\n  key_file: node.key\n";
        let anonymous = "tls_server_config:\n  cert_file: node.crt\n  key_file: node.key\n";
        let cases: [(&str, String, Option<&str>); 11] = [
            ("full", format!("{server}{client}"), None),
            ("server without client auth", anonymous.to_owned(), None),
            (
                "client auth required, no client cert",
                server.to_owned(),
                Some("client_auth_type RequireAndVerifyClientCert requires client certificates"),
            ),
            (
                "client auth required, client without cert",
                format!("{server}tls_client_config:\n  ca_file: node.crt\n"),
                Some("tls_client_config has no cert_file"),
            ),
            ("empty", String::new(), Some(MISSING_SERVER_CONFIG)),
            ("client only", client.to_owned(), Some(MISSING_SERVER_CONFIG)),
            ("unknown top key", format!("{server}tls_config: {{}}\n"), Some("unknown field `tls_config`")),
            (
                "unknown server key",
                "tls_server_config:\n  certfile: a\n".to_owned(),
                Some("unknown field `certfile`"),
            ),
            (
                "unknown client key",
                format!("{server}tls_client_config:\n  cafile: a\n"),
                Some("unknown field `cafile`"),
            ),
            (
                "missing cert",
                "tls_server_config:\n  cert_file: none.crt\n  key_file: node.key\n".to_owned(),
                Some("none.crt"),
            ),
            (
                "missing client ca",
                format!("{server}tls_client_config:\n  ca_file: nope.crt\n"),
                Some("nope.crt"),
            ),
        ];
        for (name, text, want) in cases {
            let path = dir.path().join(format!("{}.yml", name.replace(' ', "_")));
            std::fs::write(&path, text).expect("write");
            match (load(&path).await, want) {
                (Ok(c), None) => assert!(c.server.alpn_protocols.is_empty(), "{name}"),
                (Err(e), Some(want)) => {
                    let e = e.to_string();
                    assert!(e.contains(want), "{name}: {e}");
                    assert!(e.contains(&path.display().to_string()), "{name} names the file: {e}");
                }
                (got, want) => panic!("{name}: got {:?}, want error {want:?}", got.map(|_| ())),
            }
        }
        let missing = dir.path().join("absent.yml");
        let err = load(&missing).await.expect_err("error").to_string();
        assert!(err.contains("absent.yml"), "{err}");
    }

    #[test]
    fn debug_never_prints_the_inline_key() {
        let server = TlsServerConfig {
            key: "-----BEGIN PRIVATE KEY-----\nsecret material\n".to_owned(),
            key_file: "node.key".to_owned(),
            ..TlsServerConfig::default()
        };
        let shown = format!("{server:?}");
        assert!(!shown.contains("secret material"), "{shown}");
        assert!(shown.contains("<redacted>") && shown.contains("node.key"), "{shown}");
    }
}
