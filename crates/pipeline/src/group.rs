//! Aggregation groups (`dispatch.aggrGroup`): the alerts of one route that share the group labels, and the timer
//! that flushes them through the receiver's pipeline.
//!
//! Timing rules (reference §4.2):
//! - a new group first fires `group_wait` after it was created;
//! - an alert inserted before the first flush whose `startsAt + group_wait` is already past fires it at once;
//! - when the timer fires, it is re-armed for `group_interval` *before* the flush runs, so ticks stay on the
//!   `group_interval` grid whatever the flush does (a flush longer than the interval is followed at once by the next);
//! - after a successful flush, resolved alerts leave the group unless they changed during the flush.
//!
//! One tokio task per group. Tokio's timer is itself a hierarchical timing wheel, so 10,000 sleeping groups cost
//! 10,000 small futures and wheel entries and nothing per tick; a task per group also gives each group its own
//! flush, so a receiver that is slow or retrying holds back only its own groups, exactly like upstream's goroutine
//! per group. A hand-written wheel would save little memory and would have to re-create that isolation.

use crate::notifier::NotifyCtx;
use crate::peer::{wait_for, Peer};
use crate::route::RouteOpts;
use crate::stage::{Stage, StageCtx};
use futures::FutureExt;
use hashbrown::HashTable;
use parking_lot::Mutex;
use std::cmp::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::SharedClock;
use tocsin_model::time::utc;
use tocsin_model::{Alert, LabelSet};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// `notify.MinTimeout`: the shortest flush deadline.
pub const MIN_FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// What a group needs from the dispatcher to flush.
#[derive(Debug, Clone)]
pub(crate) struct FlushEnv {
    pub clock: SharedClock,
    pub peer: Arc<dyn Peer>,
    pub peer_timeout: Duration,
    pub external_url: String,
}

/// The group's alerts, found by their labels. A slot is one pointer (a group of 25k alerts costs ~300 KB less than
/// with a `HashMap<Fingerprint, Arc<Alert>>`), so the hash is recomputed when the table grows: it is
/// [`LabelSet::fast_hash`], not the fingerprint, whose FNV-1a loop made hashing most of the group's share of ingest.
/// Keyed by labels rather than fingerprint, two label sets with colliding fingerprints (only ever crafted) stay
/// two alerts here, where upstream's map would keep the newer; the alert store still keys by fingerprint.
#[derive(Debug, Default)]
struct GroupState {
    alerts: HashTable<Arc<Alert>>,
    has_flushed: bool,
}

fn hash_alert(a: &Arc<Alert>) -> u64 {
    a.labels.fast_hash()
}

