//! `--cluster.tls-config`: gossip over mutual TLS, TCP only (upstream: `cluster/tls_transport.go`).
//!
//! Datagrams become length-prefixed frames on one pooled TLS connection per peer, opened on first use and
//! reopened after an error; a packet that cannot be written within the timeout is lost, as a UDP datagram
//! would be (SWIM and the delta digests already cope with loss). `send_to` only queues: the node loop never
//! waits for a handshake. State sync opens a dedicated TLS connection per exchange. Every connection starts
//! with a hello naming its kind and the sender's cluster address, so the `from` of a packet is the peer's
//! cluster address, not its ephemeral port (see [`conn`]).
//!
//! The accepting side ([`inbound`]) spends two budgets: one for connections still in their handshake (small,
//! short timeout, capped per remote host, taken at accept) and one for established connections (taken after
//! the hello, also capped per host). Idle or silent sockets therefore cannot lock out the members.
//!
//! Not wire compatible with Alertmanager's TLS transport (protobuf `MemberlistMessage`): tocsin does not speak
//! memberlist anyway.

mod conn;
mod inbound;

use std::{
    collections::HashMap,
    io,
    net::SocketAddr,
    sync::{Arc, Weak},
    time::Duration,
};

use async_trait::async_trait;
use parking_lot::Mutex;
use prometheus_client::{metrics::counter::Counter, registry::Registry};
use rustls::pki_types::ServerName;
use tokio::{
    io::{AsyncRead, WriteHalf},
    net::{TcpListener, TcpSocket, TcpStream},
    sync::{mpsc, oneshot, watch, Mutex as AsyncMutex},
    task::JoinHandle,
    time::Instant,
};
use tokio_rustls::{client, TlsAcceptor, TlsConnector};

use crate::transport::{BoxStream, Transport};
use conn::{Budget, Hello, Kind};

/// The rustls configurations the transport uses; built by the application from `--cluster.tls-config`.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// For accepted connections; require client certificates here for mutual TLS.
    pub server: Arc<rustls::ServerConfig>,
    /// For connections to peers; peers are verified against their IP address (or the config's fixed name).
    pub client: Arc<rustls::ClientConfig>,
}

/// Limits and timeouts of a [`TlsTransport`].
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// The cluster address announced in every hello; `None` announces the bound address.
    pub advertise: Option<SocketAddr>,
    /// Bound on dialling (connect + handshake + hello), and on writing one packet.
    pub timeout: Duration,
    /// Bound on an inbound handshake + hello; shorter than `timeout` so silent sockets free their slot soon.
    pub handshake_timeout: Duration,
    /// Inbound connections in their handshake at once; more are closed at once (and counted).
    pub max_handshakes: usize,
    /// Inbound connections in their handshake at once from one host (IPv4 address or IPv6 /64).
    pub max_handshakes_per_host: usize,
    /// Established inbound connections (pooled packet connections and sync streams); more are closed.
    pub max_inbound: usize,
    /// Established inbound connections from one host (IPv4 address or IPv6 /64).
    pub max_inbound_per_host: usize,
    /// Largest packet frame accepted (a datagram; state sync has its own, larger limit).
    pub max_packet: usize,
    /// An inbound packet connection without traffic for this long is closed, and so is a pooled outbound one
    /// with nothing to send (membership probes keep live ones busy).
    pub idle_timeout: Duration,
    /// After a failed dial, packets for that peer are dropped without dialling for this long.
    pub dial_backoff: Duration,
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self {
            advertise: None,
            timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(5),
            max_handshakes: 64,
            max_handshakes_per_host: 8,
            max_inbound: 256,
            max_inbound_per_host: 64,
            max_packet: 65_536,
            idle_timeout: Duration::from_secs(300),
            dial_backoff: Duration::from_secs(1),
        }
    }
}

