//! `--cluster.tls-config`: gossip over mutual TLS, TCP only (upstream: `cluster/tls_transport.go`).
//!
//! Datagrams become length-prefixed frames on one pooled TLS connection per peer, opened on first use and
//! reopened after an error; a packet that cannot be written within the timeout is lost, as a UDP datagram
//! would be (SWIM and the delta digests already cope with loss). `send_to` only queues: the node loop never
//! waits for a handshake. State sync opens a dedicated TLS connection per exchange. Every connection starts
//! with a hello naming its kind and the sender's cluster address, so the `from` of a packet is the peer's
//! cluster address, not its ephemeral port (see [`conn`]).
//!
//! Inbound connections are bounded, handshakes and hellos are bounded in time, packet frames in size; a failed
//! handshake is counted and logged at debug level and never stops the accept loop.
//!
//! Not wire compatible with Alertmanager's TLS transport (protobuf `MemberlistMessage`): tocsin does not speak
//! memberlist anyway.

mod conn;

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
    io::{AsyncRead, ReadHalf, WriteHalf},
    net::{TcpListener, TcpStream},
    sync::{mpsc, oneshot, watch, Mutex as AsyncMutex, OwnedSemaphorePermit, Semaphore},
};
use tokio_rustls::{client, TlsAcceptor, TlsConnector};

use crate::transport::{BoxStream, Transport};
use conn::{FrameError, Guarded, Hello, Kind};

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
    /// Bound on connect + handshake + hello, and on writing one packet.
    pub timeout: Duration,
    /// Inbound connections open at once (pooled packet connections and sync streams); more are closed at once.
    pub max_inbound: usize,
    /// Largest packet frame accepted (a datagram; state sync has its own, larger limit).
    pub max_packet: usize,
    /// A pooled connection without traffic for this long is closed (membership probes keep live ones busy).
    pub idle_timeout: Duration,
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self {
            advertise: None,
            timeout: Duration::from_secs(10),
            max_inbound: 256,
            max_packet: 65_536,
            idle_timeout: Duration::from_secs(300),
        }
    }
}

/// Packets waiting for the node loop; more are dropped (UDP semantics).
const PACKET_QUEUE: usize = 4096;
/// Accepted sync streams waiting for the cluster's accept task.
const STREAM_QUEUE: usize = 64;
/// Packets waiting for one peer's connection; more are dropped.
const PEER_QUEUE: usize = 256;

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
    /// Resolves (with an error) when the transport is dropped: every task ends then.
    shutdown: watch::Receiver<()>,
}

/// Gossip over mutual TLS on one TCP address. See the module documentation.
pub struct TlsTransport {
    local: SocketAddr,
    shared: Arc<Shared>,
    pool: Arc<Pool>,
    packets: AsyncMutex<mpsc::Receiver<(SocketAddr, Vec<u8>)>>,
    streams: AsyncMutex<mpsc::Receiver<(SocketAddr, BoxStream)>>,
    _shutdown: watch::Sender<()>,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport").field("local", &self.local).finish_non_exhaustive()
    }
}

