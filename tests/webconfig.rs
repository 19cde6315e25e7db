//! Black-box: `--web.config.file` (HTTPS, client certificates, basic auth, extra headers, strict parsing) and
//! `--web.systemd-socket` (serving on a socket passed as fd 3) on the real binary, loopback only. Certificates
//! come from rcgen; every wait is bounded; processes are killed by PID.
//! `--web.timeout` is tested at unit level with paused time (crates/tocsin/src/webconfig/serve.rs).

use command_fds::{CommandFdExt, FdMapping};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::time::Duration;
use tocsin_testkit::process::run_to_exit;
use tocsin_testkit::{Node, NodeBuilder};

const GOOD: &str = "route:\n  receiver: hook\nreceivers:\n- name: hook\n";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tocsin")
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, all as PEM.
struct Pki {
    ca: String,
    server_cert: String,
    server_key: String,
    client_identity: String,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "tocsin test CA");
    let ca = ca_params.self_signed(&ca_key).expect("ca");

    let server_key = KeyPair::generate().expect("key");
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("params")
        .signed_by(&server_key, &ca, &ca_key)
        .expect("server cert");

    let client_key = KeyPair::generate().expect("key");
    let mut client_params = CertificateParams::new(Vec::new()).expect("params");
    client_params.distinguished_name.push(DnType::CommonName, "client");
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = client_params.signed_by(&client_key, &ca, &ca_key).expect("client cert");
    Pki {
        ca: ca.pem(),
        server_cert: server.pem(),
        server_key: server_key.serialize_pem(),
        client_identity: format!("{}{}", client.pem(), client_key.serialize_pem()),
    }
}

fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(10))
}

fn https_client(pki: &Pki, identity: bool) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(pki.ca.as_bytes()).expect("ca");
    let mut b = client_builder().tls_certs_only([ca]);
    if identity {
        b = b.identity(reqwest::Identity::from_pem(pki.client_identity.as_bytes()).expect("identity"));
    }
    b.build().expect("client")
}

/// Starts a node whose `web.yml` (and certificates, with relative paths) sit in its directory.
fn start_with_web_config(web_yml: &str, pki: Option<&Pki>) -> Node {
    let builder = NodeBuilder::new(bin()).config(GOOD);
    if let Some(p) = pki {
        std::fs::write(builder.dir().join("server.crt"), &p.server_cert).expect("write");
        std::fs::write(builder.dir().join("server.key"), &p.server_key).expect("write");
        std::fs::write(builder.dir().join("ca.crt"), &p.ca).expect("write");
    }
    let web = builder.dir().join("web.yml");
    std::fs::write(&web, web_yml).expect("write web.yml");
    builder.arg(format!("--web.config.file={}", web.display())).start().expect("start")
}

#[tokio::test]
async fn https_with_configured_certificate() {
    let pki = pki();
    let node = start_with_web_config(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n\
         http_server_config:\n  headers:\n    X-Frame-Options: deny\n",
        Some(&pki),
    );
    let url = format!("https://{}/-/healthy", node.addr);
    let resp = https_client(&pki, false).get(&url).send().await.expect("HTTPS GET");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.version(), reqwest::Version::HTTP_2, "http2 is on by default");
    assert_eq!(resp.headers()["x-frame-options"], "deny");
    assert_eq!(resp.text().await.expect("body"), "OK");
    assert!(node.log().contains("TLS is enabled."), "{}", node.log());
    // Plain HTTP to a TLS listener gets no answer.
    let plain = client_builder().build().expect("client").get(node.url("/-/healthy")).send().await;
    assert!(plain.map(|r| r.status().as_u16() != 200).unwrap_or(true));
}