/// Packets waiting for the node loop; more are dropped (UDP semantics).
const PACKET_QUEUE: usize = 4096;
/// Accepted sync streams waiting for the cluster's accept task.
const STREAM_QUEUE: usize = 64;
/// Packets waiting for one peer's connection; more are dropped.
const PEER_QUEUE: usize = 256;
/// Pending connections the kernel queues for the listener (as `TcpListener::bind`).
const LISTEN_BACKLOG: u32 = 1024;

/// Counters exported as `tocsin_cluster_tls_*_total`.
#[derive(Debug, Clone, Default)]
struct Stats {
    handshake_failures: Counter,
    rejected_frames: Counter,
    refused_connections: Counter,
    dropped_packets: Counter,
}

type Pool = Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>;

/// What the transport's background tasks share.
struct Shared {
    acceptor: TlsAcceptor,
    connector: TlsConnector,
    advertise: SocketAddr,
    options: TlsOptions,
    packets: mpsc::Sender<(SocketAddr, Vec<u8>)>,
    streams: mpsc::Sender<(SocketAddr, BoxStream)>,
    stats: Stats,
    /// Inbound connections before their hello.
    handshakes: Arc<Budget>,
    /// Inbound connections after their hello.
    established: Arc<Budget>,
    /// When a failed handshake was last logged at warn level (see [`inbound`]).
    warned: Mutex<Option<Instant>>,
    /// Changes on [`TlsTransport::close`] and errors when the transport is dropped: the inbound side stops on
    /// either, peer writers only on the drop (after a close they first send what is queued).
    shutdown: watch::Receiver<()>,
}

/// The receiving ends `Shared::new` hands to the transport.
struct Queues {
    packets: mpsc::Receiver<(SocketAddr, Vec<u8>)>,
    streams: mpsc::Receiver<(SocketAddr, BoxStream)>,
    shutdown: watch::Sender<()>,
}

impl Shared {
    fn new(tls: TlsConfig, options: TlsOptions, advertise: SocketAddr) -> (Arc<Self>, Queues) {
        let (packets_tx, packets) = mpsc::channel(PACKET_QUEUE);
        let (streams_tx, streams) = mpsc::channel(STREAM_QUEUE);
        let (shutdown, shutdown_rx) = watch::channel(());
        let shared = Arc::new(Shared {
            acceptor: TlsAcceptor::from(tls.server),
            connector: TlsConnector::from(tls.client),
            advertise,
            handshakes: Budget::new(options.max_handshakes, options.max_handshakes_per_host),
            established: Budget::new(options.max_inbound, options.max_inbound_per_host),
            options,
            packets: packets_tx,
            streams: streams_tx,
            stats: Stats::default(),
            warned: Mutex::new(None),
            shutdown: shutdown_rx,
        });
        (shared, Queues { packets, streams, shutdown })
    }

    /// Whether [`TlsTransport::close`] was called (or the transport dropped).
    fn closed(&self) -> bool {
        !matches!(self.shutdown.has_changed(), Ok(false))
    }
}

/// Gossip over mutual TLS on one TCP address. See the module documentation.
pub struct TlsTransport {
    local: SocketAddr,
    shared: Arc<Shared>,
    pool: Arc<Pool>,
    packets: AsyncMutex<mpsc::Receiver<(SocketAddr, Vec<u8>)>>,
    streams: AsyncMutex<mpsc::Receiver<(SocketAddr, BoxStream)>>,
    shutdown: watch::Sender<()>,
    accept_task: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport").field("local", &self.local).finish_non_exhaustive()
    }
}

impl TlsTransport {
    /// Binds the TCP listener on `addr` and starts accepting.
    pub async fn bind(addr: SocketAddr, tls: TlsConfig, options: TlsOptions) -> io::Result<Self> {
        let listener = listen(addr)?;
        let local = listener.local_addr()?;
        let advertise = options.advertise.unwrap_or(local);
        let (shared, queues) = Shared::new(tls, options, advertise);
        let accept_task = tokio::spawn(inbound::accept_loop(shared.clone(), listener));
        Ok(Self {
            local,
            shared,
            pool: Arc::new(Mutex::new(HashMap::new())),
            packets: AsyncMutex::new(queues.packets),
            streams: AsyncMutex::new(queues.streams),
            shutdown: queues.shutdown,
            accept_task: Mutex::new(Some(accept_task)),
        })
    }

