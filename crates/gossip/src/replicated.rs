//! The one seam between the cluster and the states it replicates (upstream: `cluster.State`).
//!
//! The gossip crate never looks inside the bytes: the silences store and the notification log implement
//! [`Replicated`] in their own crates and decide how to merge (last-writer-wins by timestamp, idempotent).

/// A state replicated across the cluster, identified by a stable key (`"sil"`, `"nfl"`).
pub trait Replicated: Send + Sync + 'static {
    /// Stable key of the state; every node must use the same key for the same state.
    fn key(&self) -> &'static str;
    /// The full state, sent in push-pull exchanges (on join and every push-pull interval).
    fn full_state(&self) -> Vec<u8>;
    /// Merges a full state or a delta from a peer. Returns the parts that changed local state, so the cluster
    /// re-broadcasts them (epidemic spread); an idempotent merge returns nothing for data it already has.
    fn merge(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, MergeError>;
}

/// A peer's bytes could not be merged; the message is dropped and counted, the node stays up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("merge failed: {0}")]
pub struct MergeError(pub String);

impl MergeError {
    /// Wraps any displayable reason.
    pub fn new(reason: impl std::fmt::Display) -> Self {
        Self(reason.to_string())
    }
}
