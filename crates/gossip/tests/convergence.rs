//! Convergence of membership and replicated state over the in-memory network, in paused time.

mod common;

use std::time::Duration;

use common::*;
use tocsin_gossip::{MemNetwork, Status};

async fn converge(n: usize, loss: f64, seed: u64) {
    let net = MemNetwork::new(seed);
    net.set_loss(loss);
    let nodes = start_cluster(&net, n).await;
    let all: Vec<&TestNode> = nodes.iter().collect();
    wait_members(&all, n, Duration::from_secs(30)).await;

    for (i, node) in nodes.iter().enumerate() {
        node.set(&format!("k{i}"), 10, &format!("from {i}"));
    }
    // Every node also writes the same key: the latest timestamp must win everywhere.
    for (i, node) in nodes.iter().enumerate() {
        node.set("shared", 100 + i as u64, &format!("v{i}"));
    }
    // Well below the push-pull interval (60s): deltas alone must converge.
    let took = eventually(Duration::from_secs(20), "all nodes have every key", || {
        nodes.iter().all(|t| {
            (0..n).all(|i| t.state.get(&format!("k{i}")).as_deref() == Some(format!("from {i}").as_str()))
                && t.state.get("shared").as_deref() == Some(format!("v{}", n - 1).as_str())
        })
    })
    .await;
    assert!(took < Duration::from_secs(20), "n={n} took {took:?}");
    let first = nodes[0].state.snapshot();
    assert!(nodes.iter().all(|t| t.state.snapshot() == first));
}

#[tokio::test(start_paused = true)]
async fn two_nodes_converge_with_loss() {
    converge(2, 0.1, 1).await;
}

#[tokio::test(start_paused = true)]
async fn three_nodes_converge_with_loss() {
    converge(3, 0.1, 2).await;
}

#[tokio::test(start_paused = true)]
async fn seven_nodes_converge_with_loss() {
    converge(7, 0.2, 3).await;
}

#[tokio::test(start_paused = true)]
async fn local_change_reaches_peer_at_once() {
    let net = MemNetwork::new(4);
    let nodes = start_cluster(&net, 2).await;
    wait_members(&[&nodes[0], &nodes[1]], 2, Duration::from_secs(10)).await;
    nodes[0].set("a", 1, "x");
    let took =
        eventually(Duration::from_secs(1), "delta delivered", || nodes[1].state.get("a").is_some()).await;
    assert!(took <= Duration::from_millis(100), "took {took:?}: broadcast must not wait for a gossip tick");
    let metrics = encode(&nodes[1].registry);
    for want in [
        "alertmanager_cluster_messages_received_total{msg_type=\"update\"}",
        "alertmanager_cluster_messages_received_total{msg_type=\"full_state\"}",
        "alertmanager_cluster_messages_sent_size_total{msg_type=\"full_state\"}",
        "alertmanager_cluster_members 2",
        "alertmanager_cluster_failed_peers 0",
    ] {
        assert!(metrics.contains(want), "missing {want} in {metrics}");
    }
    assert!(
        !metrics.contains("alertmanager_cluster_messages_received_total{msg_type=\"update\"} 0"),
        "{metrics}"
    );
}

#[tokio::test(start_paused = true)]
async fn oversized_delta_goes_over_tcp() {
    let net = MemNetwork::new(5);
    let nodes = start_cluster(&net, 3).await;
    wait_members(&[&nodes[0], &nodes[1], &nodes[2]], 3, Duration::from_secs(10)).await;
    let big = "x".repeat(5000);
    nodes[0].set("big", 1, &big);
    eventually(Duration::from_secs(2), "big value everywhere", || {
        nodes.iter().all(|t| t.state.get("big").as_deref() == Some(big.as_str()))
    })
    .await;
    let metrics = encode(&nodes[0].registry);
    assert!(metrics.contains("alertmanager_oversized_gossip_message_sent_total{key=\"sil\"} 2"), "{metrics}");
}

