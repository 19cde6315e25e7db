//! What the pipeline needs from the cluster (`cluster.Peer` as `notify` uses it): this node's position among the
//! members, and whether gossip has settled. The cluster issue implements [`Peer`]; [`SingleNode`] is the answer
//! without clustering (position 0, always settled), so a single node never waits.

use crate::stage::{Alerts, Stage, StageCtx, StageError};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

#[async_trait]
pub trait Peer: Send + Sync + std::fmt::Debug {
    /// Rank of this node's name among the live members sorted by name; recomputed at every flush.
    fn position(&self) -> usize;
    /// Resolves once the initial gossip has settled (or the settle timeout passed).
    async fn settled(&self);
    /// The cluster-wide log of sends in flight (the slow-receiver guarantee); `None` without clustering.
    fn inflight(&self) -> Option<Arc<crate::inflight::InflightLog>> {
        None
    }
}

/// No cluster: position 0, settled from the start.
#[derive(Debug, Clone, Copy, Default)]
pub struct SingleNode;

#[async_trait]
impl Peer for SingleNode {
    fn position(&self) -> usize {
        0
    }
    async fn settled(&self) {}
}

/// `position × peer_timeout`: how long this node lets lower-ranked peers notify first (`clusterWait`).
pub fn wait_for(peer: &dyn Peer, peer_timeout: Duration) -> Duration {
    peer_timeout.saturating_mul(u32::try_from(peer.position()).unwrap_or(u32::MAX))
}

/// `GossipSettleStage`: blocks the first flushes until gossip has settled, or fails at the flush deadline.
#[derive(Debug)]
pub struct SettleStage {
    peer: Arc<dyn Peer>,
}

impl SettleStage {
    pub fn new(peer: Arc<dyn Peer>) -> Self {
        Self { peer }
    }
}

#[async_trait]
impl Stage for SettleStage {
    async fn exec(&self, cx: &mut StageCtx, alerts: Alerts) -> Result<Alerts, StageError> {
        tokio::select! {
            _ = self.peer.settled() => Ok(alerts),
            _ = tokio::time::sleep_until(cx.deadline) => Err(StageError::DeadlineExceeded),
        }
    }
}

/// `WaitStage`: waits `position × peer_timeout` so that the peer at position 0 notifies first and its nflog entry
/// reaches this node before dedup runs.
#[derive(Debug)]
pub struct WaitStage {
    peer: Arc<dyn Peer>,
    peer_timeout: Duration,
}

impl WaitStage {
    pub fn new(peer: Arc<dyn Peer>, peer_timeout: Duration) -> Self {
        Self { peer, peer_timeout }
    }
}

#[async_trait]
impl Stage for WaitStage {
    async fn exec(&self, cx: &mut StageCtx, alerts: Alerts) -> Result<Alerts, StageError> {
        let wait = wait_for(self.peer.as_ref(), self.peer_timeout);
        if wait.is_zero() {
            return Ok(alerts);
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => Ok(alerts),
            _ = tokio::time::sleep_until(cx.deadline) => Err(StageError::DeadlineExceeded),
        }
    }
}
