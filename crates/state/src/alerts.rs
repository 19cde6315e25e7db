//! The alert store (`provider/mem` + `store.Alerts`): every alert posted by Prometheus, its status marker, garbage
//! collection of resolved alerts, and the subscriptions through which the dispatcher and the inhibitor see every put.
//!
//! Ingest is the hot path (batches of 1000 alerts from several connections at once). The store is therefore split
//! into [`SHARDS`] shards, each a `parking_lot::RwLock` around a hash table of alerts found by fingerprint with a
//! cheap mixing hasher (the fingerprint already is an FNV hash, so SipHash would only cost time). Two puts contend only when their
//! fingerprints land in the same shard; 32 shards keep that rare for any realistic core count while a full scan
//! (API reads, GC, counts) stays 32 short lock acquisitions. Alerts are stored as `Arc<Alert>`: a put moves the
//! alert in once, subscribers and readers share it, and nothing on the path clones labels. No lock is ever held
//! across an `.await` (the store has no async method at all).
//!
//! Memory: at 100k alerts the map slots are a tenth of the store, so a slot is 24 bytes: the fingerprint, the
//! alert pointer and a packed marker (`Meta`); the full marker of a silenced, inhibited or muted alert lives in
//! a small side map of its shard. The fingerprint stays in the slot although it could be recomputed from the
//! labels: `GET /api/v2/alerts` needs it for every alert, and recomputing it there cost ~15% of the request.

use crate::marker::{AlertState, Marker};
use chrono::{DateTime, Utc};
use hashbrown::HashTable;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tocsin_model::clock::SharedClock;
use tocsin_model::time::{utc, Timestamp};
use tocsin_model::{Alert, Fingerprint};
use tokio::sync::mpsc;

/// Number of shards; a power of two so the shard index is a mask.
pub const SHARDS: usize = 32;

/// What `put` did with the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// No alert with this fingerprint was stored.
    Created,
    /// An alert existed but its interval did not overlap: the new one replaced it.
    Replaced,
    /// The intervals overlapped: the stored alert is `types.Alert.Merge` of both.
    Merged,
}

/// Non-resolved alerts by marker state, for `alertmanager_alerts{state}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlertCounts {
    pub active: usize,
    pub suppressed: usize,
    pub unprocessed: usize,
}

/// One slot of a shard's table: 24 bytes.
#[derive(Debug)]
struct Entry {
    fp: Fingerprint,
    alert: Arc<Alert>,
    meta: Meta,
}

/// A [`Marker`] packed into a word: most alerts are neither silenced, inhibited nor muted, so their marker is a
/// state and a silences version. Bit 0 says the marker has lists (or a version too large to pack) and is kept
/// whole in [`ShardMap::full`]; bits 1-2 are the state; the rest is the silences version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Meta(u64);

impl Meta {
    const FULL: u64 = 1;
    const MAX_VERSION: u64 = u64::MAX >> 3;

    /// The packed form of `m`, or `None` if it has to be kept whole.
    fn pack(m: &Marker) -> Option<Meta> {
        let plain = m.silenced_by.is_empty()
            && m.inhibited_by.is_empty()
            && m.muted_by.is_empty()
            && m.pending_silences.is_empty()
            && m.silences_version <= Self::MAX_VERSION;
        let state = match m.state {
            AlertState::Unprocessed => 0,
            AlertState::Active => 1,
            AlertState::Suppressed => 2,
        };
        plain.then_some(Meta((m.silences_version << 3) | (state << 1)))
    }

    fn is_full(self) -> bool {
        self.0 & Self::FULL != 0
    }

    /// The marker of a packed meta (lists empty, which allocates nothing).
    fn unpack(self) -> Marker {
        let state = match (self.0 >> 1) & 3 {
            1 => AlertState::Active,
            2 => AlertState::Suppressed,
            _ => AlertState::Unprocessed,
        };
        Marker { state, silences_version: self.0 >> 3, ..Marker::default() }
    }
}

/// The contents of one shard.
#[derive(Debug, Default)]
struct ShardMap {
    table: HashTable<Entry>,
    /// Whole markers of the entries whose [`Meta`] is full.
    full: HashMap<Fingerprint, Marker, BuildHasherDefault<FingerprintHasher>>,
}

