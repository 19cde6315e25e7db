//! The node loop: hosts foca (sans-io SWIM) on tokio time, disseminates deltas, runs push-pull, reconnect and
//! settle. One task owns all mutable membership state; other tasks talk to it through channels.

use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    num::{NonZeroU32, NonZeroUsize},
    sync::Arc,
    time::Duration,
};

use foca::{Foca, NoCustomBroadcast, OwnedNotification, PostcardCodec, Runtime, Timer};
use rand::{rngs::StdRng, seq::IndexedRandom, SeedableRng};
use tokio::{
    sync::{mpsc, oneshot},
    time::{self, Instant, MissedTickBehavior},
};

use crate::{
    context::{Ctx, Peer, Status, View},
    identity::NodeId,
    metrics::{PeerLabel, UPDATE},
    sync,
    wire::{Body, Channel, Delta, DropReason, Known, Part},
};

/// Requests from the handle to the node loop.
#[derive(Debug)]
pub(crate) enum Command {
    /// A local change to disseminate at once.
    Broadcast(Part),
    /// Announce departure, then stop.
    Leave(oneshot::Sender<()>),
}

/// Upstream requires the member count to be unchanged for this many polls before declaring the cluster settled.
const SETTLE_POLLS_OK: u32 = 3;
/// Digests keep being gossiped for an origin at least this many gossip ticks after its last change.
const MIN_DIGEST_TICKS: u32 = 10;
/// Peers a digest goes to per gossip tick, at most (fewer when `gossip_nodes` is smaller).
const DIGEST_FANOUT: usize = 3;
/// Bound on deltas pushed to one peer in answer to one digest (more follow on later ticks).
const MAX_REPAIR: usize = 64;
/// Encoded size of a delta beyond its key and data, with margin (two varint u64s, lengths).
const DELTA_OVERHEAD: usize = 26;
/// Encoded size of a digest entry beyond its `above` list, with margin.
const KNOWN_OVERHEAD: usize = 22;

/// What foca asked for during one call; drained right after.
#[derive(Debug, Default)]
struct Effects {
    sends: Vec<(NodeId, Vec<u8>)>,
    timers: Vec<(Timer<NodeId>, Duration)>,
    notifications: Vec<OwnedNotification<NodeId>>,
}

impl Runtime<NodeId> for Effects {
    fn notify(&mut self, notification: foca::Notification<'_, NodeId>) {
        self.notifications.push(notification.to_owned());
    }

    fn send_to(&mut self, to: NodeId, data: &[u8]) {
        self.sends.push((to, data.to_vec()));
    }

    fn submit_after(&mut self, event: Timer<NodeId>, after: Duration) {
        self.timers.push((event, after));
    }
}

/// Upstream's settle loop state (`Peer.Settle`).
#[derive(Debug, Default)]
struct Settle {
    done: bool,
    n_okay: u32,
    n_peers: usize,
}

type Swim = Foca<NodeId, PostcardCodec, StdRng, NoCustomBroadcast>;

pub(crate) struct Node {
    ctx: Arc<Ctx>,
    id: NodeId,
    foca: Swim,
    effects: Effects,
    timers: BTreeMap<(Instant, u64), Timer<NodeId>>,
    timer_seq: u64,
    rng: StdRng,
    /// Encoded datagrams (deltas) to send at the next flush.
    outbox: Vec<(SocketAddr, Vec<u8>)>,
    /// Peers to reconnect to, with the time they failed (or the start, for configured peers not yet seen).
    failed: HashMap<SocketAddr, Instant>,
    settle: Settle,
    commands: mpsc::UnboundedReceiver<Command>,
    datagrams: mpsc::Receiver<(SocketAddr, Vec<u8>)>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("id", &self.id).finish_non_exhaustive()
    }
}

/// foca's configuration from the `--cluster.*` flags.
pub(crate) fn foca_config(ctx: &Ctx) -> foca::Config {
    let c = &ctx.config;
    let size = u32::try_from(c.peers.len().saturating_add(1)).unwrap_or(u32::MAX).max(1);
    let size = NonZeroU32::new(size).unwrap_or(NonZeroU32::MIN);
    let mut config = foca::Config::new_lan(size);
    config.probe_period = c.probe_interval;
    config.probe_rtt = c.probe_timeout;
    // memberlist: SuspicionMult (4) × max(1, log10(n)) × probe interval.
    let scale = f64::from(size.get()).log10().max(1.0);
    config.suspect_to_down_after = c.probe_interval.mul_f64(4.0 * scale);
    let packet = c.max_datagram_size.saturating_sub(ctx.wire.overhead()).max(256);
    config.max_packet_size = NonZeroUsize::new(packet).unwrap_or(NonZeroUsize::MIN);
    let gossip_nodes = NonZeroUsize::new(c.gossip_nodes.max(1)).unwrap_or(NonZeroUsize::MIN);
    config.periodic_gossip =
        Some(foca::PeriodicParams { frequency: c.gossip_interval, num_members: gossip_nodes });
    config
}

