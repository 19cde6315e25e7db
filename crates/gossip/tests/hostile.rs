//! Foreign, forged, garbled, truncated and replayed input is dropped and counted; the node stays up.

mod common;

use std::{net::SocketAddr, time::Duration};

use common::*;
use tocsin_gossip::{DropReason, Key, MemNetwork};
use tokio::io::AsyncWriteExt;

fn stranger() -> SocketAddr {
    "10.9.9.9:9094".parse().expect("literal address")
}

#[tokio::test(start_paused = true)]
async fn other_label_is_dropped_and_counted() {
    let net = MemNetwork::new(11);
    let peers = [addr(0), addr(1)];
    let mut a = config(0, 1, &peers);
    a.label = "prod".into();
    let mut b = config(1, 1, &peers);
    b.label = "staging".into();
    let a = start(&net, a).await;
    let b = start(&net, b).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(a.handle.peers().len(), 1);
    assert_eq!(b.handle.peers().len(), 1);
    assert!(a.handle.dropped(DropReason::Label) > 0);
    assert!(b.handle.dropped(DropReason::Label) > 0);
    let metrics = encode(&a.registry);
    assert!(metrics.contains("tocsin_cluster_dropped_messages_total{reason=\"label\"}"), "{metrics}");
}

#[tokio::test(start_paused = true)]
async fn wrong_or_missing_key_is_dropped_and_counted() {
    let net = MemNetwork::new(12);
    let peers = [addr(0), addr(1), addr(2)];
    let mut a = config(0, 1, &peers);
    a.key = Some(Key::new(b"one".to_vec()));
    let mut b = config(1, 1, &peers);
    b.key = Some(Key::new(b"two".to_vec()));
    let c = config(2, 1, &peers);
    let a = start(&net, a).await;
    let b = start(&net, b).await;
    let c = start(&net, c).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    for node in [&a, &b, &c] {
        assert_eq!(node.handle.peers().len(), 1, "{} must stay alone", node.handle.name());
    }
    assert!(a.handle.dropped(DropReason::Auth) > 0);
    assert!(b.handle.dropped(DropReason::Auth) > 0);
    // Without a key, a signed packet has trailing bytes: malformed.
    assert!(c.handle.dropped(DropReason::Malformed) > 0);
}