#[tokio::test(start_paused = true)]
async fn partition_heals_to_the_union() {
    let net = MemNetwork::new(6);
    let nodes = start_cluster(&net, 4).await;
    let all: Vec<&TestNode> = nodes.iter().collect();
    wait_members(&all, 4, Duration::from_secs(30)).await;

    net.partition(&[&[addr(0), addr(1)], &[addr(2), addr(3)]]);
    wait_members(&all, 2, Duration::from_secs(60)).await;
    nodes[0].set("left", 1, "L");
    nodes[3].set("right", 1, "R");
    nodes[1].set("both", 5, "older");
    nodes[2].set("both", 6, "newer");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(nodes[1].state.get("left").as_deref(), Some("L"));
    assert_eq!(nodes[1].state.get("right"), None, "partition must hold");
    assert_eq!(nodes[2].state.get("right").as_deref(), Some("R"));
    assert_eq!(nodes[2].state.get("left"), None, "partition must hold");

    net.heal();
    wait_members(&all, 4, Duration::from_secs(60)).await;
    eventually(Duration::from_secs(30), "union on both sides", || {
        nodes.iter().all(|t| {
            t.state.get("left").as_deref() == Some("L")
                && t.state.get("right").as_deref() == Some("R")
                && t.state.get("both").as_deref() == Some("newer")
        })
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn restarted_node_catches_up_via_push_pull() {
    let net = MemNetwork::new(7);
    let peers: Vec<_> = (0..3).map(addr).collect();
    let mut nodes = start_cluster(&net, 3).await;
    wait_members(&nodes.iter().collect::<Vec<_>>(), 3, Duration::from_secs(30)).await;
    nodes[0].set("before", 1, "b");
    eventually(Duration::from_secs(5), "before everywhere", || {
        nodes.iter().all(|t| t.state.get("before").is_some())
    })
    .await;

    // Crash node 2 (no leave), change state while it is away.
    let crashed = nodes.pop().unwrap();
    drop(crashed);
    wait_members(&[&nodes[0], &nodes[1]], 2, Duration::from_secs(60)).await;
    nodes[1].set("during", 1, "d");
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Restart with a new name and an empty state: the join's push-pull brings everything.
    let restarted = start(&net, config(2, 2, &peers)).await;
    eventually(Duration::from_secs(15), "restarted node caught up", || {
        restarted.state.get("before").is_some() && restarted.state.get("during").is_some()
    })
    .await;
    nodes.push(restarted);
    wait_members(&nodes.iter().collect::<Vec<_>>(), 3, Duration::from_secs(30)).await;
    let names: Vec<String> = nodes[0].handle.peers().into_iter().map(|p| p.name).collect();
    assert_eq!(names, vec!["N1-00", "N1-01", "N2-02"]);
}

#[tokio::test(start_paused = true)]
async fn settle_and_position() {
    let net = MemNetwork::new(8);
    let nodes = start_cluster(&net, 3).await;
    assert_eq!(nodes[0].handle.status(), Status::Settling);
    let start = tokio::time::Instant::now();
    for node in &nodes {
        tokio::time::timeout(Duration::from_secs(30), node.handle.wait_settled()).await.expect("settled");
    }
    // Five polls of 10 × gossip interval (200ms), as upstream: about 10s.
    let took = start.elapsed();
    assert!(took >= Duration::from_secs(8) && took <= Duration::from_secs(15), "settled after {took:?}");
    assert!(nodes.iter().all(|n| n.handle.status() == Status::Ready));
    for (i, node) in nodes.iter().enumerate() {
        assert_eq!(node.handle.position(), i);
        assert_eq!(node.handle.peers().len(), 3);
    }
    let metrics = encode(&nodes[2].registry);
    assert!(metrics.contains("alertmanager_peer_position 2"), "{metrics}");
    assert!(metrics.contains("alertmanager_cluster_members 3"), "{metrics}");
    assert!(metrics.contains("alertmanager_cluster_peer_info{peer=\"N1-00\"} 1"), "{metrics}");

    nodes[0].handle.leave(Duration::from_secs(10)).await.unwrap();
    eventually(Duration::from_secs(30), "positions shift after leave", || {
        nodes[1].handle.position() == 0 && nodes[2].handle.position() == 1
    })
    .await;
    assert_eq!(nodes[1].handle.peers().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn settle_timeout_makes_ready() {
    let net = MemNetwork::new(9);
    net.set_loss(0.0);
    let mut config = config(0, 1, &[addr(0), addr(1)]);
    config.settle_timeout = Duration::from_secs(3);
    let node = start(&net, config).await;
    let start = tokio::time::Instant::now();
    node.handle.wait_settled().await;
    assert!(start.elapsed() <= Duration::from_secs(3));
    assert_eq!(node.handle.position(), 0);
    assert_eq!(node.handle.peers().len(), 1);
    let metrics = encode(&node.registry);
    assert!(metrics.contains("alertmanager_cluster_failed_peers 1"), "{metrics}");
}

/// Dissemination cost: the origin sends a change once to each member and nobody relays it (no loss here, so
/// digests find nothing to repair).
#[tokio::test(start_paused = true)]
async fn change_is_sent_once_per_member_and_not_relayed() {
    let net = MemNetwork::new(10);
    let nodes = start_cluster(&net, 6).await;
    let all: Vec<&TestNode> = nodes.iter().collect();
    wait_members(&all, 6, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    net.start_capture();
    nodes[2].set("once", 1, "needle-7f3a");
    eventually(Duration::from_secs(1), "change everywhere", || {
        nodes.iter().all(|t| t.state.get("once").is_some())
    })
    .await;
    // Well past the digest window: repairs, if any, would have happened.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let copies: Vec<_> = net
        .take_capture()
        .into_iter()
        .filter(|(_, _, bytes)| bytes.windows(11).any(|w| w == b"needle-7f3a"))
        .collect();
    assert_eq!(
        copies.len(),
        5,
        "one copy per member: {:?}",
        copies.iter().map(|c| (c.0, c.1)).collect::<Vec<_>>()
    );
    assert!(copies.iter().all(|(from, _, _)| *from == addr(2)), "only the origin sends it");
}

/// Heavy loss: digests repair what the single direct send lost, well before any periodic push-pull.
#[tokio::test(start_paused = true)]
async fn digests_repair_heavy_loss() {
    let net = MemNetwork::new(11);
    let nodes = start_cluster(&net, 10).await;
    let all: Vec<&TestNode> = nodes.iter().collect();
    wait_members(&all, 10, Duration::from_secs(60)).await;
    net.set_loss(0.4);
    for round in 0..5u64 {
        for (i, node) in nodes.iter().enumerate() {
            node.set(&format!("k{i}"), round, &format!("{i}/{round}"));
        }
    }
    let took = eventually(Duration::from_secs(20), "every node has every last write", || {
        nodes.iter().all(|t| {
            (0..10).all(|i| t.state.get(&format!("k{i}")).as_deref() == Some(format!("{i}/4").as_str()))
        })
    })
    .await;
    assert!(took < Duration::from_secs(10), "took {took:?}");
}
