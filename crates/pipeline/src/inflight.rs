//! The slow-receiver guarantee: sends in flight are announced to the cluster, so a later position does not send a
//! duplicate while an earlier one is still waiting for a slow receiver (tocsin extension; upstream sends one).
//!
//! Upstream, the node at position k waits `k × peer_timeout` and then trusts the notification log: if the send of
//! position 0 takes longer than that, its nflog entry is not there yet and position 1 sends too. Here, right
//! before sending, the integration announces an [`InflightRecord`] (group key, receiver, the firing and resolved
//! hashes, and an expiry = the sender's flush deadline). The record is gossiped like the nflog. A later position
//! whose dedup found nothing in the log, but which sees a live record of another node covering the same content,
//! waits until
//! - the sender's nflog entry arrives (dedup then says "already notified": nothing is sent), or
//! - the sender withdraws the record (send failed): this node re-checks the log and sends, or
//! - the record expires or its node leaves the membership (sender died mid-send): this node sends.
//!
//! "Covering" reuses dedup's rule: the record is treated as if it were a logged notification; if dedup would then
//! skip this flush, the record is sending what this node would send.
//!
//! Limits (see docs/clustering.md): two nodes that decide to send within one gossip latency both send; a
//! partition hides records exactly as it hides nflog entries; expiry is compared in wall time, so clock skew
//! between nodes shortens or lengthens the cover by the skew.

use crate::dedup::{needs_update, SendResolved};
use crate::integration::Integration;
use crate::peer::Peer;
use crate::stage::{Alerts, MultiStage, Stage, StageCtx, StageError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::SharedClock;
use tocsin_state::nflog::{Entry, NotificationLog, Receiver};
use tokio::sync::Notify;

/// How often a waiting flush re-checks the membership, so a sender that died is noticed before its record
/// expires.
const RECHECK: Duration = Duration::from_millis(250);

/// One announced send: "node `node` is sending this content for this group and integration until `expires_at`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InflightRecord {
    pub group_key: String,
    pub receiver: Receiver,
    /// Name of the announcing node (its cluster name).
    pub node: String,
    pub firing: HashSet<u64>,
    pub resolved: HashSet<u64>,
    /// Last-writer-wins version of the record (the announce, then the withdrawal).
    pub updated_at: DateTime<Utc>,
    /// When the sender gives up at the latest (its flush deadline); after it the record covers nothing.
    pub expires_at: DateTime<Utc>,
    /// The send finished (delivered or failed); the record no longer covers anything.
    pub done: bool,
}

impl InflightRecord {
    /// The record as if it were a logged notification, for dedup's rule.
    fn as_entry(&self) -> Entry {
        Entry {
            group_key: self.group_key.clone(),
            receiver: self.receiver.clone(),
            timestamp: self.updated_at,
            firing_alerts: self.firing.clone(),
            resolved_alerts: self.resolved.clone(),
        }
    }

    fn key(&self) -> (String, String, String) {
        (self.group_key.clone(), self.receiver.to_string(), self.node.clone())
    }
}

type Hook = Arc<dyn Fn(&InflightRecord) + Send + Sync>;
type Liveness = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The in-flight records of all nodes, last-writer-wins by `updated_at` per (group, receiver, node).
pub struct InflightLog {
    node: String,
    clock: SharedClock,
    st: RwLock<HashMap<(String, String, String), InflightRecord>>,
    hooks: RwLock<Vec<Hook>>,
    live: RwLock<Option<Liveness>>,
    changed: Notify,
}

impl fmt::Debug for InflightLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InflightLog").field("node", &self.node).field("len", &self.st.read().len()).finish()
    }
}

fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl InflightLog {
    /// The log of node `node` (its cluster name).
    pub fn new(node: impl Into<String>, clock: SharedClock) -> Self {
        Self {
            node: node.into(),
            clock,
            st: RwLock::new(HashMap::new()),
            hooks: RwLock::new(Vec::new()),
            live: RwLock::new(None),
            changed: Notify::new(),
        }
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// Registers a hook called after every local announce or withdrawal (the cluster broadcasts it). Called
    /// while no lock is held.
    pub fn on_local_change(&self, hook: impl Fn(&InflightRecord) + Send + Sync + 'static) {
        self.hooks.write().push(Arc::new(hook));
    }

    /// Tells the log which nodes are alive: records of other nodes stop covering as soon as their node left.
    pub fn set_liveness(&self, live: impl Fn(&str) -> bool + Send + Sync + 'static) {
        *self.live.write() = Some(Arc::new(live));
    }

    /// Wakes the flushes waiting on a record; the cluster calls it on every nflog change too.
    pub fn notify_changed(&self) {
        self.changed.notify_waiters();
    }

    fn store_local(&self, rec: InflightRecord) {
        self.st.write().insert(rec.key(), rec.clone());
        for hook in self.hooks.read().iter() {
            hook(&rec);
        }
        self.notify_changed();
    }

    /// Announces that this node starts sending `firing`/`resolved` for the group and integration, until
    /// `expires_at`.
    pub fn announce(
        &self,
        group_key: &str,
        receiver: &Receiver,
        firing: HashSet<u64>,
        resolved: HashSet<u64>,
        expires_at: DateTime<Utc>,
    ) {
        let now = self.clock.now();
        self.gc(now);
        let updated_at = self.next_version(group_key, receiver, now);
        self.store_local(InflightRecord {
            group_key: group_key.to_owned(),
            receiver: receiver.clone(),
            node: self.node.clone(),
            firing,
            resolved,
            updated_at,
            expires_at,
            done: false,
        });
    }

    /// Withdraws this node's record for the group and integration (the send finished either way).
    pub fn complete(&self, group_key: &str, receiver: &Receiver) {
        let now = self.clock.now();
        let key = (group_key.to_owned(), receiver.to_string(), self.node.clone());
        let Some(mut rec) = self.st.read().get(&key).cloned() else {
            return;
        };
        rec.updated_at = self.next_version(group_key, receiver, now);
        rec.done = true;
        self.store_local(rec);
    }

    /// A local write's version: now, or just after the previous one if the clock did not move past it.
    fn next_version(&self, group_key: &str, receiver: &Receiver, now: DateTime<Utc>) -> DateTime<Utc> {
        let key = (group_key.to_owned(), receiver.to_string(), self.node.clone());
        match self.st.read().get(&key) {
            Some(p) if p.updated_at >= now => p.updated_at + chrono::Duration::nanoseconds(1),
            _ => now,
        }
    }

    /// Merges a record from a peer: ignored once expired; accepted when unknown or strictly newer. Returns
    /// whether it changed the log (the cluster then gossips it on). Idempotent and order-independent.
    pub fn merge(&self, rec: InflightRecord) -> bool {
        let now = self.clock.now();
        if rec.expires_at < now {
            return false;
        }
        let accepted = {
            let mut st = self.st.write();
            let key = rec.key();
            let newer = st.get(&key).is_none_or(|p| p.updated_at < rec.updated_at);
            if newer {
                st.insert(key, rec);
            }
            newer
        };
        if accepted {
            self.notify_changed();
        }
        accepted
    }

    /// Every unexpired record (the full state for push-pull).
    pub fn full_state(&self) -> Vec<InflightRecord> {
        let now = self.clock.now();
        self.st.read().values().filter(|r| r.expires_at >= now).cloned().collect()
    }

    /// Deletes expired records; returns how many.
    pub fn gc(&self, now: DateTime<Utc>) -> usize {
        let mut st = self.st.write();
        let before = st.len();
        st.retain(|_, r| r.expires_at >= now);
        before - st.len()
    }

    pub fn len(&self) -> usize {
        self.st.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.st.read().is_empty()
    }

    /// The earliest expiry among live records of other (alive) nodes that cover this content, if any.
    pub fn covered_until(&self, q: &CoverQuery<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let live = self.live.read().clone();
        let receiver = q.receiver.to_string();
        self.st
            .read()
            .values()
            .filter(|r| {
                r.node != self.node
                    && !r.done
                    && r.expires_at > now
                    && r.group_key == q.group_key
                    && r.receiver.to_string() == receiver
                    && live.as_ref().is_none_or(|alive| alive(&r.node))
                    && !needs_update(
                        Some(&r.as_entry()),
                        q.firing,
                        q.resolved,
                        q.send_resolved,
                        q.repeat_interval,
                        now,
                    )
            })
            .map(|r| r.expires_at)
            .min()
    }
}

/// What a flush is about to send, for [`InflightLog::covered_until`].
#[derive(Debug)]
pub struct CoverQuery<'a> {
    pub group_key: &'a str,
    pub receiver: &'a Receiver,
    pub firing: &'a HashSet<u64>,
    pub resolved: &'a HashSet<u64>,
    pub send_resolved: SendResolved,
    pub repeat_interval: Duration,
}

