//! Cluster metrics under Alertmanager's names (`cluster/cluster.go`, `cluster/delegate.go`), plus tocsin's
//! counter of dropped messages by reason.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use crate::wire::DropReason;

/// `msg_type` label: `full_state` (push-pull) or `update` (deltas).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct MsgType {
    pub(crate) msg_type: &'static str,
}

pub(crate) const FULL_STATE: MsgType = MsgType { msg_type: "full_state" };
pub(crate) const UPDATE: MsgType = MsgType { msg_type: "update" };

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PeerLabel {
    pub(crate) peer: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct KeyLabel {
    pub(crate) key: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabel {
    pub(crate) reason: &'static str,
}

/// All cluster metrics; cheap to clone (each metric is an `Arc` inside).
#[derive(Debug, Clone, Default)]
pub(crate) struct Metrics {
    pub(crate) members: Gauge,
    pub(crate) peer_info: Family<PeerLabel, Gauge>,
    pub(crate) failed_peers: Gauge,
    pub(crate) position: Gauge,
    pub(crate) health_score: Gauge,
    pub(crate) received: Family<MsgType, Counter>,
    pub(crate) received_size: Family<MsgType, Counter>,
    pub(crate) sent: Family<MsgType, Counter>,
    pub(crate) sent_size: Family<MsgType, Counter>,
    pub(crate) queued: Gauge,
    pub(crate) peers_joined: Counter,
    pub(crate) peers_left: Counter,
    pub(crate) reconnections: Counter,
    pub(crate) oversized_sent: Family<KeyLabel, Counter>,
    pub(crate) oversized_failed: Family<KeyLabel, Counter>,
    pub(crate) oversized_dropped: Family<KeyLabel, Counter>,
    pub(crate) propagated: Counter,
    pub(crate) dropped: Family<ReasonLabel, Counter>,
}

impl Metrics {
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "alertmanager_cluster_members",
            "Number indicating current number of members in cluster",
            m.members.clone(),
        );
        registry.register(
            "alertmanager_cluster_peer_info",
            "A metric with a constant '1' value labeled by peer name",
            m.peer_info.clone(),
        );
        registry.register(
            "alertmanager_cluster_failed_peers",
            "Number indicating the current number of failed peers in the cluster",
            m.failed_peers.clone(),
        );
        registry.register("alertmanager_peer_position", "Position the Alertmanager instance believes it's in. The position determines a peer's behavior in the cluster", m.position.clone());
        registry.register(
            "alertmanager_cluster_health_score",
            "Health score of the cluster. Lower values are better and zero means 'totally healthy'",
            m.health_score.clone(),
        );
        registry.register(
            "alertmanager_cluster_messages_received",
            "Total number of cluster messages received",
            m.received.clone(),
        );
        registry.register(
            "alertmanager_cluster_messages_received_size",
            "Total size of cluster messages received",
            m.received_size.clone(),
        );
        registry.register(
            "alertmanager_cluster_messages_sent",
            "Total number of cluster messages sent",
            m.sent.clone(),
        );
        registry.register(
            "alertmanager_cluster_messages_sent_size",
            "Total size of cluster messages sent",
            m.sent_size.clone(),
        );
        registry.register(
            "alertmanager_cluster_messages_queued",
            "Number of cluster messages which are queued",
            m.queued.clone(),
        );
        registry.register(
            "alertmanager_cluster_peers_joined",
            "A counter of the number of peers that have joined",
            m.peers_joined.clone(),
        );
        registry.register(
            "alertmanager_cluster_peers_left",
            "A counter of the number of peers that have left",
            m.peers_left.clone(),
        );
        registry.register(
            "alertmanager_cluster_reconnections",
            "A counter of the number of cluster peer reconnections",
            m.reconnections.clone(),
        );
        registry.register(
            "alertmanager_oversized_gossip_message_sent",
            "Number of oversized gossip messages sent",
            m.oversized_sent.clone(),
        );
        registry.register(
            "alertmanager_oversized_gossip_message_failure",
            "Number of oversized gossip message sends that failed",
            m.oversized_failed.clone(),
        );
        registry.register(
            "alertmanager_oversized_gossip_message_dropped",
            "Number of oversized gossip messages that were dropped due to a full message queue",
            m.oversized_dropped.clone(),
        );
        registry.register(
            "alertmanager_cluster_gossip_messages_propagated",
            "Number of received gossip messages that have been further gossiped",
            m.propagated.clone(),
        );
        registry.register(
            "tocsin_cluster_dropped_messages",
            "Cluster datagrams and frames dropped, by reason (label, auth, replay, malformed, ...)",
            m.dropped.clone(),
        );
        for msg_type in [FULL_STATE, UPDATE] {
            let _ = m.received.get_or_create(&msg_type);
            let _ = m.received_size.get_or_create(&msg_type);
            let _ = m.sent.get_or_create(&msg_type);
            let _ = m.sent_size.get_or_create(&msg_type);
        }
        for reason in DropReason::ALL {
            let _ = m.dropped.get_or_create(&ReasonLabel { reason: reason.as_str() });
        }
        m
    }

    pub(crate) fn drop_message(&self, reason: DropReason) {
        self.dropped.get_or_create(&ReasonLabel { reason: reason.as_str() }).inc();
    }

    pub(crate) fn dropped_total(&self, reason: DropReason) -> u64 {
        self.dropped.get_or_create(&ReasonLabel { reason: reason.as_str() }).get()
    }

    pub(crate) fn count_sent(&self, msg_type: &MsgType, bytes: usize) {
        self.sent.get_or_create(msg_type).inc();
        self.sent_size.get_or_create(msg_type).inc_by(bytes as u64);
    }

    pub(crate) fn count_received(&self, msg_type: &MsgType, bytes: usize) {
        self.received.get_or_create(msg_type).inc();
        self.received_size.get_or_create(msg_type).inc_by(bytes as u64);
    }
}
