//! An in-memory network for tests: datagrams with seeded random loss, partitions, streams as in-memory pipes.
//!
//! Deterministic under `#[tokio::test(start_paused = true)]`: nothing here reads the clock, and the loss RNG is
//! seeded.

use std::{
    collections::HashMap,
    io,
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use async_trait::async_trait;
use parking_lot::Mutex;
use rand::{rngs::StdRng, RngExt, SeedableRng};
use tokio::{
    io::DuplexStream,
    sync::{mpsc, Mutex as AsyncMutex},
};

use crate::transport::{BoxStream, Transport};

/// Buffer size of each in-memory stream direction.
const PIPE_BUFFER: usize = 256 * 1024;

type Datagram = (SocketAddr, Vec<u8>);
type Incoming = (SocketAddr, DuplexStream);

#[derive(Debug)]
struct Endpoint {
    generation: u64,
    datagrams: mpsc::UnboundedSender<Datagram>,
    streams: mpsc::UnboundedSender<Incoming>,
}

#[derive(Debug)]
struct NetState {
    endpoints: HashMap<SocketAddr, Endpoint>,
    rng: StdRng,
    loss: f64,
    /// Partition group per address; addresses in different groups cannot talk. Unlisted addresses are group 0.
    groups: HashMap<SocketAddr, usize>,
    delivered: u64,
    lost: u64,
    /// Delivered datagrams, recorded while capturing (for replay tests).
    capture: Option<Vec<(SocketAddr, SocketAddr, Vec<u8>)>>,
}

impl NetState {
    fn reachable(&self, from: SocketAddr, to: SocketAddr) -> bool {
        self.groups.get(&from).copied().unwrap_or(0) == self.groups.get(&to).copied().unwrap_or(0)
    }
}

/// A shared in-memory network; clone it freely.
#[derive(Debug, Clone)]
pub struct MemNetwork {
    state: Arc<Mutex<NetState>>,
    generations: Arc<AtomicU64>,
}

impl MemNetwork {
    /// A lossless, unpartitioned network whose loss decisions come from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: Arc::new(Mutex::new(NetState {
                endpoints: HashMap::new(),
                rng: StdRng::seed_from_u64(seed),
                loss: 0.0,
                groups: HashMap::new(),
                delivered: 0,
                lost: 0,
                capture: None,
            })),
            generations: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Drops each datagram with probability `loss` (streams stay reliable, like TCP).
    pub fn set_loss(&self, loss: f64) {
        self.state.lock().loss = loss.clamp(0.0, 1.0);
    }

    /// Splits the network: addresses in different groups cannot exchange datagrams or open streams.
    pub fn partition(&self, groups: &[&[SocketAddr]]) {
        let mut state = self.state.lock();
        state.groups.clear();
        for (i, group) in groups.iter().enumerate() {
            for addr in *group {
                state.groups.insert(*addr, i + 1);
            }
        }
    }

    /// Removes all partitions.
    pub fn heal(&self) {
        self.state.lock().groups.clear();
    }

    /// Starts recording delivered datagrams (from, to, bytes), discarding earlier recordings.
    pub fn start_capture(&self) {
        self.state.lock().capture = Some(Vec::new());
    }

    /// Stops recording and returns what was delivered since [`MemNetwork::start_capture`].
    pub fn take_capture(&self) -> Vec<(SocketAddr, SocketAddr, Vec<u8>)> {
        self.state.lock().capture.take().unwrap_or_default()
    }

    /// Datagrams delivered and lost so far.
    pub fn datagram_counts(&self) -> (u64, u64) {
        let state = self.state.lock();
        (state.delivered, state.lost)
    }

    /// Binds `addr`, replacing any previous endpoint there (a restarted node).
    pub fn bind(&self, addr: SocketAddr) -> MemTransport {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let (dtx, drx) = mpsc::unbounded_channel();
        let (stx, srx) = mpsc::unbounded_channel();
        self.state.lock().endpoints.insert(addr, Endpoint { generation, datagrams: dtx, streams: stx });
        MemTransport {
            net: self.clone(),
            addr,
            generation,
            datagrams: AsyncMutex::new(drx),
            streams: AsyncMutex::new(srx),
        }
    }

    /// Delivers raw bytes to `to` as if sent from `from` (for garbage and replay tests); subject to loss.
    pub fn inject_datagram(&self, from: SocketAddr, to: SocketAddr, packet: &[u8]) {
        let mut state = self.state.lock();
        if !state.reachable(from, to) {
            return;
        }
        let loss = state.loss;
        if loss > 0.0 && state.rng.random_bool(loss) {
            state.lost += 1;
            return;
        }
        if let Some(endpoint) = state.endpoints.get(&to) {
            if endpoint.datagrams.send((from, packet.to_vec())).is_ok() {
                state.delivered += 1;
                if let Some(captured) = &mut state.capture {
                    captured.push((from, to, packet.to_vec()));
                }
            }
        }
    }

    /// Opens a stream to `to` as if from `from`.
    pub fn connect(&self, from: SocketAddr, to: SocketAddr) -> io::Result<DuplexStream> {
        let state = self.state.lock();
        if !state.reachable(from, to) {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "partitioned"));
        }
        let endpoint = state
            .endpoints
            .get(&to)
            .ok_or_else(|| io::Error::new(io::ErrorKind::ConnectionRefused, "no listener"))?;
        let (ours, theirs) = tokio::io::duplex(PIPE_BUFFER);
        endpoint
            .streams
            .send((from, theirs))
            .map_err(|_| io::Error::new(io::ErrorKind::ConnectionRefused, "listener closed"))?;
        Ok(ours)
    }

    fn unbind(&self, addr: SocketAddr, generation: u64) {
        let mut state = self.state.lock();
        if state.endpoints.get(&addr).is_some_and(|e| e.generation == generation) {
            state.endpoints.remove(&addr);
        }
    }
}

/// One node's endpoint on a [`MemNetwork`]; dropping it unbinds the address (a crash).
#[derive(Debug)]
pub struct MemTransport {
    net: MemNetwork,
    addr: SocketAddr,
    generation: u64,
    datagrams: AsyncMutex<mpsc::UnboundedReceiver<Datagram>>,
    streams: AsyncMutex<mpsc::UnboundedReceiver<Incoming>>,
}

impl Drop for MemTransport {
    fn drop(&mut self) {
        self.net.unbind(self.addr, self.generation);
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "endpoint closed")
}

#[async_trait]
impl Transport for MemTransport {
    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    async fn send_to(&self, to: SocketAddr, packet: &[u8]) -> io::Result<()> {
        self.net.inject_datagram(self.addr, to, packet);
        Ok(())
    }

    async fn recv_from(&self) -> io::Result<(SocketAddr, Vec<u8>)> {
        self.datagrams.lock().await.recv().await.ok_or_else(closed)
    }

    async fn connect(&self, to: SocketAddr) -> io::Result<BoxStream> {
        Ok(Box::new(self.net.connect(self.addr, to)?))
    }

    async fn accept(&self) -> io::Result<(SocketAddr, BoxStream)> {
        let (from, stream) = self.streams.lock().await.recv().await.ok_or_else(closed)?;
        Ok((from, Box::new(stream)))
    }
}