#[tokio::test]
async fn client_certificate_required() {
    let pki = pki();
    let node = start_with_web_config(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  \
         client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n\
         http_server_config:\n  http2: false\n",
        Some(&pki),
    );
    let url = format!("https://{}/-/healthy", node.addr);
    let without = https_client(&pki, false).get(&url).send().await;
    assert!(without.is_err(), "a client without a certificate must be refused: {without:?}");
    let with = https_client(&pki, true).get(&url).send().await.expect("GET with client cert");
    assert_eq!(with.status().as_u16(), 200);
    assert_eq!(with.version(), reqwest::Version::HTTP_11, "http2: false");
}

#[tokio::test]
async fn basic_auth_users() {
    let hash = bcrypt::hash("s3cret", 4).expect("hash");
    let node = start_with_web_config(&format!("basic_auth_users:\n  alice: '{hash}'\n"), None);
    let client = client_builder().build().expect("client");
    let url = node.url("/api/v2/status");

    let none = client.get(&url).send().await.expect("GET");
    assert_eq!(none.status().as_u16(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Basic");
    assert_eq!(none.text().await.expect("body"), "Unauthorized\n");
    for (user, pass) in [("alice", "wrong"), ("bob", "s3cret"), ("alic", "s3cret")] {
        let r = client.get(&url).basic_auth(user, Some(pass)).send().await.expect("GET");
        assert_eq!(r.status().as_u16(), 401, "{user}:{pass}");
    }
    let ok = client.get(&url).basic_auth("alice", Some("s3cret")).send().await.expect("GET");
    assert_eq!(ok.status().as_u16(), 200);
}

fn base_args(dir: &std::path::Path) -> Vec<String> {
    let cfg = dir.join("alertmanager.yml");
    std::fs::write(&cfg, GOOD).expect("write");
    vec![
        format!("--config.file={}", cfg.display()),
        format!("--storage.path={}", dir.join("data").display()),
        "--cluster.listen-address=".into(),
    ]
}

#[test]
fn bad_web_config_exits_1_naming_file_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let web = dir.path().join("web.yml");
    std::fs::write(&web, "tls_server_config:\n  cert_fiel: x.crt\n").expect("write");
    let mut cmd = Command::new(bin());
    cmd.args(base_args(dir.path()))
        .arg("--web.listen-address=127.0.0.1:0")
        .arg(format!("--web.config.file={}", web.display()));
    let (code, stderr) = run_to_exit(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("cert_fiel"), "{stderr}");
    assert!(stderr.contains("web.yml"), "{stderr}");

    // A missing certificate is fatal too.
    std::fs::write(&web, "tls_server_config:\n  cert_file: none.crt\n  key_file: none.key\n").expect("write");
    let mut cmd = Command::new(bin());
    cmd.args(base_args(dir.path()))
        .arg("--web.listen-address=127.0.0.1:0")
        .arg(format!("--web.config.file={}", web.display()));
    let (code, stderr) = run_to_exit(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("none.crt"), "{stderr}");
}

#[test]
fn systemd_socket_without_fds_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(bin());
    cmd.args(base_args(dir.path()))
        .arg("--web.systemd-socket")
        .env_remove("LISTEN_PID")
        .env_remove("LISTEN_FDS");
    let (code, stderr) = run_to_exit(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no socket activation file descriptors found"), "{stderr}");
}

/// Kills a child by PID when dropped.
struct Killer(std::process::Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn systemd_socket_serves_on_passed_fd() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    // `exec` keeps the shell's pid, so `$$` is the LISTEN_PID systemd would set after fork.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"")
        .arg(bin())
        .args(base_args(dir.path()))
        .arg("--web.systemd-socket")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .fd_mappings(vec![FdMapping { parent_fd: OwnedFd::from(listener), child_fd: 3 }])
        .expect("fd mapping");
    let _child = Killer(cmd.spawn().expect("spawn"));
    drop(cmd); // closes our copy of the socket
               // The socket is already listening: the request waits in its backlog until tocsin accepts.
    let resp = client_builder()
        .build()
        .expect("client")
        .get(format!("http://{addr}/-/healthy"))
        .send()
        .await
        .expect("GET on the passed socket");
    assert_eq!(resp.status().as_u16(), 200);
}
