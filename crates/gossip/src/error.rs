//! Errors returned to the application when starting or stopping the cluster.

use std::io;

/// Why the cluster could not start or leave cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Binding the UDP socket or the TCP listener failed.
    #[error("failed to bind cluster address {address}: {source}")]
    Bind {
        /// The address from `--cluster.listen-address`.
        address: String,
        /// The socket error.
        source: io::Error,
    },
    /// `--cluster.listen-address` or `--cluster.advertise-address` is not `host:port`.
    #[error("invalid address {address:?}: {reason}")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Listening on 0.0.0.0 without an explicit advertise address and no private IP to advertise.
    #[error("no private IP found, explicit advertise addr not provided")]
    NoPrivateIp,
    /// The membership library rejected the configuration (e.g. a zero interval).
    #[error("invalid cluster configuration: {0}")]
    Config(String),
    /// Two states were registered with the same key.
    #[error("duplicate replicated state key {0:?}")]
    DuplicateKey(&'static str),
    /// The cluster task has already stopped.
    #[error("cluster is stopped")]
    Stopped,
    /// `leave` did not finish within its timeout.
    #[error("timed out leaving the cluster")]
    LeaveTimeout,
}
