//! `TlsTransport` on real loopback sockets: clusters converge over mutual TLS, unauthenticated peers and
//! oversized frames are rejected without harming the listener, silent or numerous connections from one host
//! cannot lock out the members, an unreachable peer costs one dial, `close` stops listening. Certificates
//! come from rcgen; every wait is bounded.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod common;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use common::Lww;
use prometheus_client::registry::Registry;
use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair};
use rustls::{
    pki_types::{CertificateDer, PrivateKeyDer, ServerName},
    server::WebPkiClientVerifier,
    ClientConfig, RootCertStore, ServerConfig,
};
use tocsin_gossip::{
    node_name, Cluster, ClusterConfig, ClusterHandle, Key, Replicated, TlsConfig, TlsOptions, TlsTransport,
    Transport,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A CA that signs node certificates valid for 127.0.0.1 (as server and as client).
struct Ca {
    cert: Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    fn node(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&key, &self.cert, &self.key)
            .unwrap();
        (vec![cert.der().clone()], PrivateKeyDer::try_from(key.serialize_der()).unwrap())
    }

    fn roots(&self) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.der().clone()).unwrap();
        Arc::new(roots)
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server requiring a client certificate from `ca`, a client presenting `identity` (if any) and trusting `ca`.
fn tls(ca: &Ca, identity: Option<&Ca>) -> TlsConfig {
    let (certs, key) = ca.node();
    let verifier = WebPkiClientVerifier::builder_with_provider(ca.roots(), provider()).build().unwrap();
    let server = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .unwrap();
    let client = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(ca.roots());
    let client = match identity {
        Some(issuer) => {
            let (certs, key) = issuer.node();
            client.with_client_auth_cert(certs, key).unwrap()
        }
        None => client.with_no_client_auth(),
    };
    TlsConfig { server: Arc::new(server), client: Arc::new(client) }
}

/// Like [`tls`] with `identity` `ca`, but the server accepts clients without a certificate (the default of
/// `client_auth_type`).
fn tls_without_client_auth(ca: &Ca) -> TlsConfig {
    let (certs, key) = ca.node();
    let server = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    TlsConfig { server: Arc::new(server), client: tls(ca, Some(ca)).client }
}

async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "not within 15s: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct TlsNode {
    handle: ClusterHandle,
    state: Arc<Lww>,
    _registry: Registry,
}

async fn start_node(ca: &Ca, n: u64, peers: &[SocketAddr]) -> TlsNode {
    let mut config = ClusterConfig::new(node_name(n * 1000), "127.0.0.1:0");
    config.probe_interval = Duration::from_millis(200);
    config.probe_timeout = Duration::from_millis(100);
    config.gossip_interval = Duration::from_millis(50);
    config.reconnect_interval = Duration::from_millis(200);
    config.settle_timeout = Duration::from_secs(2);
    config.tcp_timeout = Duration::from_secs(2);
    config.peers = peers.iter().map(ToString::to_string).collect();
    config.key = Some(Key::new(b"shared secret".to_vec()));
    config.tls = Some(tls(ca, Some(ca)));
    let state = Lww::new();
    let mut registry = Registry::default();
    let handle =
        Cluster::start(config, vec![state.clone() as Arc<dyn Replicated>], &mut registry).await.unwrap();
    TlsNode { handle, state, _registry: registry }
}

#[tokio::test]
async fn three_nodes_converge_over_mutual_tls() {
    let ca = Ca::new("cluster CA");
    let a = start_node(&ca, 1, &[]).await;
    let b = start_node(&ca, 2, &[a.handle.address()]).await;
    eventually("2 members", || async { a.handle.peers().len() == 2 && b.handle.peers().len() == 2 }).await;

    // A delta (one packet) and an oversized delta (a sync stream).
    a.handle.broadcast("sil", a.state.set("small", 1, "s"));
    let big = "y".repeat(4000);
    b.handle.broadcast("sil", b.state.set("big", 1, &big));
    eventually("deltas", || async { b.state.get("small").is_some() && a.state.get("big").is_some() }).await;
    assert_eq!(a.state.get("big").as_deref(), Some(big.as_str()));

    // Never broadcast: only the full-state push-pull on join can bring it to the third node.
    a.state.set("quiet", 1, "q");
    let c = start_node(&ca, 3, &[b.handle.address()]).await;
    let nodes = [&a, &b, &c];
    eventually("3 members", || async { nodes.iter().all(|n| n.handle.peers().len() == 3) }).await;
    eventually("full state", || async { c.state.get("quiet").is_some() && c.state.get("big").is_some() })
        .await;
    assert_eq!(c.state.snapshot(), a.state.snapshot());
    assert_eq!(a.handle.peers(), c.handle.peers());

    c.handle.leave(Duration::from_secs(2)).await.unwrap();
    eventually("c left", || async { a.handle.peers().len() == 2 }).await;
}

