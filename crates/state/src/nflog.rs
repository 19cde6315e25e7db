//! The notification log (Alertmanager's `nflog` package): for every (group key, receiver, integration, index) the
//! last successful notification, with the alert hashes that were firing and resolved in it.
//!
//! The dedup stage reads it to decide whether a flush must be sent; the set-notifies stage writes it after a send.
//! It is the second piece of replicated state (with silences): [`NotificationLog::merge`] is upstream's
//! last-writer-wins merge that gossip and durable storage build on, and [`NotificationLog::on_change`] is where
//! they hook in. Everything is pure: wall time is always an argument. Queries are counted and timed like upstream's
//! `Log.Query` through an optional observer ([`NotificationLog::set_query_metrics`]).

use crate::silences::metrics::{self, QueryHook};
use crate::QueryMetrics;
use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use std::collections::hash_map::Entry as Slot;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Who was notified (`nflogpb.Receiver`): the receiver's name, the integration's name (e.g. `webhook`) and its
/// index among the receiver's integrations of that kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Receiver {
    pub group_name: String,
    pub integration: String,
    pub idx: u32,
}

/// `receiverKey`: `<receiver>/<integration>/<idx>`.
impl fmt::Display for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.group_name, self.integration, self.idx)
    }
}

/// One logged notification (`nflogpb.Entry`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub group_key: String,
    pub receiver: Receiver,
    pub timestamp: DateTime<Utc>,
    /// xxhash64 of the labels of the alerts firing in the notification (`notify.hashAlert`).
    pub firing_alerts: HashSet<u64>,
    pub resolved_alerts: HashSet<u64>,
}

impl Entry {
    /// `IsFiringSubset`: every hash of `subset` was firing in this entry.
    pub fn is_firing_subset(&self, subset: &HashSet<u64>) -> bool {
        subset.is_subset(&self.firing_alerts)
    }

    /// `IsResolvedSubset`: every hash of `subset` was resolved in this entry.
    pub fn is_resolved_subset(&self, subset: &HashSet<u64>) -> bool {
        subset.is_subset(&self.resolved_alerts)
    }
}

/// An entry with its expiry (`nflogpb.MeshEntry`), the unit of gossip and of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MeshEntry {
    pub entry: Entry,
    pub expires_at: DateTime<Utc>,
}

/// `stateKey`: `<group key>:<receiver key>`.
pub fn state_key(group_key: &str, receiver: &Receiver) -> String {
    format!("{group_key}:{receiver}")
}

/// Whether a change was made here (gossip it, persist it) or arrived from a peer (persist only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NflogOrigin {
    Local,
    Remote,
}

/// Passed to change hooks after every accepted change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NflogChange {
    pub mesh: MeshEntry,
    pub origin: NflogOrigin,
}

/// Errors of [`NotificationLog::query`], worded as upstream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NflogError {
    #[error("not found")]
    NotFound,
}

type Hook = Arc<dyn Fn(&NflogChange) + Send + Sync>;

/// The notification log.
pub struct NotificationLog {
    st: RwLock<HashMap<String, MeshEntry>>,
    hooks: RwLock<Vec<Hook>>,
    /// `--data.retention`: the longest an entry is kept.
    retention: Duration,
    query_metrics: QueryHook,
}

impl fmt::Debug for NotificationLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationLog")
            .field("retention", &self.retention)
            .field("len", &self.st.read().len())
            .finish()
    }
}

