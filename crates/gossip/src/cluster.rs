//! Starting the cluster and the handle the application keeps (upstream `cluster.Peer`).

use std::{
    collections::BTreeMap,
    io,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use parking_lot::{Mutex, RwLock};
use prometheus_client::registry::Registry;
use tokio::{
    sync::{mpsc, oneshot, watch, Semaphore},
    task::JoinHandle,
};

use crate::{
    config::ClusterConfig,
    context::{Ctx, Peer, Status, View, RELIABLE_SLOTS},
    delta_log::DeltaLog,
    error::ClusterError,
    metrics::Metrics,
    node::{Command, Node},
    sync,
    tls::{TlsOptions, TlsTransport},
    transport::{guess_advertise_ip, SocketTransport, Transport},
    wire::{DropReason, Part, Wire},
    Replicated,
};

/// Bound on datagrams waiting for the node loop; more are dropped by the receive task (UDP semantics).
const DATAGRAM_QUEUE: usize = 4096;
/// Margin above `max_datagram_size` for TLS packet frames (the node's own size checks are estimates).
const PACKET_SLACK: usize = 256;

/// Entry point: binds and starts membership and state sync.
#[derive(Debug)]
pub struct Cluster;

impl Cluster {
    /// Binds UDP and TCP on `--cluster.listen-address` (only TCP, with TLS, when [`ClusterConfig::tls`] is set)
    /// and joins the configured peers. Returns once bound;
    /// joining and settling continue in the background (see [`ClusterHandle::wait_settled`]).
    pub async fn start(
        config: ClusterConfig,
        states: Vec<Arc<dyn Replicated>>,
        registry: &mut Registry,
    ) -> Result<ClusterHandle, ClusterError> {
        let listen = resolve_one(&config.listen_address).await?;
        let mut config = config;
        if let Some(advertise) = &config.advertise_address {
            config.advertise_address = Some(resolve_one(advertise).await?.to_string());
        }
        let bind_error = |source| ClusterError::Bind { address: config.listen_address.clone(), source };
        let (transport, tls): (Arc<dyn Transport>, _) = match config.tls.clone() {
            None => (Arc::new(SocketTransport::bind(listen).await.map_err(bind_error)?), None),
            Some(tls) => {
                let options = TlsOptions {
                    advertise: config.advertise_address.as_deref().and_then(|a| a.parse().ok()),
                    timeout: config.tcp_timeout,
                    handshake_timeout: config.tcp_timeout.min(TlsOptions::default().handshake_timeout),
                    // The node never sends a datagram above this; a flood of maximal frames pins little memory.
                    max_packet: config.max_datagram_size.saturating_add(PACKET_SLACK),
                    ..TlsOptions::default()
                };
                let transport = Arc::new(TlsTransport::bind(listen, tls, options).await.map_err(bind_error)?);
                transport.register_metrics(registry);
                (transport.clone() as Arc<dyn Transport>, Some(transport))
            }
        };
        Self::start_inner(config, states, registry, transport, tls).await
    }

    /// Starts over any [`Transport`] (the in-memory network in tests). `advertise_address`, if set, must be a
    /// literal `ip:port`.
    pub async fn start_with_transport(
        config: ClusterConfig,
        states: Vec<Arc<dyn Replicated>>,
        registry: &mut Registry,
        transport: Arc<dyn Transport>,
    ) -> Result<ClusterHandle, ClusterError> {
        Self::start_inner(config, states, registry, transport, None).await
    }

    /// `tls` is the same transport as `transport` when it is TLS, so that `leave` can close it.
    async fn start_inner(
        config: ClusterConfig,
        states: Vec<Arc<dyn Replicated>>,
        registry: &mut Registry,
        transport: Arc<dyn Transport>,
        tls: Option<Arc<TlsTransport>>,
    ) -> Result<ClusterHandle, ClusterError> {
        let bound = transport.local_addr();
        let advertise = match &config.advertise_address {
            Some(addr) => addr
                .parse::<SocketAddr>()
                .map_err(|e| ClusterError::InvalidAddress { address: addr.clone(), reason: e.to_string() })?,
            None if !bound.ip().is_unspecified() => bound,
            None => {
                let peers: Vec<SocketAddr> = config.peers.iter().filter_map(|p| p.parse().ok()).collect();
                let ip = guess_advertise_ip(&peers).ok_or(ClusterError::NoPrivateIp)?;
                SocketAddr::new(ip, bound.port())
            }
        };
        warn_loopback_advertise(advertise, &config.peers);
        let mut by_key = BTreeMap::new();
        for state in states {
            if by_key.insert(state.key(), state.clone()).is_some() {
                return Err(ClusterError::DuplicateKey(state.key()));
            }
        }
        let metrics = Metrics::register(registry);
        let (status_tx, status_rx) = watch::channel(Status::Settling);
        let ctx = Arc::new(Ctx {
            wire: Wire::new(&config.label, &config.name, config.key.as_ref()),
            view: RwLock::new(View {
                peers: vec![Peer { name: config.name.clone(), address: advertise }],
                position: 0,
            }),
            config,
            advertise,
            transport,
            states: by_key,
            metrics,
            status: status_tx,
            reliable_slots: Arc::new(Semaphore::new(RELIABLE_SLOTS)),
            // Random, not derived from the name: a restart under the same name must not look like old deltas.
            log: Mutex::new(DeltaLog::new(rand::random::<u64>())),
        });
        ctx.metrics.members.set(1);
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (dgram_tx, dgram_rx) = mpsc::channel(DATAGRAM_QUEUE);
        let node = Node::new(ctx.clone(), cmd_rx, dgram_rx);
        let tasks = vec![
            tokio::spawn(node.run()),
            tokio::spawn(receive_datagrams(ctx.clone(), dgram_tx)),
            tokio::spawn(accept_streams(ctx.clone())),
        ];
        tracing::info!(name = %ctx.config.name, addr = %advertise, "cluster started");
        Ok(ClusterHandle {
            inner: Arc::new(Inner {
                ctx,
                commands: cmd_tx,
                status: status_rx,
                tasks: Mutex::new(tasks),
                tls,
            }),
        })
    }
}

async fn resolve_one(address: &str) -> Result<SocketAddr, ClusterError> {
    let normalized = if address.starts_with(':') { format!("0.0.0.0{address}") } else { address.to_owned() };
    let invalid = |reason: String| ClusterError::InvalidAddress { address: address.to_owned(), reason };
    let mut addrs = tokio::net::lookup_host(normalized.as_str()).await.map_err(|e| invalid(e.to_string()))?;
    addrs.next().ok_or_else(|| invalid("no address".to_owned()))
}

fn warn_loopback_advertise(advertise: SocketAddr, peers: &[String]) {
    let ip = advertise.ip();
    if !(ip.is_loopback() || ip.is_unspecified()) {
        return;
    }
    let remote = peers.iter().filter_map(|p| p.parse::<SocketAddr>().ok()).any(|p| !is_local(p.ip()));
    if remote {
        tracing::warn!(%advertise, "this node advertises itself on a loopback or unspecified address but has non-local peers");
    }
}

fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified()
}