impl TlsTransport {
    /// Binds the TCP listener on `addr` and starts accepting.
    pub async fn bind(addr: SocketAddr, tls: TlsConfig, options: TlsOptions) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let (packets_tx, packets_rx) = mpsc::channel(PACKET_QUEUE);
        let (streams_tx, streams_rx) = mpsc::channel(STREAM_QUEUE);
        let (shutdown_tx, shutdown_rx) = watch::channel(());
        let shared = Arc::new(Shared {
            acceptor: TlsAcceptor::from(tls.server),
            connector: TlsConnector::from(tls.client),
            advertise: options.advertise.unwrap_or(local),
            options,
            packets: packets_tx,
            streams: streams_tx,
            stats: Stats::default(),
            shutdown: shutdown_rx,
        });
        tokio::spawn(accept_loop(shared.clone(), listener));
        Ok(Self {
            local,
            shared,
            pool: Arc::new(Mutex::new(HashMap::new())),
            packets: AsyncMutex::new(packets_rx),
            streams: AsyncMutex::new(streams_rx),
            _shutdown: shutdown_tx,
        })
    }

    /// Registers the transport's counters.
    pub fn register_metrics(&self, registry: &mut Registry) {
        let s = &self.shared.stats;
        registry.register(
            "tocsin_cluster_tls_handshake_failures",
            "Inbound cluster connections whose TLS handshake or hello failed",
            s.handshake_failures.clone(),
        );
        registry.register(
            "tocsin_cluster_tls_rejected_frames",
            "Cluster packet frames rejected as oversized or malformed (the connection is closed)",
            s.rejected_frames.clone(),
        );
        registry.register(
            "tocsin_cluster_tls_refused_connections",
            "Inbound cluster connections closed because too many were open",
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
}

#[async_trait]
impl Transport for TlsTransport {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    async fn send_to(&self, to: SocketAddr, packet: &[u8]) -> io::Result<()> {
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
        self.packets.lock().await.recv().await.ok_or_else(|| io::ErrorKind::NotConnected.into())
    }

    async fn connect(&self, to: SocketAddr) -> io::Result<BoxStream> {
        let stream = tokio::time::timeout(self.shared.options.timeout, dial(&self.shared, to, Kind::Stream))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS connect timed out"))??;
        Ok(Box::new(stream))
    }

    async fn accept(&self) -> io::Result<(SocketAddr, BoxStream)> {
        self.streams.lock().await.recv().await.ok_or_else(|| io::ErrorKind::NotConnected.into())
    }
}

/// TCP connect, TLS handshake (the peer is verified against its IP), hello.
async fn dial(shared: &Shared, to: SocketAddr, kind: Kind) -> io::Result<client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(to).await?;
    tcp.set_nodelay(true)?;
    let mut tls = shared.connector.connect(ServerName::IpAddress(to.ip().into()), tcp).await?;
    conn::write_all(&mut tls, &Hello { kind, addr: shared.advertise }.encode()).await?;
    Ok(tls)
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(shared.options.max_inbound));
    let mut shutdown = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, remote)) => {
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    shared.stats.refused_connections.inc();
                    tracing::debug!(%remote, "too many cluster connections, closing");
                    continue;
                };
                tokio::spawn(serve_inbound(shared.clone(), tcp, remote, slot));
            }
            Err(err) => {
                tracing::debug!(%err, "cluster accept failed");
                // Out of file descriptors and similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Handshake and hello (bounded in time), then either hands the stream to `accept` or reads packets.
async fn serve_inbound(shared: Arc<Shared>, tcp: TcpStream, remote: SocketAddr, slot: OwnedSemaphorePermit) {
    let _ = tcp.set_nodelay(true);
    let setup = async {
        let mut tls = shared.acceptor.accept(tcp).await.map_err(FrameError::Io)?;
        let hello = conn::read_hello(&mut tls).await?;
        Ok::<_, FrameError>((tls, hello))
    };
    let (tls, hello) = match tokio::time::timeout(shared.options.timeout, setup).await {
        Ok(Ok(ok)) => ok,
        Ok(Err(err)) => {
            shared.stats.handshake_failures.inc();
            tracing::debug!(%remote, %err, "cluster TLS handshake failed");
            return;
        }
        Err(_) => {
            shared.stats.handshake_failures.inc();
            tracing::debug!(%remote, "cluster TLS handshake timed out");
            return;
        }
    };
    let from = hello.peer(remote);
    match hello.kind {
        Kind::Stream => {
            let stream: BoxStream = Box::new(Guarded { inner: tls, _slot: slot });
            if shared.streams.try_send((from, stream)).is_err() {
                tracing::debug!(%from, "too many cluster streams waiting, closing");
            }
        }
        Kind::Packets => {
            read_packets(&shared, from, tls).await;
            drop(slot);
        }
    }
}

/// Forwards packet frames from one connection to `recv_from` until it closes, fails or idles out.
async fn read_packets<R: AsyncRead + Unpin>(shared: &Shared, from: SocketAddr, mut reader: R) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        let read = conn::read_frame(&mut reader, shared.options.max_packet);
        let frame = tokio::select! {
            _ = shutdown.changed() => return,
            frame = tokio::time::timeout(shared.options.idle_timeout, read) => frame,
        };
        match frame {
            Ok(Ok(Some(packet))) => {
                if shared.packets.try_send((from, packet)).is_err() {
                    shared.stats.dropped_packets.inc();
                }
            }
            Ok(Ok(None)) => return,
            Ok(Err(err @ (FrameError::Oversized { .. } | FrameError::Malformed(_)))) => {
                shared.stats.rejected_frames.inc();
                tracing::debug!(%from, %err, "rejected cluster packet frame, closing the connection");
                return;
            }
            Ok(Err(err)) => {
                tracing::debug!(%from, %err, "cluster packet connection failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%from, "cluster packet connection idle, closing");
                return;
            }
        }
    }
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
/// leaves the pool) or when the transport is dropped.
async fn peer_writer(
    shared: Arc<Shared>,
    pool: Weak<Pool>,
    to: SocketAddr,
    me: mpsc::WeakSender<Vec<u8>>,
    mut queue: mpsc::Receiver<Vec<u8>>,
) {
    let mut shutdown = shared.shutdown.clone();
    let mut conn: Option<Pooled> = None;
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
            _ = shutdown.changed() => return,
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
            match tokio::time::timeout(shared.options.timeout, dial(&shared, to, Kind::Packets)).await {
                Ok(Ok(tls)) => conn = Some(pooled(&shared, to, tls)),
                Ok(Err(err)) => {
                    shared.stats.dropped_packets.inc();
                    tracing::debug!(%to, %err, "cluster TLS connect failed; packet lost");
                    continue;
                }
                Err(_) => {
                    shared.stats.dropped_packets.inc();
                    tracing::debug!(%to, "cluster TLS connect timed out; packet lost");
                    continue;
                }
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

async fn pooled_reader(
    shared: Arc<Shared>,
    to: SocketAddr,
    reader: ReadHalf<client::TlsStream<TcpStream>>,
    stop: oneshot::Receiver<()>,
    ended: oneshot::Sender<()>,
) {
    tokio::select! {
        _ = stop => {}
        _ = read_packets(&shared, to, reader) => {}
    }
    let _ = ended.send(());
}