/// One aggregation group.
#[derive(Debug)]
pub(crate) struct AggrGroup {
    pub labels: LabelSet,
    pub group_key: String,
    pub route_id: String,
    pub opts: Arc<RouteOpts>,
    state: Mutex<GroupState>,
    flush_now: Notify,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl AggrGroup {
    pub fn new(labels: LabelSet, route_key: &str, route_id: &str, opts: Arc<RouteOpts>) -> Self {
        Self {
            group_key: format!("{route_key}:{labels}"),
            labels,
            route_id: route_id.to_owned(),
            opts,
            state: Mutex::new(GroupState::default()),
            flush_now: Notify::new(),
            task: Mutex::new(None),
        }
    }

    /// Adds or replaces an alert; fires the timer at once if the group has not flushed yet and the alert has
    /// already waited `group_wait` since it started (e.g. after a restart or reload).
    pub fn insert(&self, alert: Arc<Alert>, now: chrono::DateTime<chrono::Utc>) {
        let wait = chrono::Duration::from_std(self.opts.group_wait).unwrap_or(chrono::Duration::MAX);
        let overdue = alert.starts_at.checked_add_signed(wait).is_some_and(|t| t < utc(now));
        let hash = hash_alert(&alert);
        let mut st = self.state.lock();
        match st.alerts.find_mut(hash, |a| a.labels == alert.labels) {
            Some(slot) => *slot = alert,
            None => {
                st.alerts.insert_unique(hash, alert, hash_alert);
            }
        }
        if !st.has_flushed && overdue {
            self.flush_now.notify_one();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.state.lock().alerts.is_empty()
    }

    /// The group's alerts, sorted as in notifications.
    pub fn alerts(&self) -> Vec<Arc<Alert>> {
        let mut v: Vec<_> = self.state.lock().alerts.iter().cloned().collect();
        v.sort_by(|a, b| alert_order(a, b));
        v
    }

    /// Starts the timer task. `stage` is the receiver's pipeline (`None` if the receiver has none: every flush
    /// then fails, as upstream's `RoutingStage` does).
    pub fn start(self: &Arc<Self>, stage: Option<Arc<dyn Stage>>, env: FlushEnv) {
        let me = Arc::clone(self);
        let first = Instant::now() + self.opts.group_wait;
        *self.task.lock() = Some(tokio::spawn(async move { me.run(first, stage, env).await }));
    }

    /// Stops the timer task, cancelling a flush in progress.
    pub fn stop(&self) {
        if let Some(t) = self.task.lock().take() {
            t.abort();
        }
    }

    async fn run(self: Arc<Self>, first: Instant, stage: Option<Arc<dyn Stage>>, env: FlushEnv) {
        let mut next = first;
        loop {
            tokio::select! {
                _ = crate::precise::sleep_until(next) => {}
                _ = self.flush_now.notified() => {}
            }
            let fired = Instant::now();
            next = fired + self.opts.group_interval;
            self.state.lock().has_flushed = true;
            // An immediate-flush request that raced with the timer must not cause a second flush.
            let _ = self.flush_now.notified().now_or_never();
            let timeout = self.opts.group_interval.max(MIN_FLUSH_TIMEOUT)
                + wait_for(env.peer.as_ref(), env.peer_timeout);
            self.flush(stage.as_deref(), &env, fired + timeout).await;
        }
    }

    async fn flush(&self, stage: Option<&dyn Stage>, env: &FlushEnv, deadline: Instant) {
        let now = env.clock.now();
        let alerts = self.alerts();
        if alerts.is_empty() {
            return;
        }
        let resolved: Vec<Arc<Alert>> = alerts.iter().filter(|a| a.resolved_at(utc(now))).cloned().collect();
        let mut cx = StageCtx {
            notify: NotifyCtx {
                receiver: self.opts.receiver.clone(),
                group_key: self.group_key.clone(),
                group_labels: self.labels.clone(),
                repeat_interval: self.opts.repeat_interval,
                now,
                external_url: env.external_url.clone(),
            },
            route_id: self.route_id.clone(),
            mute_time_intervals: self.opts.mute_time_intervals.clone().into(),
            active_time_intervals: self.opts.active_time_intervals.clone().into(),
            deadline,
            firing: Vec::new(),
            resolved: Vec::new(),
        };
        let n = alerts.len();
        let result = match stage {
            Some(s) => s.exec(&mut cx, alerts).await,
            None => Err(crate::stage::StageError::MissingReceiver),
        };
        match result {
            Ok(_) => self.delete_if_not_modified(&resolved),
            Err(e) => {
                tracing::error!(aggrGroup = %self.group_key, num_alerts = n, err = %e, "Notify for alerts failed")
            }
        }
    }

    /// Removes the notified resolved alerts, except those updated since the flush took its snapshot.
    fn delete_if_not_modified(&self, resolved: &[Arc<Alert>]) {
        let mut st = self.state.lock();
        for a in resolved {
            if let Ok(slot) = st.alerts.find_entry(hash_alert(a), |cur| cur.labels == a.labels) {
                if slot.get().updated_at == a.updated_at {
                    slot.remove();
                }
            }
        }
    }
}

/// `types.AlertSlice` order: by `job`, then `instance` (alerts having the label first), then the label sets.
pub fn alert_order(a: &Alert, b: &Alert) -> Ordering {
    for key in ["job", "instance"] {
        match (a.labels.get(key), b.labels.get(key)) {
            (None, None) => continue,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    label_set_order(&a.labels, &b.labels)
}

/// Prometheus' `LabelSet.Before` as an ordering: fewer labels first; then, over the sorted union of names, the
/// first name one set lacks puts that set first, else the first differing value decides.
pub fn label_set_order(a: &LabelSet, b: &LabelSet) -> Ordering {
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    let mut names: Vec<&str> = a.names().chain(b.names()).collect();
    names.sort_unstable();
    names.dedup();
    for n in names {
        match (a.get(n), b.get(n)) {
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    Ordering::Equal
}
