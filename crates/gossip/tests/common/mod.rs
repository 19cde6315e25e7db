//! Test harness: a last-writer-wins fake state and helpers to run nodes on the in-memory network.
#![allow(dead_code)]

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc, time::Duration};

use parking_lot::Mutex;
use prometheus_client::registry::Registry;
use tocsin_gossip::{Cluster, ClusterConfig, ClusterHandle, MemNetwork, MergeError, Replicated};

/// A LWW map: key → (timestamp, value). Deltas and full states are postcard `Vec<(key, ts, value)>`.
#[derive(Debug, Default)]
pub struct Lww {
    map: Mutex<BTreeMap<String, (u64, String)>>,
}

type Entries = Vec<(String, u64, String)>;

impl Lww {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Sets locally and returns the delta to broadcast.
    pub fn set(&self, key: &str, ts: u64, value: &str) -> Vec<u8> {
        self.map.lock().insert(key.to_owned(), (ts, value.to_owned()));
        postcard::to_allocvec(&vec![(key.to_owned(), ts, value.to_owned())]).expect("test helper")
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.map.lock().get(key).map(|(_, v)| v.clone())
    }

    pub fn snapshot(&self) -> BTreeMap<String, (u64, String)> {
        self.map.lock().clone()
    }
}

impl Replicated for Lww {
    fn key(&self) -> &'static str {
        "sil"
    }

    fn full_state(&self) -> Vec<u8> {
        let entries: Entries = self.map.lock().iter().map(|(k, (t, v))| (k.clone(), *t, v.clone())).collect();
        postcard::to_allocvec(&entries).expect("test helper")
    }

    fn merge(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, MergeError> {
        let entries: Entries = postcard::from_bytes(bytes).map_err(MergeError::new)?;
        let mut map = self.map.lock();
        let mut changed = Vec::new();
        for (k, t, v) in entries {
            let newer = map.get(&k).is_none_or(|(old, _)| t > *old);
            if newer {
                map.insert(k.clone(), (t, v.clone()));
                changed.push(postcard::to_allocvec(&vec![(k, t, v)]).expect("test helper"));
            }
        }
        Ok(changed)
    }
}

pub fn addr(i: usize) -> SocketAddr {
    format!("10.0.0.{}:9094", i + 1).parse().expect("test helper")
}

pub struct TestNode {
    pub handle: ClusterHandle,
    pub state: Arc<Lww>,
    pub registry: Registry,
}

impl TestNode {
    pub fn set(&self, key: &str, ts: u64, value: &str) {
        let delta = self.state.set(key, ts, value);
        self.handle.broadcast("sil", delta);
    }
}

pub fn config(i: usize, generation: usize, peers: &[SocketAddr]) -> ClusterConfig {
    let mut config = ClusterConfig::new(format!("N{generation}-{i:02}"), addr(i).to_string());
    config.peers = peers.iter().map(|p| p.to_string()).collect();
    config.rng_seed = Some((generation * 100 + i) as u64);
    config
}

pub async fn start(net: &MemNetwork, config: ClusterConfig) -> TestNode {
    let state = Lww::new();
    let mut registry = Registry::default();
    let address: SocketAddr = config.listen_address.parse().expect("test helper");
    let transport = Arc::new(net.bind(address));
    let handle = Cluster::start_with_transport(
        config,
        vec![state.clone() as Arc<dyn Replicated>],
        &mut registry,
        transport,
    )
    .await
    .expect("test helper");
    TestNode { handle, state, registry }
}

/// Starts `n` nodes that all list every address as peer (their own included, as upstream's tests do).
pub async fn start_cluster(net: &MemNetwork, n: usize) -> Vec<TestNode> {
    let peers: Vec<SocketAddr> = (0..n).map(addr).collect();
    let mut nodes = Vec::new();
    for i in 0..n {
        nodes.push(start(net, config(i, 1, &peers)).await);
    }
    nodes
}

/// Polls `check` every 100ms of (paused) time; panics with `what` after `limit`.
pub async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = tokio::time::Instant::now();
    loop {
        if check() {
            return start.elapsed();
        }
        if start.elapsed() > limit {
            panic!("not within {limit:?}: {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn wait_members(nodes: &[&TestNode], n: usize, limit: Duration) -> Duration {
    eventually(limit, &format!("{n} members everywhere"), || {
        nodes.iter().all(|t| t.handle.peers().len() == n)
    })
    .await
}

pub fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, registry).expect("test helper");
    out
}