fn options() -> TlsOptions {
    TlsOptions { timeout: Duration::from_secs(2), max_packet: 1024, ..TlsOptions::default() }
}

async fn bind_with(config: TlsConfig, options: TlsOptions) -> TlsTransport {
    TlsTransport::bind("127.0.0.1:0".parse().unwrap(), config, options).await.unwrap()
}

async fn bind(config: TlsConfig) -> TlsTransport {
    bind_with(config, options()).await
}

/// A stream exchange (what push-pull uses) from `a` to `b`.
async fn exchange(a: &TlsTransport, b: &TlsTransport) {
    let (out, accepted) = tokio::join!(a.connect(b.local_addr()), async {
        tokio::time::timeout(Duration::from_secs(10), b.accept()).await.expect("accepted in time")
    });
    let (mut out, (from, mut inbound)) = (out.unwrap(), accepted.unwrap());
    assert_eq!(from, a.local_addr());
    out.write_all(b"state").await.unwrap();
    out.shutdown().await.unwrap();
    let mut got = Vec::new();
    inbound.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"state");
}

/// A TLS client speaking the documented hello directly (from 127.0.0.1).
async fn raw_client(
    to: SocketAddr,
    client: Arc<rustls::ClientConfig>,
    hello: &[u8],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(to).await.unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(client)
        .connect(ServerName::IpAddress(to.ip().into()), tcp)
        .await
        .unwrap();
    let mut bytes = (hello.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(hello);
    stream.write_all(&bytes).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

async fn recv(t: &TlsTransport) -> (SocketAddr, Vec<u8>) {
    tokio::time::timeout(Duration::from_secs(10), t.recv_from()).await.expect("packet in time").unwrap()
}

#[tokio::test]
async fn packets_come_from_the_cluster_address_and_streams_work() {
    let ca = Ca::new("cluster CA");
    let a = bind(tls(&ca, Some(&ca))).await;
    let b = bind(tls(&ca, Some(&ca))).await;
    a.send_to(b.local_addr(), b"ping").await.unwrap();
    assert_eq!(recv(&b).await, (a.local_addr(), b"ping".to_vec()));
    b.send_to(a.local_addr(), b"pong").await.unwrap();
    assert_eq!(recv(&a).await, (b.local_addr(), b"pong".to_vec()));

    exchange(&a, &b).await;
}

#[tokio::test]
async fn peers_without_a_valid_client_certificate_are_rejected() {
    let ca = Ca::new("cluster CA");
    let other = Ca::new("another CA");
    let server = bind(tls(&ca, Some(&ca))).await;
    let to = server.local_addr();

    let anonymous = bind(tls(&ca, None)).await;
    anonymous.send_to(to, b"no cert").await.unwrap();
    eventually("no-cert handshake counted", || async { server.handshake_failures() >= 1 }).await;

    let foreign = bind(tls(&ca, Some(&other))).await;
    foreign.send_to(to, b"foreign").await.unwrap();
    eventually("foreign handshake counted", || async { server.handshake_failures() >= 2 }).await;

    // The listener is still serving, and nothing of the rejected peers got through.
    let good = bind(tls(&ca, Some(&ca))).await;
    good.send_to(to, b"hello").await.unwrap();
    assert_eq!(recv(&server).await, (good.local_addr(), b"hello".to_vec()));
}

#[tokio::test]
async fn oversized_frame_closes_the_connection() {
    let ca = Ca::new("cluster CA");
    let server = bind(tls(&ca, Some(&ca))).await;
    let client = tls(&ca, Some(&ca)).client;
    let tcp = tokio::net::TcpStream::connect(server.local_addr()).await.unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(client)
        .connect(ServerName::IpAddress(server.local_addr().ip().into()), tcp)
        .await
        .unwrap();
    // The documented hello (packets from 127.0.0.1:9), a valid packet, then one announcing 1 MiB.
    let body = b"TGT1\x00127.0.0.1:9";
    let mut bytes = (body.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(body);
    bytes.extend_from_slice(&2u32.to_be_bytes());
    bytes.extend_from_slice(b"ok");
    bytes.extend_from_slice(&(1u32 << 20).to_be_bytes());
    stream.write_all(&bytes).await.unwrap();
    stream.flush().await.unwrap();
    assert_eq!(recv(&server).await, ("127.0.0.1:9".parse().unwrap(), b"ok".to_vec()));
    eventually("oversized frame rejected", || async { server.rejected_frames() == 1 }).await;
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the server closes the connection");
}

#[tokio::test]
async fn silent_connections_do_not_lock_out_peers() {
    let ca = Ca::new("cluster CA");
    let server = bind(tls(&ca, Some(&ca))).await;
    // Far more silent sockets than the old single budget (256) held, all from one host: 127.0.0.2, so that
    // the members (which dial from 127.0.0.1) are another host.
    let silent = 300;
    let mut sockets = Vec::new();
    for _ in 0..silent {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        sockets.push(socket.connect(server.local_addr()).await.unwrap());
    }
    let per_host = TlsOptions::default().max_handshakes_per_host as u64;
    eventually("excess silent sockets refused", || async {
        server.refused_connections() == silent - per_host
    })
    .await;

    let peer = bind(tls(&ca, Some(&ca))).await;
    peer.send_to(server.local_addr(), b"still here").await.unwrap();
    assert_eq!(recv(&server).await, (peer.local_addr(), b"still here".to_vec()));
    exchange(&peer, &server).await;
    drop(sockets);
}

#[tokio::test]
async fn established_connections_are_capped_per_host() {
    let ca = Ca::new("cluster CA");
    // The default client_auth_type: anyone can complete the handshake.
    let options = TlsOptions { max_inbound_per_host: 3, ..options() };
    let server = bind_with(tls_without_client_auth(&ca), options).await;
    let anonymous = tls(&ca, None).client;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(raw_client(server.local_addr(), anonymous.clone(), b"TGT1\x00127.0.0.1:9").await);
    }
    eventually("two refused after their hello", || async {
        server.refused_connections() == 2 && server.open_connections() == 3
    })
    .await;
    // A refused connection's slot is never taken; closing a held one frees its slot.
    drop(held);
    eventually("slots released", || async { server.open_connections() == 0 }).await;
}

#[tokio::test]
async fn a_failed_dial_drops_the_queue_and_backs_off() {
    let ca = Ca::new("cluster CA");
    // Accepts and closes at once: every TLS dial fails, and each dial is one accept.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let to = listener.local_addr().unwrap();
    let dials = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = dials.clone();
    let acceptor = tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(tcp);
        }
    });
    let options = TlsOptions { dial_backoff: Duration::from_secs(3600), ..options() };
    let client = bind_with(tls(&ca, Some(&ca)), options).await;
    for _ in 0..10 {
        client.send_to(to, b"lost").await.unwrap();
    }
    eventually("all ten dropped", || async { client.dropped_packets() == 10 }).await;
    assert_eq!(dials.load(std::sync::atomic::Ordering::SeqCst), 1, "one dial for the whole queue");
    client.send_to(to, b"during backoff").await.unwrap();
    eventually("dropped during the backoff", || async { client.dropped_packets() == 11 }).await;
    assert_eq!(dials.load(std::sync::atomic::Ordering::SeqCst), 1, "no dial during the backoff");
    acceptor.abort();
}

#[tokio::test]
async fn close_stops_listening_after_sending_what_is_queued() {
    let ca = Ca::new("cluster CA");
    let a = bind(tls(&ca, Some(&ca))).await;
    let b = bind(tls(&ca, Some(&ca))).await;
    a.send_to(b.local_addr(), b"bye").await.unwrap();
    a.close().await;
    assert_eq!(recv(&b).await, (a.local_addr(), b"bye".to_vec()), "queued before close: still sent");
    let refused = tokio::net::TcpStream::connect(a.local_addr()).await;
    assert!(refused.is_err(), "the port is closed once close returns");
    let err = a.recv_from().await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotConnected);
    a.send_to(b.local_addr(), b"after").await.unwrap();
    assert_eq!(a.dropped_packets(), 1, "sending after close drops");
}
