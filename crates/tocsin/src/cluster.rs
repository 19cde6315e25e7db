//! High availability: joins the gossip cluster from the `--cluster.*` flags and connects it to the rest of the app
//! (upstream `cmd/alertmanager/main.go` + `cluster.Peer` glue).
//!
//! - Silences and notification-log changes made here are broadcast at once ([`Silences::on_change`] and
//!   [`NotificationLog::on_change`] with a local origin → [`ClusterHandle::broadcast`]); peers merge them
//!   last-writer-wins (see [`replicated`]).
//! - The pipeline sees the cluster through [`ClusterPeer`]: position among live members (the wait stage sleeps
//!   `position × --cluster.peer-timeout`), settling, and the in-flight log of the slow-receiver guarantee.
//! - The API sees it through [`ClusterStatusView`] (`/api/v2/status` → `cluster`).
//!
//! With `--cluster.tls-config` gossip runs over mutual TLS, TCP only (see [`tls`]).
//!
//! Without clustering (`--cluster.listen-address=`) [`start_cluster`] returns `None`: the app then uses
//! `SingleNode` and `ClusterDisabled`.

pub mod replicated;
pub mod tls;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::RwLock;
use prometheus_client::registry::Registry;
use tocsin_api::context::ClusterStatusSource;
use tocsin_api::models::{ClusterState, ClusterStatus, PeerStatus};
use tocsin_gossip::{Cluster, ClusterConfig, ClusterError, ClusterHandle, Replicated, Status, Transport};
use tocsin_model::clock::SharedClock;
use tocsin_pipeline::inflight::InflightLog;
use tocsin_pipeline::Peer;
use tocsin_state::nflog::{NflogOrigin, NotificationLog};
use tocsin_state::{ChangeOrigin, Silences};

use crate::flags::Flags;
use crate::state_metrics::{CountPropagated, Propagated};
use replicated::{InflightState, NflogState, SilencesState, INFLIGHT_KEY, NFLOG_KEY, SILENCES_KEY};

/// Upstream's `Leave(10s)` on shutdown.
pub const LEAVE_TIMEOUT: Duration = Duration::from_secs(10);

/// The cluster handle as the change hooks see it. The hooks live inside the states the cluster itself holds, so
/// holding the handle directly would be a cycle that keeps a stopped cluster alive; [`ClusterRuntime`] empties
/// the slot when it stops.
type Slot = Arc<RwLock<Option<ClusterHandle>>>;

/// The cluster configuration the flags describe, for a node named `name`.
pub fn cluster_config(flags: &Flags, listen_address: &str, name: String) -> ClusterConfig {
    let mut c = ClusterConfig::new(name, listen_address);
    c.advertise_address = flags.cluster_advertise_address.clone();
    c.peers = flags.cluster_peers.clone();
    c.probe_interval = flags.cluster_probe_interval;
    c.probe_timeout = flags.cluster_probe_timeout;
    c.gossip_interval = flags.cluster_gossip_interval;
    c.pushpull_interval = flags.cluster_pushpull_interval;
    c.tcp_timeout = flags.cluster_tcp_timeout;
    c.reconnect_interval = flags.cluster_reconnect_interval;
    c.reconnect_timeout = flags.cluster_reconnect_timeout;
    c.settle_timeout = flags.cluster_settle_timeout;
    c.label = flags.cluster_label.clone().unwrap_or_default();
    // Upstream: GossipNodes and RetransmitMult = max(3, len(peers)/2).
    let fanout = (flags.cluster_peers.len() / 2).max(3);
    c.gossip_nodes = fanout;
    c.retransmit_mult = fanout;
    c
}

/// Starts clustering as the flags say; `Ok(None)` when `--cluster.listen-address` is empty.
pub async fn start_cluster(
    flags: &Flags,
    silences: Arc<Silences>,
    nflog: Arc<NotificationLog>,
    registry: &mut Registry,
    clock: SharedClock,
) -> Result<Option<ClusterRuntime>, ClusterError> {
    let Some(listen) = flags.cluster_listen_address.as_deref() else {
        return Ok(None);
    };
    let name = tocsin_gossip::node_name(u64::try_from(clock.now().timestamp_millis()).unwrap_or(0));
    let mut config = cluster_config(flags, listen, name);
    if let Some(path) = &flags.cluster_key_file {
        config.key = Some(read_key(path)?);
    }
    if let Some(path) = &flags.cluster_tls_config {
        // TLS encrypts and authenticates peers; a key file, if given, still authenticates every payload.
        config.tls = Some(tls::load(path).await?);
    }
    let parts = Parts::new(&config.name, silences, nflog, clock);
    let handle = Cluster::start(config, parts.states(), registry).await?;
    Ok(Some(parts.connect(handle)))
}

/// Reads `--cluster.key-file`: the trimmed file content is the key. The error names the file, never its content.
fn read_key(path: &std::path::Path) -> Result<tocsin_gossip::Key, ClusterError> {
    let text = std::fs::read(path).map_err(|e| {
        ClusterError::Config(format!("cannot read --cluster.key-file {}: {e}", path.display()))
    })?;
    let trimmed = text.trim_ascii();
    if trimmed.is_empty() {
        return Err(ClusterError::Config(format!("--cluster.key-file {} is empty", path.display())));
    }
    Ok(tocsin_gossip::Key::new(trimmed.to_vec()))
}

/// Like [`start_cluster`] over any transport (the in-memory network in tests).
pub async fn start_cluster_with_transport(
    config: ClusterConfig,
    silences: Arc<Silences>,
    nflog: Arc<NotificationLog>,
    registry: &mut Registry,
    clock: SharedClock,
    transport: Arc<dyn Transport>,
) -> Result<ClusterRuntime, ClusterError> {
    let parts = Parts::new(&config.name, silences, nflog, clock);
    let handle = Cluster::start_with_transport(config, parts.states(), registry, transport).await?;
    Ok(parts.connect(handle))
}

