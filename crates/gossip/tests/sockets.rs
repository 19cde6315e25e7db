//! Two nodes on real loopback sockets (real time, short intervals, bounded loops).

mod common;

use std::{sync::Arc, time::Duration};

use common::Lww;
use prometheus_client::registry::Registry;
use tocsin_gossip::{node_name, Cluster, ClusterConfig, Replicated};

fn quick(config: &mut ClusterConfig) {
    config.probe_interval = Duration::from_millis(200);
    config.probe_timeout = Duration::from_millis(100);
    config.gossip_interval = Duration::from_millis(50);
    config.reconnect_interval = Duration::from_millis(200);
    config.settle_timeout = Duration::from_secs(2);
    config.tcp_timeout = Duration::from_secs(2);
}

#[tokio::test]
async fn two_nodes_on_loopback() {
    let mut registry = Registry::default();
    let a_state = Lww::new();
    let mut a_config = ClusterConfig::new(node_name(1_000), "127.0.0.1:0");
    quick(&mut a_config);
    let a =
        Cluster::start(a_config, vec![a_state.clone() as Arc<dyn Replicated>], &mut registry).await.unwrap();
    assert_ne!(a.address().port(), 0);

    let b_state = Lww::new();
    let mut b_config = ClusterConfig::new(node_name(2_000), "127.0.0.1:0");
    b_config.peers = vec![a.address().to_string()];
    quick(&mut b_config);
    let mut b_registry = Registry::default();
    let b = Cluster::start(b_config, vec![b_state.clone() as Arc<dyn Replicated>], &mut b_registry)
        .await
        .unwrap();

    for _ in 0..200 {
        if a.peers().len() == 2 && b.peers().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(a.peers().len(), 2);
    assert_eq!(b.peers(), a.peers());
    assert_eq!((a.position(), b.position()), (0, 1));

    a.broadcast("sil", a_state.set("small", 1, "s"));
    let big = "y".repeat(4000);
    b.broadcast("sil", b_state.set("big", 1, &big));
    for _ in 0..200 {
        if b_state.get("small").is_some() && a_state.get("big").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(b_state.get("small").as_deref(), Some("s"));
    assert_eq!(a_state.get("big").as_deref(), Some(big.as_str()));

    b.leave(Duration::from_secs(2)).await.unwrap();
    for _ in 0..200 {
        if a.peers().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(a.peers().len(), 1);
    a.leave(Duration::from_secs(2)).await.unwrap();
}