async fn receive_datagrams(ctx: Arc<Ctx>, tx: mpsc::Sender<(SocketAddr, Vec<u8>)>) {
    loop {
        match ctx.transport.recv_from().await {
            Ok(datagram) => match tx.try_send(datagram) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::debug!("cluster datagram queue full; dropping")
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            },
            Err(err) if err.kind() == io::ErrorKind::NotConnected => return,
            Err(err) => {
                tracing::debug!(%err, "cluster datagram receive failed");
                tokio::task::yield_now().await;
            }
        }
    }
}

/// Incoming streams served at once. Members open one per push-pull or oversized broadcast, so a handful is
/// normal; the bound keeps anyone who can reach the port from holding unbounded tasks and frame buffers.
const MAX_INCOMING_STREAMS: usize = 64;

async fn accept_streams(ctx: Arc<Ctx>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_INCOMING_STREAMS));
    loop {
        match ctx.transport.accept().await {
            Ok((from, stream)) => {
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    tracing::debug!(%from, "too many cluster streams, closing");
                    continue;
                };
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    sync::serve_stream(ctx, from, stream).await;
                    drop(slot);
                });
            }
            Err(err) if err.kind() == io::ErrorKind::NotConnected => return,
            Err(err) => {
                tracing::debug!(%err, "cluster accept failed");
                // Out of file descriptors and similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

struct Inner {
    ctx: Arc<Ctx>,
    commands: mpsc::UnboundedSender<Command>,
    status: watch::Receiver<Status>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// The TLS transport, closed on leave (the plain transport's sockets close with the last handle).
    tls: Option<Arc<TlsTransport>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self.tasks.get_mut().drain(..) {
            task.abort();
        }
    }
}

/// The application's handle on a running cluster; cheap to clone. Dropping the last clone stops the node
/// without announcing departure (use [`ClusterHandle::leave`] for a clean exit).
#[derive(Clone)]
pub struct ClusterHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ClusterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterHandle").field("name", &self.name()).finish_non_exhaustive()
    }
}

impl ClusterHandle {
    /// This node's name.
    pub fn name(&self) -> &str {
        &self.inner.ctx.config.name
    }

    /// The address this node advertises to its peers.
    pub fn address(&self) -> SocketAddr {
        self.inner.ctx.advertise
    }

    /// Disseminates a local change of state `key` at once; `delta` is whatever that state's `merge` accepts.
    /// Never blocks; a stopped cluster ignores it.
    pub fn broadcast(&self, key: &str, delta: Vec<u8>) {
        let _ = self.inner.commands.send(Command::Broadcast(Part { key: key.to_owned(), data: delta }));
    }

    /// Rank of this node's name among live members sorted by name (upstream `Peer.Position`).
    pub fn position(&self) -> usize {
        self.inner.ctx.view.read().position
    }

    /// Live members sorted by name, this node included.
    pub fn peers(&self) -> Vec<Peer> {
        self.inner.ctx.view.read().peers.clone()
    }

    /// `Settling` until the member count is stable (or the settle timeout passed), then `Ready`.
    pub fn status(&self) -> Status {
        *self.inner.status.borrow()
    }

    /// Waits until [`Status::Ready`] (upstream `Peer.WaitReady`).
    pub async fn wait_settled(&self) {
        let mut status = self.inner.status.clone();
        let _ = status.wait_for(|s| *s == Status::Ready).await;
    }

    /// Messages dropped so far for `reason` (also exported as `tocsin_cluster_dropped_messages_total`).
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.inner.ctx.metrics.dropped_total(reason)
    }

    /// Announces departure to the cluster and stops, waiting at most `timeout` (upstream `Leave(10s)`).
    pub async fn leave(&self, timeout: Duration) -> Result<(), ClusterError> {
        let (done_tx, done_rx) = oneshot::channel();
        self.inner.commands.send(Command::Leave(done_tx)).map_err(|_| ClusterError::Stopped)?;
        let result = match tokio::time::timeout(timeout, done_rx).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(ClusterError::Stopped),
            Err(_) => Err(ClusterError::LeaveTimeout),
        };
        for task in self.inner.tasks.lock().drain(..) {
            task.abort();
        }
        if let Some(tls) = &self.inner.tls {
            // Stops accepting; the leave announcement already queued is still sent.
            tls.close().await;
        }
        result
    }
}