/// The states and hooks of one node, before and after the cluster starts.
struct Parts {
    silences: Arc<Silences>,
    nflog: Arc<NotificationLog>,
    inflight: Arc<InflightLog>,
    clock: SharedClock,
    propagated: Propagated,
}

impl Parts {
    fn new(name: &str, silences: Arc<Silences>, nflog: Arc<NotificationLog>, clock: SharedClock) -> Self {
        let inflight = Arc::new(InflightLog::new(name, clock.clone()));
        Self { silences, nflog, inflight, clock, propagated: Propagated::default() }
    }

    fn states(&self) -> Vec<Arc<dyn Replicated>> {
        vec![
            Arc::new(CountPropagated {
                inner: SilencesState(self.silences.clone()),
                propagated: self.propagated.silences.clone(),
            }),
            Arc::new(CountPropagated {
                inner: NflogState { nflog: self.nflog.clone(), clock: self.clock.clone() },
                propagated: self.propagated.nflog.clone(),
            }),
            Arc::new(InflightState(self.inflight.clone())),
        ]
    }

    /// Registers the change hooks that broadcast local changes, once the cluster runs.
    fn connect(self, handle: ClusterHandle) -> ClusterRuntime {
        let slot: Slot = Arc::new(RwLock::new(Some(handle.clone())));
        let s = slot.clone();
        self.silences.on_change(move |c| {
            if c.origin == ChangeOrigin::Local {
                if let Some(h) = s.read().as_ref() {
                    h.broadcast(SILENCES_KEY, replicated::silence_delta(&c.mesh));
                }
            }
        });
        let (s, inflight) = (slot.clone(), self.inflight.clone());
        self.nflog.on_change(move |c| {
            if c.origin == NflogOrigin::Local {
                if let Some(h) = s.read().as_ref() {
                    h.broadcast(NFLOG_KEY, replicated::nflog_delta(&c.mesh));
                }
            }
            // A flush waiting on a peer's in-flight send re-checks the log.
            inflight.notify_changed();
        });
        let s = slot.clone();
        self.inflight.on_local_change(move |r| {
            if let Some(h) = s.read().as_ref() {
                h.broadcast(INFLIGHT_KEY, replicated::inflight_delta(r));
            }
        });
        let s = slot.clone();
        self.inflight.set_liveness(move |node| {
            s.read().as_ref().is_none_or(|h| h.peers().iter().any(|p| p.name == node))
        });
        let peer = Arc::new(ClusterPeer { handle: handle.clone(), inflight: self.inflight.clone() });
        ClusterRuntime { handle, slot, peer, inflight: self.inflight, propagated: self.propagated }
    }
}

/// A running cluster as the app keeps it.
#[derive(Debug)]
pub struct ClusterRuntime {
    handle: ClusterHandle,
    slot: Slot,
    peer: Arc<ClusterPeer>,
    inflight: Arc<InflightLog>,
    propagated: Propagated,
}

impl ClusterRuntime {
    /// The gossip handle (name, position, peers, status).
    pub fn handle(&self) -> &ClusterHandle {
        &self.handle
    }

    /// What the pipeline takes as `PipelineDeps::peer` / `DispatcherOptions::peer`.
    pub fn peer(&self) -> Arc<dyn Peer> {
        self.peer.clone()
    }

    /// What the API takes as `ApiDeps::cluster`.
    pub fn status_source(&self) -> Arc<dyn ClusterStatusSource> {
        Arc::new(ClusterStatusView { handle: self.handle.clone() })
    }

    /// The cluster-wide log of sends in flight.
    pub fn inflight(&self) -> &Arc<InflightLog> {
        &self.inflight
    }

    /// The counters of peer merges that changed the silences / the notification log, for [`crate::state_metrics`].
    pub fn propagated(&self) -> &Propagated {
        &self.propagated
    }

    /// Announces departure (bounded by [`LEAVE_TIMEOUT`]) and stops gossiping; call on shutdown.
    pub async fn leave(&self) {
        if let Err(err) = self.handle.leave(LEAVE_TIMEOUT).await {
            tracing::warn!(%err, "leaving the cluster");
        }
        self.slot.write().take();
    }
}

impl Drop for ClusterRuntime {
    fn drop(&mut self) {
        self.slot.write().take();
    }
}

/// [`Peer`] over the gossip handle.
#[derive(Debug)]
pub struct ClusterPeer {
    handle: ClusterHandle,
    inflight: Arc<InflightLog>,
}

#[async_trait]
impl Peer for ClusterPeer {
    fn position(&self) -> usize {
        self.handle.position()
    }

    async fn settled(&self) {
        self.handle.wait_settled().await;
    }

    fn inflight(&self) -> Option<Arc<InflightLog>> {
        Some(self.inflight.clone())
    }
}

/// `/api/v2/status` → `cluster`: this node's name, `ready`/`settling`, and the live members (this node included).
#[derive(Debug, Clone)]
pub struct ClusterStatusView {
    handle: ClusterHandle,
}

impl ClusterStatusSource for ClusterStatusView {
    fn status(&self) -> ClusterStatus {
        ClusterStatus {
            name: Some(self.handle.name().to_owned()),
            peers: self
                .handle
                .peers()
                .into_iter()
                .map(|p| PeerStatus { address: p.address.to_string(), name: p.name })
                .collect(),
            status: match self.handle.status() {
                Status::Ready => ClusterState::Ready,
                Status::Settling => ClusterState::Settling,
            },
        }
    }
}