    /// Stops listening (the port is closed when this returns) and closes inbound connections; packets already
    /// queued (a leave announcement) are still sent, new ones are dropped. `recv_from` and `accept` then fail
    /// with `NotConnected`.
    pub async fn close(&self) {
        self.shutdown.send_replace(());
        // Without their senders, peer writers send what is queued, then end.
        self.pool.lock().clear();
        let accept = self.accept_task.lock().take();
        if let Some(accept) = accept {
            let _ = accept.await;
        }
    }

    /// Registers the transport's counters.
    pub fn register_metrics(&self, registry: &mut Registry) {
        let s = &self.shared.stats;
        registry.register(
            "tocsin_cluster_tls_handshake_failures",
            "Inbound cluster connections whose TLS handshake or hello failed or timed out",
            s.handshake_failures.clone(),
        );
        registry.register(
            "tocsin_cluster_tls_rejected_frames",
            "Cluster packet frames rejected as oversized or malformed (the connection is closed)",
            s.rejected_frames.clone(),
        );
        registry.register(
            "tocsin_cluster_tls_refused_connections",
            "Inbound cluster connections closed because too many were open (in total or from one host)",
            s.refused_connections.clone(),
        );
        registry.register(
            "tocsin_cluster_tls_dropped_packets",
            "Cluster packets lost: queue full, connection or write failed",
            s.dropped_packets.clone(),
        );
    }

    /// Inbound handshakes (or hellos) that failed so far.
    pub fn handshake_failures(&self) -> u64 {
        self.shared.stats.handshake_failures.get()
    }

    /// Packet frames rejected so far (oversized or malformed).
    pub fn rejected_frames(&self) -> u64 {
        self.shared.stats.rejected_frames.get()
    }

    /// Inbound connections closed so far because a budget was full.
    pub fn refused_connections(&self) -> u64 {
        self.shared.stats.refused_connections.get()
    }

    /// Outgoing packets lost so far.
    pub fn dropped_packets(&self) -> u64 {
        self.shared.stats.dropped_packets.get()
    }

    /// Established inbound connections open now.
    pub fn open_connections(&self) -> usize {
        self.shared.established.taken()
    }
}

/// The listener, with TCP keepalive on: accepted sockets inherit it (Linux, BSDs), so a peer that vanished
/// without closing (power loss, partition) does not hold a pooled connection forever.
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    // As `TcpListener::bind`: a restarted node can rebind while old connections are in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.set_keepalive(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

#[async_trait]
impl Transport for TlsTransport {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    async fn send_to(&self, to: SocketAddr, packet: &[u8]) -> io::Result<()> {
        if self.shared.closed() {
            self.shared.stats.dropped_packets.inc();
            return Ok(());
        }
        let framed = conn::frame(packet);
        let mut pool = self.pool.lock();
        let tx = pool.entry(to).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(PEER_QUEUE);
            tokio::spawn(peer_writer(
                self.shared.clone(),
                Arc::downgrade(&self.pool),
                to,
                tx.downgrade(),
                rx,
            ));
            tx
        });
        if tx.try_send(framed).is_err() {
            self.shared.stats.dropped_packets.inc();
        }
        Ok(())
    }

    async fn recv_from(&self) -> io::Result<(SocketAddr, Vec<u8>)> {
        let mut shutdown = self.shared.shutdown.clone();
        let mut packets = self.packets.lock().await;
        tokio::select! {
            _ = shutdown.changed() => Err(io::ErrorKind::NotConnected.into()),
            packet = packets.recv() => packet.ok_or_else(|| io::ErrorKind::NotConnected.into()),
        }
    }

    async fn connect(&self, to: SocketAddr) -> io::Result<BoxStream> {
        let stream = tokio::time::timeout(self.shared.options.timeout, dial(&self.shared, to, Kind::Stream))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS connect timed out"))??;
        Ok(Box::new(stream))
    }

    async fn accept(&self) -> io::Result<(SocketAddr, BoxStream)> {
        let mut shutdown = self.shared.shutdown.clone();
        let mut streams = self.streams.lock().await;
        tokio::select! {
            _ = shutdown.changed() => Err(io::ErrorKind::NotConnected.into()),
            stream = streams.recv() => stream.ok_or_else(|| io::ErrorKind::NotConnected.into()),
        }
    }
}