/// Wraps the send (retry + set-notifies) of one integration: waits while another node's announced send covers
/// this flush, skips when that send got logged, else announces its own send and withdraws it afterwards.
/// Without a cluster ([`Peer::inflight`] is `None`) it only runs the send.
#[derive(Debug)]
pub struct InflightStage {
    peer: Arc<dyn Peer>,
    nflog: Arc<NotificationLog>,
    receiver: Receiver,
    send_resolved: SendResolved,
    clock: SharedClock,
    send: MultiStage,
}

impl InflightStage {
    pub fn new(
        peer: Arc<dyn Peer>,
        nflog: Arc<NotificationLog>,
        receiver_name: &str,
        integration: &Integration,
        clock: SharedClock,
        send: MultiStage,
    ) -> Self {
        let send_resolved =
            if integration.notifier.send_resolved() { SendResolved::Yes } else { SendResolved::No };
        Self { peer, nflog, receiver: integration.nflog_receiver(receiver_name), send_resolved, clock, send }
    }

    /// Waits until no other node's live record covers this flush. `Ok(false)`: the log says it was notified
    /// meanwhile, skip.
    async fn await_cover(&self, log: &InflightLog, cx: &StageCtx) -> Result<bool, StageError> {
        let firing: HashSet<u64> = cx.firing.iter().copied().collect();
        let resolved: HashSet<u64> = cx.resolved.iter().copied().collect();
        let q = CoverQuery {
            group_key: &cx.notify.group_key,
            receiver: &self.receiver,
            firing: &firing,
            resolved: &resolved,
            send_resolved: self.send_resolved,
            repeat_interval: cx.notify.repeat_interval,
        };
        let mut waited = false;
        loop {
            let notified = log.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = self.clock.now();
            if waited {
                let entry = self.nflog.peek(&cx.notify.group_key, &self.receiver);
                if !needs_update(
                    entry.as_ref(),
                    &firing,
                    &resolved,
                    self.send_resolved,
                    cx.notify.repeat_interval,
                    now,
                ) {
                    tracing::debug!(group_key = %cx.notify.group_key, receiver = %self.receiver,
                        "peer delivered the notification this node was waiting for");
                    return Ok(false);
                }
            }
            let Some(until) = log.covered_until(&q, now) else {
                return Ok(true);
            };
            if !waited {
                tracing::debug!(group_key = %cx.notify.group_key, receiver = %self.receiver,
                    "another node is sending this notification; waiting for it");
            }
            waited = true;
            let left = (until - now).to_std().unwrap_or(Duration::ZERO);
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(left.min(RECHECK)) => {}
                _ = tokio::time::sleep_until(cx.deadline) => return Err(StageError::DeadlineExceeded),
            }
        }
    }
}

#[async_trait]
impl Stage for InflightStage {
    async fn exec(&self, cx: &mut StageCtx, alerts: Alerts) -> Result<Alerts, StageError> {
        let Some(log) = self.peer.inflight() else {
            return self.send.exec(cx, alerts).await;
        };
        if !self.await_cover(&log, cx).await? {
            return Ok(Vec::new());
        }
        let left = cx.deadline.saturating_duration_since(tokio::time::Instant::now());
        log.announce(
            &cx.notify.group_key,
            &self.receiver,
            cx.firing.iter().copied().collect(),
            cx.resolved.iter().copied().collect(),
            add(self.clock.now(), left),
        );
        let result = self.send.exec(cx, alerts).await;
        log.complete(&cx.notify.group_key, &self.receiver);
        result
    }
}

#[cfg(test)]
#[path = "inflight_tests.rs"]
mod tests;
