//! The alert store (`provider/mem` + `store.Alerts`): every alert posted by Prometheus, its status marker, garbage
//! collection of resolved alerts, and the subscriptions through which the dispatcher and the inhibitor see every put.
//!
//! Ingest is the hot path (batches of 1000 alerts from several connections at once). The store is therefore split
//! into [`SHARDS`] shards, each a `parking_lot::RwLock<HashMap>` keyed by fingerprint with a pass-through hasher
//! (the fingerprint already is an FNV hash, so SipHash would only cost time). Two puts contend only when their
//! fingerprints land in the same shard; 32 shards keep that rare for any realistic core count while a full scan
//! (API reads, GC, counts) stays 32 short lock acquisitions. Alerts are stored as `Arc<Alert>`: a put moves the
//! alert in once, subscribers and readers share it, and nothing on the path clones labels. No lock is ever held
//! across an `.await` (the store has no async method at all).

use crate::marker::{AlertState, Marker};
use chrono::{DateTime, Utc};
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

#[derive(Debug)]
struct Entry {
    alert: Arc<Alert>,
    marker: StoredMarker,
}

/// A [`Marker`] as the store keeps it: most alerts are neither silenced, inhibited nor muted, and a full marker
/// (four `Vec`s, 112 bytes) in every map slot would cost more than the slot's alert pointer many times over. The
/// common case is two words inline; only a marker with a non-empty list is boxed.
#[derive(Debug)]
enum StoredMarker {
    Plain { state: AlertState, silences_version: u64 },
    Full(Box<Marker>),
}

impl Default for StoredMarker {
    fn default() -> Self {
        StoredMarker::Plain { state: AlertState::default(), silences_version: 0 }
    }
}

impl StoredMarker {
    fn pack(m: Marker) -> Self {
        if m.silenced_by.is_empty()
            && m.inhibited_by.is_empty()
            && m.muted_by.is_empty()
            && m.pending_silences.is_empty()
        {
            StoredMarker::Plain { state: m.state, silences_version: m.silences_version }
        } else {
            StoredMarker::Full(Box::new(m))
        }
    }

    /// Runs `f` on the marker without copying its lists (a plain marker is rebuilt on the stack, which allocates
    /// nothing: empty `Vec`s own no memory).
    fn with<R>(&self, f: impl FnOnce(&Marker) -> R) -> R {
        match self {
            StoredMarker::Plain { state, silences_version } => {
                f(&Marker { state: *state, silences_version: *silences_version, ..Marker::default() })
            }
            StoredMarker::Full(m) => f(m),
        }
    }

    fn to_marker(&self) -> Marker {
        self.with(Marker::clone)
    }

    fn update(&mut self, f: impl FnOnce(&mut Marker)) {
        let mut m = match std::mem::take(self) {
            StoredMarker::Plain { state, silences_version } => {
                Marker { state, silences_version, ..Marker::default() }
            }
            StoredMarker::Full(m) => *m,
        };
        f(&mut m);
        *self = StoredMarker::pack(m);
    }
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

type Shard = RwLock<HashMap<Fingerprint, Entry, BuildHasherDefault<FingerprintHasher>>>;

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
        let (stored, outcome) = match shard.get_mut(&fp) {
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
                shard.insert(fp, Entry { alert: Arc::clone(&stored), marker: StoredMarker::default() });
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
            for entry in shard.values() {
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
        self.shard(fp).read().get(&fp).map(|e| Arc::clone(&e.alert))
    }

    /// The stored alert and a copy of its marker.
    pub fn get_with_status(&self, fp: Fingerprint) -> Option<(Arc<Alert>, Marker)> {
        self.shard(fp).read().get(&fp).map(|e| (Arc::clone(&e.alert), e.marker.to_marker()))
    }

    /// `Marker.Status`: the marker of a stored alert, `unprocessed` with empty lists for an unknown fingerprint.
    pub fn status(&self, fp: Fingerprint) -> Marker {
        self.shard(fp).read().get(&fp).map(|e| e.marker.to_marker()).unwrap_or_default()
    }

    /// Calls `f` for every stored alert (resolved ones included, until GC) with its marker, without cloning.
    /// Order is unspecified. `f` runs under a shard read lock: it must not call back into this store.
    pub fn for_each(&self, mut f: impl FnMut(Fingerprint, &Arc<Alert>, &Marker)) {
        for shard in self.shards.iter() {
            for (fp, e) in shard.read().iter() {
                e.marker.with(|m| f(*fp, &e.alert, m));
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
        self.shards.iter().map(|s| s.read().len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.read().is_empty())
    }

    /// Runs `f` on the marker of a stored alert; returns false (and does nothing) for an unknown fingerprint, so
    /// the pipeline cannot leak markers of alerts already collected.
    pub fn update_marker(&self, fp: Fingerprint, f: impl FnOnce(&mut Marker)) -> bool {
        match self.shard(fp).write().get_mut(&fp) {
            Some(e) => {
                e.marker.update(f);
                true
            }
            None => false,
        }
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
            shard.write().retain(|fp, e| {
                let keep = !e.alert.resolved_at(now);
                if !keep {
                    removed.push(*fp);
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