/// TCP connect (keepalive on), TLS handshake (the peer is verified against its IP), hello.
async fn dial(shared: &Shared, to: SocketAddr, kind: Kind) -> io::Result<client::TlsStream<TcpStream>> {
    let socket = if to.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_keepalive(true)?;
    let tcp = socket.connect(to).await?;
    tcp.set_nodelay(true)?;
    let mut tls = shared.connector.connect(ServerName::IpAddress(to.ip().into()), tcp).await?;
    conn::write_all(&mut tls, &Hello { kind, addr: shared.advertise }.encode()).await?;
    Ok(tls)
}

/// The pooled connection to one peer: its write half, plus the reader task's stop and end signals.
struct Pooled {
    writer: WriteHalf<client::TlsStream<TcpStream>>,
    /// Dropping it stops the reader task, which closes the socket.
    _stop: oneshot::Sender<()>,
    /// Completes when the reader task ended (the peer closed the connection or it failed).
    ended: oneshot::Receiver<()>,
}

/// Writes one peer's queued packets over its pooled connection, reconnecting on demand. Ends when idle (and
/// leaves the pool), when its queue is closed and drained ([`TlsTransport::close`]) or when the transport is
/// dropped.
async fn peer_writer(
    shared: Arc<Shared>,
    pool: Weak<Pool>,
    to: SocketAddr,
    me: mpsc::WeakSender<Vec<u8>>,
    mut queue: mpsc::Receiver<Vec<u8>>,
) {
    let mut shutdown = shared.shutdown.clone();
    let mut conn: Option<Pooled> = None;
    // Until then (after a failed dial) packets are dropped without dialling: one dial per packet would make
    // an unreachable peer cost a connect timeout per queued packet.
    let mut retry_at: Option<Instant> = None;
    loop {
        let ended = async {
            match conn.as_mut() {
                Some(c) => {
                    let _ = (&mut c.ended).await;
                }
                None => std::future::pending().await,
            }
        };
        let next = tokio::select! {
            changed = shutdown.changed() => {
                // Closed: keep going until the queue is drained. Dropped: stop now.
                if changed.is_err() {
                    return;
                }
                continue;
            }
            _ = ended => {
                conn = None;
                continue;
            }
            next = tokio::time::timeout(shared.options.idle_timeout, queue.recv()) => next,
        };
        let framed = match next {
            Ok(Some(framed)) => framed,
            Ok(None) => return,
            Err(_) => {
                // Idle: leave the pool (unless already replaced) so forgotten peers hold no task.
                if let (Some(pool), Some(me)) = (pool.upgrade(), me.upgrade()) {
                    let mut pool = pool.lock();
                    if pool.get(&to).is_some_and(|tx| tx.same_channel(&me)) {
                        pool.remove(&to);
                    }
                }
                return;
            }
        };
        if conn.is_none() {
            if retry_at.is_some_and(|at| Instant::now() < at) {
                shared.stats.dropped_packets.inc();
                continue;
            }
            let dialed = tokio::time::timeout(shared.options.timeout, dial(&shared, to, Kind::Packets)).await;
            let err = match dialed {
                Ok(Ok(tls)) => {
                    retry_at = None;
                    conn = Some(pooled(&shared, to, tls));
                    None
                }
                Ok(Err(err)) => Some(err.to_string()),
                Err(_) => Some("timed out".to_owned()),
            };
            if let Some(err) = err {
                let mut lost = 1;
                while queue.try_recv().is_ok() {
                    lost += 1;
                }
                shared.stats.dropped_packets.inc_by(lost);
                retry_at = Some(Instant::now() + shared.options.dial_backoff);
                tracing::debug!(%to, %err, lost, "cluster TLS connect failed; queued packets lost");
                continue;
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        match tokio::time::timeout(shared.options.timeout, conn::write_all(&mut c.writer, &framed)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                shared.stats.dropped_packets.inc();
                tracing::debug!(%to, %err, "cluster packet write failed; reconnecting on the next packet");
                conn = None;
            }
            Err(_) => {
                shared.stats.dropped_packets.inc();
                tracing::debug!(%to, "cluster packet write timed out; reconnecting on the next packet");
                conn = None;
            }
        }
    }
}

/// Splits a fresh pooled connection: packets the peer sends back on it are read by their own task.
fn pooled(shared: &Arc<Shared>, to: SocketAddr, tls: client::TlsStream<TcpStream>) -> Pooled {
    let (reader, writer) = tokio::io::split(tls);
    let (stop_tx, stop_rx) = oneshot::channel();
    let (ended_tx, ended_rx) = oneshot::channel();
    tokio::spawn(pooled_reader(shared.clone(), to, reader, stop_rx, ended_tx));
    Pooled { writer, _stop: stop_tx, ended: ended_rx }
}

/// Reads the pooled connection until the peer closes it or the writer stops it. No idle timeout: the
/// accepting side never writes on a packet connection, so silence here is normal; the writer's idle exit
/// decides how long the connection lives.
async fn pooled_reader<R: AsyncRead + Unpin>(
    shared: Arc<Shared>,
    to: SocketAddr,
    reader: R,
    stop: oneshot::Receiver<()>,
    ended: oneshot::Sender<()>,
) {
    tokio::select! {
        _ = stop => {}
        _ = inbound::read_packets(&shared, to, reader, None) => {}
    }
    let _ = ended.send(());
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{
        server::{ClientHello, ResolvesServerCert},
        sign::CertifiedKey,
        ClientConfig, RootCertStore, ServerConfig,
    };
    use tokio::io::AsyncWriteExt;

    /// Serves no certificate: the tests below never complete a handshake.
    #[derive(Debug)]
    struct NoCert;

    impl ResolvesServerCert for NoCert {
        fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            None
        }
    }

    pub(super) fn shared(options: TlsOptions) -> (Arc<Shared>, Queues) {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(NoCert));
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth();
        let tls = TlsConfig { server: Arc::new(server), client: Arc::new(client) };
        Shared::new(tls, options, "127.0.0.1:9094".parse().unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn pooled_reader_does_not_idle_out() {
        let options = TlsOptions { idle_timeout: Duration::from_secs(1), ..TlsOptions::default() };
        let (shared, mut queues) = shared(options);
        let (ours, mut theirs) = tokio::io::duplex(1024);
        let (stop_tx, stop_rx) = oneshot::channel();
        let (ended_tx, mut ended_rx) = oneshot::channel();
        let to = "10.0.0.2:9094".parse().unwrap();
        let reader = tokio::spawn(pooled_reader(shared, to, ours, stop_rx, ended_tx));

        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(ended_rx.try_recv().is_err(), "a silent pooled connection stays open");
        theirs.write_all(&conn::frame(b"late")).await.unwrap();
        assert_eq!(queues.packets.recv().await.unwrap(), (to, b"late".to_vec()));

        drop(stop_tx);
        reader.await.unwrap();
        assert!(ended_rx.try_recv().is_ok(), "the writer's stop ends it");
    }

    #[tokio::test]
    async fn accepted_sockets_have_keepalive() {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        let accepted = TcpSocket::from_std_stream(accepted.into_std().unwrap());
        assert!(accepted.keepalive().unwrap(), "inherited from the listener");
    }
}
