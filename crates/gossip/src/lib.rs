//! Cluster membership and state replication (upstream: `cluster/` on hashicorp/memberlist).
//!
//! Sits beside the pipeline: membership decides this node's [`ClusterHandle::position`] (the wait stage sleeps
//! `position × peer_timeout`) and readiness ([`ClusterHandle::wait_settled`]); replication carries silences and
//! the notification log between nodes. This crate knows no domain type: states are opaque bytes behind
//! [`Replicated`].
//!
//! - Membership: SWIM via foca (sans-io) over UDP datagrams, driven by tokio time.
//! - Deltas: sent once, at once, to every member by the node where the change happened, never relayed; each
//!   delta carries its origin and sequence number, so it is merged once however many copies arrive. Loss is
//!   repaired by digests of what each node has seen, gossiped while changes are recent (see `delta_log`);
//!   deltas too big for a datagram go over TCP.
//! - Full state: TCP push-pull with each new member and with a random member every push-pull interval.
//! - Every datagram and frame carries a version, the cluster label, the sender and a sequence number, and an
//!   HMAC-SHA256 when a key is configured; foreign, forged, replayed or garbled input is dropped and counted.
//! - `--cluster.tls-config`: [`TlsTransport`] replaces UDP + TCP with mutual TLS over TCP only (TLS encrypts,
//!   the HMAC still authenticates payloads).
//!
//! tocsin does not speak memberlist's wire protocol: a cluster is all-tocsin.

mod cluster;
mod config;
mod context;
mod delta_log;
mod error;
mod identity;
mod memnet;
mod metrics;
mod node;
mod replicated;
mod sync;
mod tls;
mod transport;
mod wire;

pub use cluster::{Cluster, ClusterHandle};
pub use config::{ClusterConfig, Key};
pub use context::{Peer, Status};
pub use error::ClusterError;
pub use identity::node_name;
pub use memnet::{MemNetwork, MemTransport};
pub use replicated::{MergeError, Replicated};
pub use tls::{TlsConfig, TlsOptions, TlsTransport};
pub use transport::{BoxStream, SocketTransport, Stream, Transport};
pub use wire::DropReason;
