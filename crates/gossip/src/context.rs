//! State shared by the cluster's tasks: configuration, codec, transport, states, metrics and the membership view.

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc};

use parking_lot::RwLock;
use tokio::sync::{watch, Semaphore};

use crate::{
    config::ClusterConfig, delta_log::DeltaLog, metrics::Metrics, transport::Transport, wire::Wire,
    Replicated,
};

/// A cluster member as the API shows it (`/api/v2/status` → `cluster.peers`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Peer {
    /// The node name (ULID).
    pub name: String,
    /// The advertised address.
    pub address: SocketAddr,
}

/// Readiness of the cluster (`cluster.status` in the API; `disabled` is the app's business).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the member count to stabilise (or the settle timeout).
    Settling,
    /// Settled: notifications may go out.
    Ready,
}

impl Status {
    /// The API's wording.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Settling => "settling",
            Self::Ready => "ready",
        }
    }
}

/// The membership as last computed by the node loop.
#[derive(Debug, Clone)]
pub(crate) struct View {
    /// All live members including this node, sorted by name.
    pub(crate) peers: Vec<Peer>,
    /// Rank of this node's name in `peers`.
    pub(crate) position: usize,
}

/// Bound on concurrent reliable (TCP) delta sends; more are dropped and counted (upstream queue of 200).
pub(crate) const RELIABLE_SLOTS: usize = 200;

pub(crate) struct Ctx {
    pub(crate) config: ClusterConfig,
    pub(crate) advertise: SocketAddr,
    pub(crate) wire: Wire,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) states: BTreeMap<&'static str, Arc<dyn Replicated>>,
    pub(crate) metrics: Metrics,
    pub(crate) view: RwLock<View>,
    pub(crate) status: watch::Sender<Status>,
    pub(crate) reliable_slots: Arc<Semaphore>,
    /// Deltas seen and kept for repair; shared with the stream tasks (push-pull, oversized deltas).
    pub(crate) log: parking_lot::Mutex<DeltaLog>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("name", &self.config.name)
            .field("advertise", &self.advertise)
            .field("states", &self.states.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