impl Node {
    pub(crate) fn new(
        ctx: Arc<Ctx>,
        commands: mpsc::UnboundedReceiver<Command>,
        datagrams: mpsc::Receiver<(SocketAddr, Vec<u8>)>,
    ) -> Self {
        let id = NodeId { name: ctx.config.name.clone(), addr: ctx.advertise, bump: 0 };
        let seed = ctx.config.rng_seed;
        let foca_rng = seed.map(StdRng::seed_from_u64).unwrap_or_else(rand::make_rng);
        let rng =
            seed.map(|s| StdRng::seed_from_u64(s ^ 0x9e37_79b9_7f4a_7c15)).unwrap_or_else(rand::make_rng);
        let foca = Foca::new(id.clone(), foca_config(&ctx), foca_rng, PostcardCodec);
        Self {
            ctx,
            id,
            foca,
            effects: Effects::default(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            rng,
            outbox: Vec::new(),
            failed: HashMap::new(),
            settle: Settle::default(),
            commands,
            datagrams,
        }
    }

    /// Runs until `leave` or until the handle is gone.
    pub(crate) async fn run(mut self) {
        let config = self.ctx.config.clone();
        let start = Instant::now();
        let mut gossip = time::interval_at(start + config.gossip_interval, config.gossip_interval);
        let mut pushpull = time::interval_at(start + config.pushpull_interval, config.pushpull_interval);
        let mut reconnect = time::interval_at(start + config.reconnect_interval, config.reconnect_interval);
        let settle_every = config.gossip_interval * 10;
        let mut settle = time::interval_at(start + settle_every, settle_every);
        for ticker in [&mut gossip, &mut pushpull, &mut reconnect, &mut settle] {
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        }
        let settle_deadline = start + config.settle_timeout;

        for addr in self.resolve_peers().await {
            self.failed.insert(addr, start);
        }
        self.announce_failed(false);
        self.flush().await;

        loop {
            let next_timer = self.timers.keys().next().map(|(at, _)| *at);
            tokio::select! {
                _ = time::sleep_until(next_timer.unwrap_or(start)), if next_timer.is_some() => self.fire_timers(),
                datagram = self.datagrams.recv() => match datagram {
                    Some((from, bytes)) => self.on_datagram(from, &bytes),
                    None => break,
                },
                command = self.commands.recv() => match command {
                    Some(Command::Broadcast(part)) => self.broadcast_local(part),
                    Some(Command::Leave(done)) => {
                        if let Err(err) = self.foca.leave_cluster(&mut self.effects) {
                            tracing::debug!(%err, "leave failed");
                        }
                        self.flush().await;
                        let _ = done.send(());
                        break;
                    }
                    None => break,
                },
                _ = gossip.tick() => self.gossip_digest(),
                _ = pushpull.tick() => self.pushpull_random(),
                _ = reconnect.tick() => self.reconnect().await,
                _ = settle.tick(), if !self.settle.done => self.poll_settle(),
                _ = time::sleep_until(settle_deadline), if !self.settle.done => {
                    tracing::info!(elapsed = ?config.settle_timeout, "gossip not settled but continuing anyway");
                    self.settle.done = true;
                    self.ctx.status.send_replace(Status::Ready);
                }
            }
            self.flush().await;
        }
    }

    async fn resolve_peers(&self) -> Vec<SocketAddr> {
        let mut out = Vec::new();
        for peer in &self.ctx.config.peers {
            match time::timeout(Duration::from_secs(5), tokio::net::lookup_host(peer.as_str())).await {
                Ok(Ok(addrs)) => out.extend(
                    addrs.filter(|a| *a != self.ctx.advertise && *a != self.ctx.transport.local_addr()),
                ),
                Ok(Err(err)) => tracing::warn!(peer = %peer, %err, "failed to resolve peer"),
                Err(_) => tracing::warn!(peer = %peer, "timed out resolving peer"),
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let timer = entry.remove();
            if let Err(err) = self.foca.handle_timer(timer, &mut self.effects) {
                tracing::debug!(%err, "membership timer failed");
            }
        }
    }

    fn on_datagram(&mut self, from: SocketAddr, bytes: &[u8]) {
        let incoming = match self.ctx.wire.decode(Channel::Datagram, bytes) {
            Ok(incoming) => incoming,
            Err(reason) => {
                self.ctx.metrics.drop_message(reason);
                tracing::debug!(%from, reason = reason.as_str(), "dropped cluster datagram");
                return;
            }
        };
        match incoming.body {
            Body::Swim(data) => {
                if let Err(err) = self.foca.handle_data(&data, &mut self.effects) {
                    tracing::debug!(%from, sender = %incoming.sender, %err, "membership message rejected");
                }
            }
            Body::Deltas(deltas) => {
                let size = deltas.iter().map(|d| d.part.data.len()).sum();
                self.ctx.metrics.count_received(&UPDATE, size);
                if sync::merge_deltas(&self.ctx, deltas) > 0 {
                    self.ctx.metrics.queued.set(self.ctx.log.lock().len() as i64);
                }
            }
            Body::Digest { known, reply } => self.on_digest(&incoming.sender, &known, reply),
            Body::PushPull { .. } => self.ctx.metrics.drop_message(DropReason::Malformed),
        }
    }

    /// Live members other than this node.
    fn live(&self) -> Vec<NodeId> {
        let mut ids: Vec<NodeId> = self.foca.iter_members().map(|m| m.id().clone()).collect();
        ids.sort_by(|a, b| (&a.name, b.bump).cmp(&(&b.name, a.bump)));
        ids.dedup_by(|a, b| a.name == b.name);
        ids.retain(|id| !id.name.is_empty() && id.name != self.id.name);
        ids
    }

    /// Ticks an origin stays in the digests after its last change: `retransmit_mult × ceil(log10(n + 1))` (how
    /// long memberlist keeps retransmitting a broadcast), at least [`MIN_DIGEST_TICKS`].
    fn digest_window(&self) -> Duration {
        let n = self.foca.num_members() + 1;
        let scale = (n as f64 + 1.0).log10().ceil().max(1.0) as u32;
        let mult = u32::try_from(self.ctx.config.retransmit_mult.max(1)).unwrap_or(u32::MAX);
        let ticks = mult.saturating_mul(scale).max(MIN_DIGEST_TICKS);
        self.ctx.config.gossip_interval.saturating_mul(ticks)
    }

    /// A local change: numbered, then sent once, at once, to every live member (reliably if too big for a
    /// datagram). Receivers do not relay it; digests repair whatever a member missed.
    fn broadcast_local(&mut self, part: Part) {
        let delta = self.ctx.log.lock().local(part, Instant::now());
        self.ctx.metrics.queued.set(self.ctx.log.lock().len() as i64);
        let live = self.live();
        let size = delta.part.data.len();
        let packet = self.ctx.wire.encode(Channel::Datagram, Body::Deltas(vec![delta.clone()]));
        if packet.len() > self.ctx.config.max_datagram_size {
            for member in live {
                self.spawn_reliable(member.addr, vec![delta.clone()]);
            }
            return;
        }
        for member in &live {
            self.send_datagram(member.addr, packet.clone(), size);
        }
    }

    /// Gossip tick: tells a few random members what this node knows of the recently active origins.
    fn gossip_digest(&mut self) {
        let known = self.ctx.log.lock().digest(Instant::now(), self.digest_window());
        if known.is_empty() {
            return;
        }
        let live = self.live();
        let fanout = self.ctx.config.gossip_nodes.clamp(1, DIGEST_FANOUT);
        let targets: Vec<SocketAddr> = live.sample(&mut self.rng, fanout).map(|m| m.addr).collect();
        for chunk in self.chunk_known(known) {
            let packet = self.ctx.wire.encode(Channel::Datagram, Body::Digest { known: chunk, reply: true });
            for to in &targets {
                self.outbox.push((*to, packet.clone()));
            }
        }
    }

    /// A peer's digest: push the recent deltas it lacks; if it asks, tell it where it knows more than we do.
    fn on_digest(&mut self, sender: &str, known: &[Known], reply: bool) {
        // Answer members only, at their advertised address: a forged source address must not turn a small
        // digest into a flood at a victim.
        let Some(from) = self.live().into_iter().find(|m| m.name == sender).map(|m| m.addr) else {
            return;
        };
        let (missing, lacking) = {
            let log = self.ctx.log.lock();
            let lacking = if reply { log.lacking(known, Instant::now()) } else { Vec::new() };
            (log.missing_for(known, MAX_REPAIR), lacking)
        };
        if !missing.is_empty() {
            self.ctx.metrics.propagated.inc_by(missing.len() as u64);
            self.send_deltas(from, missing);
        }
        for chunk in self.chunk_known(lacking) {
            let packet = self.ctx.wire.encode(Channel::Datagram, Body::Digest { known: chunk, reply: false });
            self.outbox.push((from, packet));
        }
    }

    /// Splits digest entries into datagram-sized chunks.
    fn chunk_known(&self, known: Vec<Known>) -> Vec<Vec<Known>> {
        let budget = self.ctx.config.max_datagram_size.saturating_sub(self.ctx.wire.overhead());
        let mut chunks = Vec::new();
        let mut chunk = Vec::new();
        let mut used = 0;
        for k in known {
            let cost = KNOWN_OVERHEAD + 10 * k.above.len();
            if !chunk.is_empty() && used + cost > budget {
                chunks.push(std::mem::take(&mut chunk));
                used = 0;
            }
            used += cost;
            chunk.push(k);
        }
        if !chunk.is_empty() {
            chunks.push(chunk);
        }
        chunks
    }

    /// Sends deltas to one peer, packed into datagrams; a delta too big for one goes over a stream.
    fn send_deltas(&mut self, to: SocketAddr, deltas: Vec<Delta>) {
        let budget = self.ctx.config.max_datagram_size.saturating_sub(self.ctx.wire.overhead());
        let mut batch: Vec<Delta> = Vec::new();
        let mut used = 0;
        for delta in deltas {
            let cost = delta.part.key.len() + delta.part.data.len() + DELTA_OVERHEAD;
            if cost > budget {
                self.spawn_reliable(to, vec![delta]);
                continue;
            }
            if !batch.is_empty() && used + cost > budget {
                self.send_batch(to, std::mem::take(&mut batch));
                used = 0;
            }
            used += cost;
            batch.push(delta);
        }
        if !batch.is_empty() {
            self.send_batch(to, batch);
        }
    }

    fn send_batch(&mut self, to: SocketAddr, batch: Vec<Delta>) {
        let size = batch.iter().map(|d| d.part.data.len()).sum();
        let packet = self.ctx.wire.encode(Channel::Datagram, Body::Deltas(batch));
        self.send_datagram(to, packet, size);
    }

    fn spawn_reliable(&self, to: SocketAddr, deltas: Vec<Delta>) {
        let key = deltas.first().map(|d| d.part.key.clone()).unwrap_or_default();
        match self.ctx.reliable_slots.clone().try_acquire_owned() {
            Ok(permit) => {
                let ctx = self.ctx.clone();
                tokio::spawn(async move {
                    if let Err(err) = sync::send_reliable(ctx, to, deltas).await {
                        tracing::debug!(%to, %err, "reliable delta send failed");
                    }
                    drop(permit);
                });
            }
            Err(_) => {
                self.ctx.metrics.oversized_dropped.get_or_create(&crate::metrics::KeyLabel { key }).inc();
            }
        }
    }

    fn send_datagram(&mut self, to: SocketAddr, packet: Vec<u8>, size: usize) {
        self.ctx.metrics.count_sent(&UPDATE, size);
        self.outbox.push((to, packet));
    }

    fn pushpull_random(&mut self) {
        let live = self.live();
        if let Some(member) = live.choose(&mut self.rng) {
            self.spawn_pushpull(member.addr);
        }
    }

    fn spawn_pushpull(&self, to: SocketAddr) {
        let ctx = self.ctx.clone();
        tokio::spawn(async move {
            if let Err(err) = sync::push_pull(ctx, to).await {
                tracing::debug!(%to, %err, "push-pull failed");
            }
        });
    }

    /// Reconnect tick: forget peers failed for longer than the reconnect timeout, announce to the others and to
    /// configured peers that are not members (upstream's reconnect and refresh loops).
    async fn reconnect(&mut self) {
        let now = Instant::now();
        let timeout = self.ctx.config.reconnect_timeout;
        self.failed.retain(|_, since| now.duration_since(*since) < timeout);
        let live: Vec<SocketAddr> = self.live().iter().map(|m| m.addr).collect();
        for addr in self.resolve_peers().await {
            if !live.contains(&addr) {
                self.failed.entry(addr).or_insert(now);
            }
        }
        self.announce_failed(true);
    }

    fn announce_failed(&mut self, count: bool) {
        let mut targets: Vec<SocketAddr> = self.failed.keys().copied().collect();
        targets.sort();
        for addr in targets {
            if count {
                self.ctx.metrics.reconnections.inc();
            }
            if let Err(err) = self.foca.announce(NodeId::placeholder(addr), &mut self.effects) {
                tracing::debug!(%addr, %err, "announce failed");
            }
        }
        self.ctx.metrics.failed_peers.set(self.failed.len() as i64);
    }

    /// One settle poll, exactly upstream's algorithm: ready once the member count was unchanged for 3 polls.
    fn poll_settle(&mut self) {
        let n = self.ctx.view.read().peers.len();
        if self.settle.n_okay >= SETTLE_POLLS_OK {
            tracing::info!(peers = n, "gossip settled; proceeding");
            self.settle.done = true;
            self.ctx.status.send_replace(Status::Ready);
            return;
        }
        if n == self.settle.n_peers {
            self.settle.n_okay += 1;
        } else {
            self.settle.n_okay = 0;
        }
        self.settle.n_peers = n;
    }

    /// Applies what foca asked for: datagrams, timers, notifications; then refreshes the membership view.
    async fn flush(&mut self) {
        loop {
            let effects = std::mem::take(&mut self.effects);
            if effects.sends.is_empty() && effects.timers.is_empty() && effects.notifications.is_empty() {
                break;
            }
            let now = Instant::now();
            for (timer, after) in effects.timers {
                self.timer_seq += 1;
                self.timers.insert((now + after, self.timer_seq), timer);
            }
            for notification in effects.notifications {
                self.on_notification(notification);
            }
            for (to, data) in effects.sends {
                let packet = self.ctx.wire.encode(Channel::Datagram, Body::Swim(data));
                self.outbox.push((to.addr, packet));
            }
            for (to, packet) in std::mem::take(&mut self.outbox) {
                if let Err(err) = self.ctx.transport.send_to(to, &packet).await {
                    tracing::debug!(%to, %err, "datagram send failed");
                }
            }
        }
        for (to, packet) in std::mem::take(&mut self.outbox) {
            if let Err(err) = self.ctx.transport.send_to(to, &packet).await {
                tracing::debug!(%to, %err, "datagram send failed");
            }
        }
        self.refresh_view();
    }

    fn on_notification(&mut self, notification: OwnedNotification<NodeId>) {
        match notification {
            OwnedNotification::MemberUp(id) => {
                tracing::debug!(peer = %id.name, addr = %id.addr, "peer joined");
                self.ctx.metrics.peers_joined.inc();
                self.failed.remove(&id.addr);
                self.ctx.metrics.failed_peers.set(self.failed.len() as i64);
                self.spawn_pushpull(id.addr);
            }
            OwnedNotification::MemberDown(id) => {
                tracing::debug!(peer = %id.name, addr = %id.addr, "peer failed");
                self.ctx.metrics.peers_left.inc();
                self.failed.insert(id.addr, Instant::now());
                self.ctx.metrics.failed_peers.set(self.failed.len() as i64);
            }
            OwnedNotification::Rejoin(id) => {
                tracing::info!(bump = id.bump, "rejoined the cluster after being declared down")
            }
            OwnedNotification::Defunct => tracing::warn!("declared down by the cluster"),
            other => tracing::trace!(?other, "membership notification"),
        }
    }

    fn refresh_view(&mut self) {
        let mut peers: Vec<Peer> =
            self.live().into_iter().map(|id| Peer { name: id.name, address: id.addr }).collect();
        peers.push(Peer { name: self.id.name.clone(), address: self.id.addr });
        peers.sort();
        let position = peers.iter().position(|p| p.name == self.id.name).unwrap_or(0);
        let mut view = self.ctx.view.write();
        if view.peers == peers {
            return;
        }
        let metrics = &self.ctx.metrics;
        metrics.members.set(peers.len() as i64);
        metrics.position.set(position as i64);
        metrics.peer_info.clear();
        for peer in &peers {
            metrics.peer_info.get_or_create(&PeerLabel { peer: peer.name.clone() }).set(1);
        }
        *view = View { peers, position };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// foca must reject, never panic on, garbage that passed the envelope checks (an authenticated but buggy or
    /// hostile peer).
    #[test]
    fn membership_survives_garbage() {
        let addr: SocketAddr = "10.0.0.1:9094".parse().expect("literal");
        let id = NodeId { name: "N".into(), addr, bump: 0 };
        let mut foca: Swim = Foca::new(id, foca::Config::simple(), StdRng::seed_from_u64(1), PostcardCodec);
        let mut effects = Effects::default();
        let mut x = 0x9e37_79b9_u64;
        for len in 0..2000usize {
            let garbage: Vec<u8> = (0..len % 300)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let _ = foca.handle_data(&garbage, &mut effects);
        }
        assert_eq!(foca.num_members(), 0);
    }
}