fn add_saturating(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl NotificationLog {
    pub fn new(retention: Duration) -> Self {
        Self {
            st: RwLock::new(HashMap::new()),
            hooks: RwLock::new(Vec::new()),
            retention,
            query_metrics: QueryHook::default(),
        }
    }

    /// Sets the observer of [`NotificationLog::query`] calls, each counted as upstream's `Log.Query`: a not-found
    /// entry is a failed query (the dedup stage's first notification of a group counts as an error upstream too).
    /// Returns false, keeping the first, when one was already set.
    pub fn set_query_metrics(&self, m: Arc<dyn QueryMetrics>) -> bool {
        self.query_metrics.set(m)
    }

    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// Registers a hook called after every accepted change (local log or remote merge), while the write lock is
    /// held; it must be quick and must not call back into the log (forward into a channel instead).
    pub fn on_change(&self, hook: impl Fn(&NflogChange) + Send + Sync + 'static) {
        self.hooks.write().push(Arc::new(hook));
    }

    fn notify(&self, change: &NflogChange) {
        for hook in self.hooks.read().iter() {
            hook(change);
        }
    }

    /// `Log.Log`: records a notification at `now`. The entry expires at `now + expiry` when `expiry` is non-zero and
    /// shorter than the retention (the set-notifies stage passes 2 × repeat_interval), else at `now + retention`.
    /// An existing entry with a newer timestamp (clock drift between peers) is kept; returns whether it was written.
    pub fn log(
        &self,
        receiver: &Receiver,
        group_key: &str,
        firing: HashSet<u64>,
        resolved: HashSet<u64>,
        expiry: Duration,
        now: DateTime<Utc>,
    ) -> bool {
        let key = state_key(group_key, receiver);
        let mut st = self.st.write();
        if st.get(&key).is_some_and(|prev| prev.entry.timestamp > now) {
            return false;
        }
        let keep = if !expiry.is_zero() && self.retention > expiry { expiry } else { self.retention };
        let mesh = MeshEntry {
            entry: Entry {
                group_key: group_key.to_owned(),
                receiver: receiver.clone(),
                timestamp: now,
                firing_alerts: firing,
                resolved_alerts: resolved,
            },
            expires_at: add_saturating(now, keep),
        };
        st.insert(key, mesh.clone());
        self.notify(&NflogChange { mesh, origin: NflogOrigin::Local });
        true
    }

    /// `Log.Query` by group key and receiver. Like upstream, an expired entry is still returned until GC removes it.
    pub fn query(&self, group_key: &str, receiver: &Receiver) -> Result<Entry, NflogError> {
        let t = self.query_metrics.start();
        let found = self.peek(group_key, receiver).ok_or(NflogError::NotFound);
        metrics::finish(t, found.is_err());
        found
    }

    /// [`NotificationLog::query`] without counting it: for tocsin's own re-checks that upstream does not make
    /// (the in-flight stage's, after waiting for a peer), so `alertmanager_nflog_queries_total` stays comparable.
    pub fn peek(&self, group_key: &str, receiver: &Receiver) -> Option<Entry> {
        self.st.read().get(&state_key(group_key, receiver)).map(|m| m.entry.clone())
    }

    /// `state.merge`: accepts `mesh` unless it is expired at `now` or an entry with the same key has a timestamp
    /// that is not older. Returns whether it was accepted (and then tells the hooks).
    pub fn merge(&self, mesh: MeshEntry, now: DateTime<Utc>) -> bool {
        if mesh.expires_at < now {
            return false;
        }
        let key = state_key(&mesh.entry.group_key, &mesh.entry.receiver);
        let mut st = self.st.write();
        let hooks = self.hooks.read();
        // Start-up replays before any hook is registered: no copy of the entry for a change nobody reads.
        let copy = |m: &MeshEntry| (!hooks.is_empty()).then(|| m.clone());
        let change = match st.entry(key) {
            Slot::Occupied(o) if o.get().entry.timestamp >= mesh.entry.timestamp => return false,
            Slot::Occupied(mut o) => (copy(&mesh), o.insert(mesh)).0,
            Slot::Vacant(v) => (copy(&mesh), v.insert(mesh)).0,
        };
        if let Some(mesh) = change {
            let change = NflogChange { mesh, origin: NflogOrigin::Remote };
            hooks.iter().for_each(|hook| hook(&change));
        }
        true
    }

    /// Every entry (the full state for gossip push-pull and snapshots).
    pub fn full_state(&self) -> Vec<MeshEntry> {
        self.st.read().values().cloned().collect()
    }

    /// `Log.GC`: deletes entries whose `expires_at` is not after `now`; returns how many.
    pub fn gc(&self, now: DateTime<Utc>) -> usize {
        let mut st = self.st.write();
        let before = st.len();
        st.retain(|_, m| m.expires_at > now);
        before - st.len()
    }

    pub fn len(&self) -> usize {
        self.st.read().len()
    }

    /// Room for `additional` more entries at once: start-up knows how many records it loads, and a 100,000-entry
    /// map grown by doubling rehashes and copies every entry several times.
    pub fn reserve(&self, additional: usize) {
        self.st.write().reserve(additional);
    }

    pub fn is_empty(&self) -> bool {
        self.st.read().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn recv() -> Receiver {
        Receiver { group_name: "team-a".into(), integration: "webhook".into(), idx: 0 }
    }

    fn set(v: &[u64]) -> HashSet<u64> {
        v.iter().copied().collect()
    }

    #[test]
    fn state_key_is_upstreams() {
        assert_eq!(state_key("{}:{alertname=\"A\"}", &recv()), "{}:{alertname=\"A\"}:team-a/webhook/0");
    }

    #[test]
    fn log_query_and_expiry() {
        let log = NotificationLog::new(Duration::from_secs(120 * 3600));
        assert_eq!(log.query("g", &recv()), Err(NflogError::NotFound));
        assert!(log.log(&recv(), "g", set(&[1, 2]), set(&[3]), Duration::from_secs(2 * 3600), t(0)));
        let e = log.query("g", &recv()).unwrap();
        assert_eq!(e.timestamp, t(0));
        assert_eq!(e.firing_alerts, set(&[1, 2]));
        assert!(e.is_firing_subset(&set(&[1])));
        assert!(!e.is_firing_subset(&set(&[4])));
        assert!(e.is_resolved_subset(&set(&[])));
        // 2 × repeat shorter than retention → expiry is 2h.
        assert_eq!(log.full_state()[0].expires_at, t(2 * 3600));
        // Expiry longer than retention → retention.
        let short = NotificationLog::new(Duration::from_secs(60));
        short.log(&recv(), "g", set(&[1]), set(&[]), Duration::from_secs(3600), t(0));
        assert_eq!(short.full_state()[0].expires_at, t(60));
        // Still queryable after expiry until GC.
        assert!(short.query("g", &recv()).is_ok());
        assert_eq!(short.gc(t(59)), 0);
        assert_eq!(short.gc(t(60)), 1);
        assert!(short.is_empty());
    }

    /// Upstream's `Log.Query` counts every call and every not-found as a failed query; logging and merging are not
    /// queries.
    #[test]
    fn queries_and_not_found_errors_are_counted() {
        let log = NotificationLog::new(Duration::from_secs(3600));
        let rec = Arc::new(crate::silences::metrics::Recorder::default());
        assert!(log.set_query_metrics(rec.clone()));
        assert!(!log.set_query_metrics(Arc::new(crate::silences::metrics::Recorder::default())));
        assert_eq!(log.query("g", &recv()), Err(NflogError::NotFound));
        assert_eq!(rec.get(), (1, 1));
        assert!(log.log(&recv(), "g", set(&[1]), set(&[]), Duration::ZERO, t(0)));
        let mesh = MeshEntry { expires_at: t(100), ..log.full_state()[0].clone() };
        assert!(!log.merge(mesh, t(0)));
        assert_eq!(log.gc(t(0)), 0);
        assert_eq!(rec.get(), (1, 1), "log, merge, full state and GC are not queries");
        assert!(log.query("g", &recv()).is_ok());
        assert_eq!(rec.get(), (2, 1));
        assert!(log.query("other", &recv()).is_err());
        assert_eq!(rec.get(), (3, 2));
    }

    #[test]
    fn log_does_not_overwrite_newer() {
        let log = NotificationLog::new(Duration::from_secs(3600));
        assert!(log.log(&recv(), "g", set(&[1]), set(&[]), Duration::ZERO, t(10)));
        assert!(!log.log(&recv(), "g", set(&[2]), set(&[]), Duration::ZERO, t(5)));
        assert_eq!(log.query("g", &recv()).unwrap().firing_alerts, set(&[1]));
        assert!(log.log(&recv(), "g", set(&[2]), set(&[]), Duration::ZERO, t(10)));
    }

    #[test]
    fn merge_is_last_writer_wins_and_calls_hooks() {
        let log = NotificationLog::new(Duration::from_secs(3600));
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        log.on_change(move |c| s.lock().push((c.origin, c.mesh.entry.timestamp)));
        let mesh = |ts: i64, exp: i64| MeshEntry {
            entry: Entry {
                group_key: "g".into(),
                receiver: recv(),
                timestamp: t(ts),
                firing_alerts: set(&[1]),
                resolved_alerts: set(&[]),
            },
            expires_at: t(exp),
        };
        assert!(!log.merge(mesh(0, 5), t(6)), "expired entries are dropped");
        assert!(log.merge(mesh(10, 100), t(6)));
        assert!(!log.merge(mesh(10, 100), t(6)), "same timestamp is idempotent");
        assert!(!log.merge(mesh(9, 100), t(6)));
        assert!(log.merge(mesh(11, 100), t(6)));
        log.log(&recv(), "g", set(&[]), set(&[1]), Duration::ZERO, t(20));
        assert_eq!(
            *seen.lock(),
            vec![(NflogOrigin::Remote, t(10)), (NflogOrigin::Remote, t(11)), (NflogOrigin::Local, t(20))]
        );
    }
}
