//! Cluster configuration: the `--cluster.*` flags plus the few knobs tests need (seed, sizes).

use std::{fmt, time::Duration};

use crate::tls::TlsConfig;

/// Shared secret for the HMAC-SHA256 that authenticates every datagram and frame.
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl Key {
    /// Wraps the raw secret bytes (e.g. the contents of a key file).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<secret>)")
    }
}

/// Everything the cluster needs to start. Durations default to Alertmanager's flag defaults.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// This node's name; use [`crate::node_name`] with the clock's wall time so earlier nodes sort first.
    pub name: String,
    /// `--cluster.listen-address` (UDP and TCP), e.g. `0.0.0.0:9094`.
    pub listen_address: String,
    /// `--cluster.advertise-address`; `None` derives it from the bound address.
    pub advertise_address: Option<String>,
    /// `--cluster.peer`, repeatable; host names are resolved, the node's own address is skipped.
    pub peers: Vec<String>,
    /// `--cluster.probe-interval` (1s).
    pub probe_interval: Duration,
    /// `--cluster.probe-timeout` (500ms).
    pub probe_timeout: Duration,
    /// `--cluster.gossip-interval` (200ms): retransmission tick and settle poll unit.
    pub gossip_interval: Duration,
    /// `--cluster.pushpull-interval` (1m0s).
    pub pushpull_interval: Duration,
    /// `--cluster.tcp-timeout` (10s): bound on one push-pull or reliable send.
    pub tcp_timeout: Duration,
    /// `--cluster.reconnect-interval` (10s).
    pub reconnect_interval: Duration,
    /// `--cluster.reconnect-timeout` (6h0m0s): failed peers are forgotten after this.
    pub reconnect_timeout: Duration,
    /// `--cluster.settle-timeout` (1m0s).
    pub settle_timeout: Duration,
    /// `--cluster.label`: datagrams and frames from another label are dropped.
    pub label: String,
    /// Optional shared key: packets without a valid HMAC-SHA256 are dropped.
    pub key: Option<Key>,
    /// Members foca gossips membership to per tick (upstream `GossipNodes`); delta digests go to at most 3 of
    /// them per tick (deltas themselves are sent once, by their origin, to every member).
    pub gossip_nodes: usize,
    /// Retransmit multiplier (upstream `RetransmitMult`): an origin stays in the digests for
    /// `mult × ceil(log10(n+1))` gossip ticks (at least 10) after its last change, as long as memberlist keeps
    /// retransmitting a broadcast.
    pub retransmit_mult: usize,
    /// Largest datagram sent; bigger deltas go over TCP (upstream `UDPBufferSize` 1400).
    pub max_datagram_size: usize,
    /// Largest TCP frame accepted (full states can be large).
    pub max_frame_size: usize,
    /// Seed for the membership RNG; `None` seeds from the OS. Tests pass a seed.
    pub rng_seed: Option<u64>,
    /// `--cluster.tls-config`: gossip over mutual TLS (TCP only) instead of UDP + plain TCP.
    pub tls: Option<TlsConfig>,
}

impl ClusterConfig {
    /// Upstream defaults for a node named `name` listening on `listen_address`.
    pub fn new(name: impl Into<String>, listen_address: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            listen_address: listen_address.into(),
            advertise_address: None,
            peers: Vec::new(),
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(500),
            gossip_interval: Duration::from_millis(200),
            pushpull_interval: Duration::from_secs(60),
            tcp_timeout: Duration::from_secs(10),
            reconnect_interval: Duration::from_secs(10),
            reconnect_timeout: Duration::from_secs(6 * 3600),
            settle_timeout: Duration::from_secs(60),
            label: String::new(),
            key: None,
            gossip_nodes: 3,
            retransmit_mult: 4,
            max_datagram_size: 1400,
            max_frame_size: 64 << 20,
            rng_seed: None,
            tls: None,
        }
    }
}