#[tokio::test(start_paused = true)]
async fn same_key_joins_and_replays_are_rejected() {
    let net = MemNetwork::new(13);
    let peers = [addr(0), addr(1)];
    let key = Key::new(b"shared secret".to_vec());
    let mut a = config(0, 1, &peers);
    a.key = Some(key.clone());
    let mut b = config(1, 1, &peers);
    b.key = Some(key);
    let a = start(&net, a).await;
    let b = start(&net, b).await;
    wait_members(&[&a, &b], 2, Duration::from_secs(10)).await;

    net.start_capture();
    a.set("x", 1, "first");
    eventually(Duration::from_secs(2), "x delivered", || b.state.get("x").is_some()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let captured = net.take_capture();
    let to_b: Vec<_> = captured.into_iter().filter(|(_, to, _)| *to == addr(1)).collect();
    assert!(!to_b.is_empty());
    let before = b.handle.dropped(DropReason::Replay);
    for (from, to, packet) in &to_b {
        net.inject_datagram(*from, *to, packet);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(b.handle.dropped(DropReason::Replay) - before, to_b.len() as u64);

    // Truncated and bit-flipped copies fail authentication.
    let before = b.handle.dropped(DropReason::Auth);
    let (from, to, packet) = &to_b[0];
    net.inject_datagram(*from, *to, &packet[..packet.len() / 2]);
    let mut flipped = packet.clone();
    flipped[3] ^= 0x55;
    net.inject_datagram(*from, *to, &flipped);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(b.handle.dropped(DropReason::Auth) - before, 2);

    // Still alive and replicating.
    a.set("y", 2, "after");
    eventually(Duration::from_secs(2), "y delivered", || b.state.get("y").is_some()).await;
    assert_eq!(a.handle.peers().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn garbage_datagrams_and_frames_are_rejected() {
    let net = MemNetwork::new(14);
    let nodes = start_cluster(&net, 2).await;
    wait_members(&[&nodes[0], &nodes[1]], 2, Duration::from_secs(10)).await;
    let target = addr(1);

    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for len in 0..300usize {
        let mut packet: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if len % 2 == 0 && !packet.is_empty() {
            packet[0] = 2; // right version byte (wire version 2), garbage body
        }
        net.inject_datagram(stranger(), target, &packet);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let h = &nodes[1].handle;
    assert!(h.dropped(DropReason::Malformed) + h.dropped(DropReason::Version) >= 290);

    // Frames: oversized length, truncated body, garbage body, then a clean close.
    let before_oversized = h.dropped(DropReason::Oversized);
    let mut s = net.connect(stranger(), target).unwrap();
    s.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
    drop(s);
    let mut s = net.connect(stranger(), target).unwrap();
    s.write_all(&100u32.to_be_bytes()).await.unwrap();
    s.write_all(&[1, 2, 3]).await.unwrap();
    drop(s);
    let mut s = net.connect(stranger(), target).unwrap();
    s.write_all(&8u32.to_be_bytes()).await.unwrap();
    s.write_all(&[2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).await.unwrap(); // wire version 2
    s.shutdown().await.unwrap();
    let mut s = net.connect(stranger(), target).unwrap();
    s.write_all(&[0, 0]).await.unwrap();
    drop(s);
    let before_malformed = h.dropped(DropReason::Malformed);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.dropped(DropReason::Oversized) - before_oversized, 1);
    assert_eq!(h.dropped(DropReason::Malformed) - before_malformed, 3);

    // A silent connection is closed after the TCP timeout, not held forever.
    let _idle = net.connect(stranger(), target).unwrap();
    tokio::time::sleep(Duration::from_secs(11)).await;

    nodes[0].set("still", 1, "alive");
    eventually(Duration::from_secs(2), "node still replicating", || nodes[1].state.get("still").is_some())
        .await;
    assert_eq!(nodes[1].handle.peers().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn undecodable_state_is_counted_not_fatal() {
    let net = MemNetwork::new(15);
    let nodes = start_cluster(&net, 2).await;
    wait_members(&[&nodes[0], &nodes[1]], 2, Duration::from_secs(10)).await;
    nodes[0].handle.broadcast("sil", vec![0xff; 10]);
    nodes[0].handle.broadcast("unknown", vec![1]);
    eventually(Duration::from_secs(2), "merge failures counted", || {
        nodes[1].handle.dropped(DropReason::Merge) >= 2
    })
    .await;
    nodes[0].set("ok", 1, "fine");
    eventually(Duration::from_secs(2), "still replicating", || nodes[1].state.get("ok").is_some()).await;
}

/// Many strangers announcing large frames and stalling neither exhaust memory (buffers grow with the bytes that
/// arrive, concurrent streams are bounded) nor stop replication; their streams are closed at the TCP timeout.
#[tokio::test(start_paused = true)]
async fn stalled_large_frames_are_bounded() {
    let net = MemNetwork::new(16);
    let nodes = start_cluster(&net, 2).await;
    wait_members(&[&nodes[0], &nodes[1]], 2, Duration::from_secs(10)).await;
    let target = addr(1);
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut s = net.connect(stranger(), target).unwrap();
        // Streams beyond the bound are closed at once, so writing to them may fail.
        let _ = s.write_all(&(32u32 << 20).to_be_bytes()).await;
        let _ = s.write_all(&[1; 16]).await;
        stalled.push(s);
    }
    nodes[0].set("during", 1, "attack");
    eventually(Duration::from_secs(2), "replicating during the attack", || {
        nodes[1].state.get("during").is_some()
    })
    .await;
    let h = &nodes[1].handle;
    let before = h.dropped(DropReason::Malformed);
    tokio::time::sleep(Duration::from_secs(11)).await;
    drop(stalled);
    nodes[0].set("after", 1, "attack");
    eventually(Duration::from_secs(2), "replicating after the attack", || {
        nodes[1].state.get("after").is_some()
    })
    .await;
    assert_eq!(h.dropped(DropReason::Malformed), before, "timeouts are not counted as malformed");
}
