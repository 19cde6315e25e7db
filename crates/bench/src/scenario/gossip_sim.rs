//! Issue 4, simulated: 25 tocsin cluster nodes in this process over `tocsin_gossip::MemNetwork` (real time, no
//! loss), each holding a last-writer-wins map of silence-sized records (~350 bytes, what a MeshSilence with two
//! matchers and a comment encodes to). Measures the time until a change made on one node is on every node
//! (median and max of 20 changes from different nodes), and the bytes each node sends per second (datagrams plus
//! stream bytes, counted by a wrapping transport) while idle and under 100 changes per second. No server binary
//! is involved, so it runs even when tocsin is not built; it appears in the tocsin column only.

use super::{median, millis, Measured};
use crate::report::{Metric, Sample, Unit};
use anyhow::{anyhow, bail, Result};
use async_trait::async_trait;
use parking_lot::Mutex;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tocsin_gossip::{
    BoxStream, Cluster, ClusterConfig, ClusterHandle, MemNetwork, MemTransport, MergeError, Replicated,
    Transport,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// Size of one simulated silence record's value.
const RECORD_BYTES: usize = 350;

/// A LWW map `id → (version, value)`; deltas and full states are `[id_len u16][id][version u64][len u32][value]`*.
#[derive(Debug, Default)]
struct Lww {
    map: Mutex<HashMap<String, (u64, Vec<u8>)>>,
}

fn put(out: &mut Vec<u8>, id: &str, version: u64, value: &[u8]) {
    out.extend_from_slice(&(id.len() as u16).to_be_bytes());
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if b.len() < n {
        return None;
    }
    let (head, tail) = b.split_at(n);
    *b = tail;
    Some(head)
}

fn parse(mut b: &[u8]) -> Option<Vec<(String, u64, Vec<u8>)>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let n = u16::from_be_bytes(take(&mut b, 2)?.try_into().ok()?) as usize;
        let id = String::from_utf8(take(&mut b, n)?.to_vec()).ok()?;
        let version = u64::from_be_bytes(take(&mut b, 8)?.try_into().ok()?);
        let len = u32::from_be_bytes(take(&mut b, 4)?.try_into().ok()?) as usize;
        out.push((id, version, take(&mut b, len)?.to_vec()));
    }
    Some(out)
}

impl Lww {
    fn set(&self, id: &str, version: u64) -> Vec<u8> {
        let value = vec![b'x'; RECORD_BYTES];
        let mut delta = Vec::new();
        put(&mut delta, id, version, &value);
        self.map.lock().insert(id.to_owned(), (version, value));
        delta
    }

    fn has(&self, id: &str, version: u64) -> bool {
        self.map.lock().get(id).is_some_and(|(v, _)| *v >= version)
    }
}

impl Replicated for Lww {
    fn key(&self) -> &'static str {
        "sil"
    }

    fn full_state(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (id, (v, value)) in self.map.lock().iter() {
            put(&mut out, id, *v, value);
        }
        out
    }

    fn merge(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, MergeError> {
        let items = parse(bytes).ok_or_else(|| MergeError::new("malformed"))?;
        let mut map = self.map.lock();
        let mut changed = Vec::new();
        for (id, v, value) in items {
            if map.get(&id).is_none_or(|(old, _)| v > *old) {
                let mut delta = Vec::new();
                put(&mut delta, &id, v, &value);
                map.insert(id, (v, value));
                changed.push(delta);
            }
        }
        Ok(changed)
    }
}

/// A [`MemTransport`] that counts every byte this node sends (datagrams and stream writes).
#[derive(Debug)]
struct Counting {
    inner: MemTransport,
    sent: Arc<AtomicU64>,
}

struct CountingStream {
    inner: BoxStream,
    sent: Arc<AtomicU64>,
}

impl AsyncRead for CountingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountingStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.sent.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[async_trait]
impl Transport for Counting {
    fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr()
    }

    async fn send_to(&self, to: SocketAddr, packet: &[u8]) -> io::Result<()> {
        self.sent.fetch_add(packet.len() as u64, Ordering::Relaxed);
        self.inner.send_to(to, packet).await
    }

    async fn recv_from(&self) -> io::Result<(SocketAddr, Vec<u8>)> {
        self.inner.recv_from().await
    }

    async fn connect(&self, to: SocketAddr) -> io::Result<BoxStream> {
        let inner = self.inner.connect(to).await?;
        Ok(Box::new(CountingStream { inner, sent: self.sent.clone() }))
    }

    async fn accept(&self) -> io::Result<(SocketAddr, BoxStream)> {
        let (from, inner) = self.inner.accept().await?;
        Ok((from, Box::new(CountingStream { inner, sent: self.sent.clone() })))
    }
}

struct SimNode {
    handle: ClusterHandle,
    state: Arc<Lww>,
}

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, (i / 250) as u8, (i % 250 + 1) as u8], 9094))
}

/// Everything the simulation measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SimResult {
    pub nodes: usize,
    pub join: Duration,
    pub spread_median_ms: f64,
    pub spread_max_ms: f64,
    pub idle_bytes_per_node_s: f64,
    pub load_bytes_per_node_s: f64,
    pub load_rate: f64,
}