impl ShardMap {
    fn find(&self, fp: Fingerprint) -> Option<&Entry> {
        self.table.find(hash_fp(fp), |e| e.fp == fp)
    }

    /// Runs `f` on the entry's marker without copying its lists.
    fn with_marker<R>(&self, fp: Fingerprint, e: &Entry, f: impl FnOnce(&Marker) -> R) -> R {
        match e.meta.is_full().then(|| self.full.get(&fp)).flatten() {
            Some(m) => f(m),
            None => f(&e.meta.unpack()),
        }
    }

    fn marker(&self, fp: Fingerprint, e: &Entry) -> Marker {
        self.with_marker(fp, e, Marker::clone)
    }
}

fn hash_fp(fp: Fingerprint) -> u64 {
    let mut h = FingerprintHasher::default();
    h.write_u64(fp.0);
    h.finish()
}

/// The hash of a stored entry, for when the table grows.
fn hash_entry(e: &Entry) -> u64 {
    hash_fp(e.fp)
}

/// Hashes a [`Fingerprint`] by folding a 64×64→128 multiply, so both the high bits (hashbrown's tags) and the low
/// bits (bucket index) are well mixed, without running SipHash over a value that is already a hash.
#[derive(Debug, Default, Clone, Copy)]
pub struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        let m = u128::from(self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
        (m as u64) ^ ((m >> 64) as u64)
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only reached for non-u64 keys; a plain FNV-1a keeps it correct.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

type Shard = RwLock<ShardMap>;

/// The in-memory alert store with per-alert markers.
#[derive(Debug)]
pub struct AlertStore {
    shards: Box<[Shard]>,
    /// One sender per subscriber. Lock order: a shard lock, then this one (see [`AlertStore::subscribe`]).
    subscribers: RwLock<Vec<mpsc::UnboundedSender<Arc<Alert>>>>,
    /// Set when a send failed, so the next subscribe/GC prunes closed subscribers off the hot path.
    has_closed: AtomicBool,
    clock: SharedClock,
}

/// A stream of every alert stored after subscribing, preceded by the alerts stored before
/// (`provider.AlertIterator` of upstream's `Subscribe`).
///
/// The channel is unbounded on purpose: `put` is synchronous and must never stall ingest on a slow consumer
/// (upstream blocks the poster instead). Memory grows only by the consumer's lag.
#[derive(Debug)]
pub struct AlertSubscription {
    rx: mpsc::UnboundedReceiver<Arc<Alert>>,
}

impl AlertSubscription {
    /// The next alert, or `None` once the store is dropped.
    pub async fn recv(&mut self) -> Option<Arc<Alert>> {
        self.rx.recv().await
    }

    /// The next alert if one is queued.
    pub fn try_recv(&mut self) -> Option<Arc<Alert>> {
        self.rx.try_recv().ok()
    }

    pub fn into_inner(self) -> mpsc::UnboundedReceiver<Arc<Alert>> {
        self.rx
    }
}

/// The overlap test of `mem.Alerts.Put`: the new interval starts or ends strictly inside the old one.
pub fn overlaps(old: &Alert, new: &Alert) -> bool {
    (new.ends_at > old.starts_at && new.ends_at < old.ends_at)
        || (new.starts_at > old.starts_at && new.starts_at < old.ends_at)
}

/// `types.Alert.Merge` (0.25-0.28), with the resolved checks evaluated at `now`.
///
/// The alert with the newer `updated_at` supplies everything (labels, annotations, generator URL, timeout flag);
/// the earliest `starts_at` wins; if the newer alert is resolved, the older `ends_at` is taken only when the older
/// is resolved too and ended later; if the newer is firing, the older `ends_at` is taken when it is later and was
/// not derived from `resolve_timeout`.
pub fn merge(old: &Alert, new: Alert, now: Timestamp) -> Alert {
    if new.updated_at < old.updated_at {
        merge_older_into(&new, old.clone(), now)
    } else {
        merge_older_into(old, new, now)
    }
}

/// `a.Merge(o)` with `o` already known to be the younger alert; `res` starts as `o`.
fn merge_older_into(a: &Alert, mut res: Alert, now: Timestamp) -> Alert {
    if a.starts_at < res.starts_at {
        res.starts_at = a.starts_at;
    }
    // `res.ends_at` still equals `o.EndsAt` here: starts_at is the only field changed so far.
    if res.resolved_at(now) {
        if a.resolved_at(now) && a.ends_at > res.ends_at {
            res.ends_at = a.ends_at;
        }
    } else if a.ends_at > res.ends_at && !a.timeout {
        res.ends_at = a.ends_at;
    }
    res
}

impl AlertStore {
    pub fn new(clock: SharedClock) -> Self {
        let shards = (0..SHARDS).map(|_| Shard::default()).collect::<Vec<_>>().into_boxed_slice();
        Self { shards, subscribers: RwLock::new(Vec::new()), has_closed: AtomicBool::new(false), clock }
    }

    #[inline]
    fn shard(&self, fp: Fingerprint) -> &Shard {
        // FNV's low bits are well distributed; fold in the high half so both contribute.
        let i = ((fp.0 ^ (fp.0 >> 32)) as usize) & (SHARDS - 1);
        &self.shards[i]
    }

    /// Stores `alert` at the clock's current time; see [`AlertStore::put_at`].
    pub fn put(&self, alert: Alert) -> PutOutcome {
        self.put_at(alert, self.clock.now())
    }

    /// `mem.Alerts.Put` for one alert: merge with an overlapping stored alert of the same fingerprint, else
    /// replace it; keep its marker; hand the stored alert to every subscriber.
    ///
    /// Subscribers are fed while the shard lock is held, so each subscriber sees puts of one fingerprint in the
    /// order they were stored, and [`AlertStore::subscribe`] can take a consistent snapshot.
    pub fn put_at(&self, alert: Alert, now: DateTime<Utc>) -> PutOutcome {
        let fp = alert.fingerprint();
        let now = utc(now);
        let mut shard = self.shard(fp).write();
        let hash = hash_fp(fp);
        let found = shard.table.find_mut(hash, |e| e.fp == fp);
        let (stored, outcome) = match found {
            Some(entry) => {
                let (merged, outcome) = if overlaps(&entry.alert, &alert) {
                    (merge(&entry.alert, alert, now), PutOutcome::Merged)
                } else {
                    (alert, PutOutcome::Replaced)
                };
                entry.alert = Arc::new(merged);
                (Arc::clone(&entry.alert), outcome)
            }
            None => {
                let stored = Arc::new(alert);
                shard.table.insert_unique(
                    hash,
                    Entry { fp, alert: Arc::clone(&stored), meta: Meta::default() },
                    hash_entry,
                );
                (stored, PutOutcome::Created)
            }
        };
        self.publish(stored);
        drop(shard);
        outcome
    }

    fn publish(&self, alert: Arc<Alert>) {
        let subs = self.subscribers.read();
        for tx in subs.iter() {
            if tx.send(Arc::clone(&alert)).is_err() {
                self.has_closed.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Subscribes to stored alerts. The current alerts are queued first, then every later put, with no gap and no
    /// duplicate: all shards are read-locked while the snapshot is taken and the subscriber registered.
    pub fn subscribe(&self) -> AlertSubscription {
        let (tx, rx) = mpsc::unbounded_channel();
        let guards: Vec<_> = self.shards.iter().map(|s| s.read()).collect();
        for shard in &guards {
            for entry in shard.table.iter() {
                // The receiver is alive right here, so this cannot fail; ignoring keeps it panic-free anyway.
                let _ = tx.send(Arc::clone(&entry.alert));
            }
        }
        let mut subs = self.subscribers.write();
        if self.has_closed.swap(false, Ordering::Relaxed) {
            subs.retain(|s| !s.is_closed());
        }
        subs.push(tx);
        drop(subs);
        drop(guards);
        AlertSubscription { rx }
    }

    /// The stored alert with this fingerprint.
    pub fn get(&self, fp: Fingerprint) -> Option<Arc<Alert>> {
        self.shard(fp).read().find(fp).map(|e| Arc::clone(&e.alert))
    }

    /// The stored alert and a copy of its marker.
    pub fn get_with_status(&self, fp: Fingerprint) -> Option<(Arc<Alert>, Marker)> {
        let shard = self.shard(fp).read();
        shard.find(fp).map(|e| (Arc::clone(&e.alert), shard.marker(fp, e)))
    }

    /// `Marker.Status`: the marker of a stored alert, `unprocessed` with empty lists for an unknown fingerprint.
    pub fn status(&self, fp: Fingerprint) -> Marker {
        let shard = self.shard(fp).read();
        shard.find(fp).map(|e| shard.marker(fp, e)).unwrap_or_default()
    }

    /// Calls `f` for every stored alert (resolved ones included, until GC) with its marker, without cloning.
    /// Order is unspecified. `f` runs under a shard read lock: it must not call back into this store.
    pub fn for_each(&self, mut f: impl FnMut(Fingerprint, &Arc<Alert>, &Marker)) {
        for shard in self.shards.iter() {
            let shard = shard.read();
            for e in shard.table.iter() {
                shard.with_marker(e.fp, e, |m| f(e.fp, &e.alert, m));
            }
        }
    }

    /// All stored alerts (shared, not copied).
    pub fn snapshot(&self) -> Vec<Arc<Alert>> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|_, a, _| out.push(Arc::clone(a)));
        out
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().table.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.read().table.is_empty())
    }

    /// Runs `f` on the marker of a stored alert; returns false (and does nothing) for an unknown fingerprint, so
    /// the pipeline cannot leak markers of alerts already collected.
    pub fn update_marker(&self, fp: Fingerprint, f: impl FnOnce(&mut Marker)) -> bool {
        let mut shard = self.shard(fp).write();
        let ShardMap { table, full } = &mut *shard;
        let Some(e) = table.find_mut(hash_fp(fp), |e| e.fp == fp) else {
            return false;
        };
        let mut m = match e.meta.is_full().then(|| full.remove(&fp)).flatten() {
            Some(m) => m,
            None => e.meta.unpack(),
        };
        f(&mut m);
        match Meta::pack(&m) {
            Some(meta) => e.meta = meta,
            None => {
                e.meta = Meta(Meta::FULL);
                full.insert(fp, m);
            }
        }
        true
    }

    /// `Marker.SetActiveOrSilenced`.
    pub fn set_silenced(
        &self,
        fp: Fingerprint,
        version: u64,
        active: Vec<String>,
        pending: Vec<String>,
    ) -> bool {
        self.update_marker(fp, |m| m.set_silenced(version, active, pending))
    }

    /// `Marker.SetInhibited`.
    pub fn set_inhibited(&self, fp: Fingerprint, ids: Vec<String>) -> bool {
        self.update_marker(fp, |m| m.set_inhibited(ids))
    }

    /// Records the time intervals muting the alert (0.28 `mutedBy`).
    pub fn set_muted(&self, fp: Fingerprint, names: Vec<String>) -> bool {
        self.update_marker(fp, |m| m.set_muted(names))
    }

    /// Deletes alerts resolved at `now` together with their markers; returns their fingerprints.
    pub fn gc(&self, now: DateTime<Utc>) -> Vec<Fingerprint> {
        let now = utc(now);
        let mut removed = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.write();
            let ShardMap { table, full } = &mut *shard;
            table.retain(|e| {
                let keep = !e.alert.resolved_at(now);
                if !keep {
                    if e.meta.is_full() {
                        full.remove(&e.fp);
                    }
                    removed.push(e.fp);
                }
                keep
            });
        }
        if self.has_closed.swap(false, Ordering::Relaxed) {
            self.subscribers.write().retain(|s| !s.is_closed());
        }
        removed
    }

    /// Non-resolved alerts at `now` by marker state (`alertmanager_alerts{state}`).
    pub fn counts(&self, now: DateTime<Utc>) -> AlertCounts {
        let now = utc(now);
        let mut c = AlertCounts::default();
        self.for_each(|_, a, m| {
            if a.resolved_at(now) {
                return;
            }
            match m.state {
                AlertState::Active => c.active += 1,
                AlertState::Suppressed => c.suppressed += 1,
                AlertState::Unprocessed => c.unprocessed += 1,
            }
        });
        c
    }

    /// Number of live subscribers (for tests and debugging).
    pub fn subscriber_count(&self) -> usize {
        self.subscribers.read().iter().filter(|s| !s.is_closed()).count()
    }
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