/// Runs the simulation: `n` nodes, `changes` timed changes, `window` of idle and of loaded traffic at `rate`/s.
pub async fn simulate(n: usize, changes: usize, window: Duration, rate: u32) -> Result<SimResult> {
    let net = MemNetwork::new(42);
    let sent = Arc::new(AtomicU64::new(0));
    let peers: Vec<String> = (0..n).map(|i| addr(i).to_string()).collect();
    let mut nodes = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let mut config = ClusterConfig::new(format!("SIM{i:03}"), addr(i).to_string());
        config.peers = peers.clone();
        config.rng_seed = Some(i as u64 + 1);
        // As the app sets them for this many peers: max(3, peers / 2).
        config.gossip_nodes = (n / 2).max(3);
        config.retransmit_mult = (n / 2).max(3);
        let state = Arc::new(Lww::default());
        let transport = Arc::new(Counting { inner: net.bind(addr(i)), sent: sent.clone() });
        let mut registry = Registry::default();
        let handle = Cluster::start_with_transport(
            config,
            vec![state.clone() as Arc<dyn Replicated>],
            &mut registry,
            transport,
        )
        .await
        .map_err(|e| anyhow!("start node {i}: {e}"))?;
        nodes.push(SimNode { handle, state });
    }
    loop {
        if nodes.iter().all(|t| t.handle.peers().len() == n) {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("{n} simulated nodes did not see each other within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let join = started.elapsed();
    // Let the join's push-pulls finish before measuring.
    tokio::time::sleep(window.min(Duration::from_secs(2))).await;

    let mut spread = Vec::with_capacity(changes);
    for c in 0..changes {
        let id = format!("spread-{c}");
        let origin = &nodes[(c * 7) % n];
        let t0 = Instant::now();
        origin.handle.broadcast("sil", origin.state.set(&id, 1));
        loop {
            if nodes.iter().all(|t| t.state.has(&id, 1)) {
                spread.push(millis(t0.elapsed()));
                break;
            }
            if t0.elapsed() > Duration::from_secs(30) {
                bail!("change {c} did not reach all {n} nodes within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let spread_max_ms = spread.iter().copied().fold(0.0, f64::max);
    let spread_median_ms = median(spread);

    // Digests of those changes' origins last retransmit_mult × ⌈log10(n+1)⌉ gossip ticks (about 5 s for 25
    // nodes); idle starts after them.
    tokio::time::sleep(window.min(Duration::from_secs(6))).await;
    let b0 = sent.load(Ordering::Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(window).await;
    let idle = (sent.load(Ordering::Relaxed) - b0) as f64 / t0.elapsed().as_secs_f64() / n as f64;

    let b1 = sent.load(Ordering::Relaxed);
    let t1 = Instant::now();
    let period = Duration::from_secs(1) / rate.max(1);
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut k = 0usize;
    while t1.elapsed() < window {
        ticker.tick().await;
        let origin = &nodes[k % n];
        origin.handle.broadcast("sil", origin.state.set(&format!("load-{k}"), 1));
        k += 1;
    }
    let elapsed = t1.elapsed().as_secs_f64();
    let load = (sent.load(Ordering::Relaxed) - b1) as f64 / elapsed / n as f64;
    drop(nodes);
    Ok(SimResult {
        nodes: n,
        join,
        spread_median_ms,
        spread_max_ms,
        idle_bytes_per_node_s: idle,
        load_bytes_per_node_s: load,
        load_rate: k as f64 / elapsed,
    })
}

pub async fn run(opts: &super::super::Options) -> Result<Measured> {
    let r = simulate(opts.sim_nodes, opts.propagation_runs.max(1), opts.sim_window, 100).await?;
    eprintln!("bench:   {} simulated nodes joined in {:?}", r.nodes, r.join);
    let n = r.nodes;
    let sample = |key: &str, label: String, unit, value| Sample {
        metric: Metric { key: key.into(), label, unit, target: None },
        value,
    };
    let mut m = Measured::default();
    m.samples.push(sample(
        "sim_spread_p50",
        format!("Simulated {n}-node cluster: change on every node, median"),
        Unit::Millis,
        r.spread_median_ms,
    ));
    m.samples.push(sample(
        "sim_spread_max",
        format!("Simulated {n}-node cluster: change on every node, max"),
        Unit::Millis,
        r.spread_max_ms,
    ));
    m.samples.push(sample(
        "sim_idle_bytes",
        format!("Simulated {n}-node cluster: bytes sent per node, idle"),
        Unit::BytesPerSecond,
        r.idle_bytes_per_node_s,
    ));
    m.samples.push(sample(
        "sim_load_bytes",
        format!("Simulated {n}-node cluster: bytes sent per node, {:.0} changes/s", r.load_rate),
        Unit::BytesPerSecond,
        r.load_bytes_per_node_s,
    ));
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lww_merges_newer_only() {
        let a = Lww::default();
        let b = Lww::default();
        let delta = a.set("s1", 2);
        assert_eq!(b.merge(&delta).expect("merge").len(), 1);
        assert!(b.merge(&delta).expect("merge again").is_empty(), "idempotent");
        let mut old = Vec::new();
        put(&mut old, "s1", 1, b"old");
        assert!(b.merge(&old).expect("older").is_empty());
        assert!(b.has("s1", 2));
        assert!(b.merge(&[0, 9, 1]).is_err());
        assert_eq!(parse(&a.full_state()).expect("full").len(), 1);
    }
}
