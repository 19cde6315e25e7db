//! The dispatcher (`dispatch.Dispatcher`): reads every stored alert from the alert-store subscription, routes it,
//! and puts it into the aggregation group of each matched route; removes empty groups every 30s; answers
//! `GET /api/v2/alerts/groups`.
//!
//! A reload is `stop()` and a new [`Dispatcher`]: the subscription replays the store, so all groups are recreated
//! and their timers restarted, as upstream does.

use crate::group::{label_set_order, AggrGroup, FlushEnv};
use crate::metrics::Metrics;
use crate::peer::Peer;
use crate::route::Route;
use crate::stage::Stage;
use crate::time_stages::GroupMarkers;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::SharedClock;
use tocsin_model::{Alert, Fingerprint, LabelSet};
use tocsin_state::{AlertStore, AlertSubscription};
use tokio::task::JoinHandle;

/// How often empty groups are removed.
pub const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(30);

/// One group as the API shows it (`dispatch.AlertGroup`).
#[derive(Debug, Clone)]
pub struct AlertGroup {
    pub labels: LabelSet,
    pub receiver: String,
    pub group_key: String,
    pub route_id: String,
    /// Alerts that passed the filter, sorted as in notifications.
    pub alerts: Vec<Arc<Alert>>,
    /// Time intervals muting the group at its last flush (0.28 `mutedBy`).
    pub muted_by: Vec<String>,
}

/// What the dispatcher is built from.
#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    pub clock: SharedClock,
    pub peer: Arc<dyn Peer>,
    /// `--cluster.peer-timeout`.
    pub peer_timeout: Duration,
    /// `--web.external-url`, handed to notifiers.
    pub external_url: String,
    pub group_markers: Arc<GroupMarkers>,
    pub metrics: Arc<Metrics>,
}

/// Groups by route ID, then by the fingerprint of the group labels.
type Groups = HashMap<String, HashMap<Fingerprint, Arc<AggrGroup>>>;

#[derive(Debug)]
struct Inner {
    route: Arc<Route>,
    pipelines: HashMap<String, Arc<dyn Stage>>,
    groups: Mutex<Groups>,
    env: FlushEnv,
    markers: Arc<GroupMarkers>,
    metrics: Arc<Metrics>,
}

/// The running dispatcher. Dropping it stops it.
#[derive(Debug)]
pub struct Dispatcher {
    inner: Arc<Inner>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Dispatcher {
    /// Subscribes to `store` and starts routing. `pipelines` maps receiver names to their pipelines
    /// ([`crate::pipeline::build_pipelines`]).
    pub fn start(
        route: Arc<Route>,
        pipelines: HashMap<String, Arc<dyn Stage>>,
        store: &AlertStore,
        opts: DispatcherOptions,
    ) -> Self {
        let inner = Arc::new(Inner {
            route,
            pipelines,
            groups: Mutex::new(HashMap::new()),
            env: FlushEnv {
                clock: opts.clock,
                peer: opts.peer,
                peer_timeout: opts.peer_timeout,
                external_url: opts.external_url,
            },
            markers: opts.group_markers,
            metrics: opts.metrics,
        });
        let sub = store.subscribe();
        let runner = Arc::clone(&inner);
        let task = tokio::spawn(async move { runner.run(sub).await });
        Self { inner, task: Mutex::new(Some(task)) }
    }

    /// Stops routing and every group timer (cancelling flushes in progress).
    pub fn stop(&self) {
        if let Some(t) = self.task.lock().take() {
            t.abort();
        }
        let mut groups = self.inner.groups.lock();
        for ag in groups.values().flat_map(HashMap::values) {
            ag.stop();
            self.inner.metrics.aggregation_groups.dec();
        }
        groups.clear();
    }

    /// The route tree this dispatcher routes with.
    pub fn route(&self) -> &Arc<Route> {
        &self.inner.route
    }

    /// Receivers of the routes `labels` match, in match order (the `receivers` field of `GET /api/v2/alerts`).
    pub fn receivers(&self, labels: &LabelSet) -> Vec<String> {
        self.inner.route.receivers(labels)
    }

    /// Number of aggregation groups.
    pub fn group_count(&self) -> usize {
        self.inner.groups.lock().values().map(HashMap::len).sum()
    }

    /// `Dispatcher.Groups`: the groups whose receiver passes `receiver_filter`, with the alerts passing
    /// `alert_filter` (groups left empty are omitted), sorted by group labels then receiver; plus, for every
    /// alert shown, the sorted receivers of the groups it appears in.
    pub fn groups(
        &self,
        receiver_filter: impl Fn(&str) -> bool,
        alert_filter: impl Fn(&Arc<Alert>, DateTime<Utc>) -> bool,
    ) -> (Vec<AlertGroup>, HashMap<Fingerprint, Vec<String>>) {
        let now = self.inner.env.clock.now();
        let all: Vec<Arc<AggrGroup>> =
            self.inner.groups.lock().values().flat_map(|g| g.values().cloned()).collect();
        let mut out = Vec::new();
        let mut receivers: HashMap<Fingerprint, Vec<String>> = HashMap::new();
        for ag in all {
            let receiver = &ag.opts.receiver;
            if !receiver_filter(receiver) {
                continue;
            }
            let alerts: Vec<_> = ag.alerts().into_iter().filter(|a| alert_filter(a, now)).collect();
            if alerts.is_empty() {
                continue;
            }
            for a in &alerts {
                receivers.entry(a.fingerprint()).or_default().push(receiver.clone());
            }
            out.push(AlertGroup {
                labels: ag.labels.clone(),
                receiver: receiver.clone(),
                group_key: ag.group_key.clone(),
                route_id: ag.route_id.clone(),
                alerts,
                muted_by: self.inner.markers.muted_by(&ag.route_id, &ag.group_key),
            });
        }
        out.sort_by(|a, b| label_set_order(&a.labels, &b.labels).then_with(|| a.receiver.cmp(&b.receiver)));
        for r in receivers.values_mut() {
            r.sort();
        }
        (out, receivers)
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Inner {
    async fn run(&self, mut sub: AlertSubscription) {
        let start = tokio::time::Instant::now() + MAINTENANCE_INTERVAL;
        let mut maintenance = tokio::time::interval_at(start, MAINTENANCE_INTERVAL);
        loop {
            tokio::select! {
                next = sub.recv() => match next {
                    Some(alert) => self.process(alert),
                    None => return,
                },
                _ = maintenance.tick() => self.remove_empty_groups(),
            }
        }
    }

    /// `processAlert` for every matching route.
    fn process(&self, alert: Arc<Alert>) {
        let now = self.env.clock.now();
        for route in self.route.matches(&alert.labels) {
            let labels = route.opts.group_by.group_labels(&alert.labels);
            let fp = labels.fingerprint();
            let mut groups = self.groups.lock();
            // Looked up by `&str` first: no per-alert copy of the route ID.
            if !groups.contains_key(route.id.as_str()) {
                groups.insert(route.id.clone(), HashMap::new());
            }
            let Some(by_fp) = groups.get_mut(route.id.as_str()) else { continue };
            if let Some(ag) = by_fp.get(&fp) {
                ag.insert(Arc::clone(&alert), now);
                continue;
            }
            let ag = Arc::new(AggrGroup::new(labels, &route.key, &route.id, Arc::clone(&route.opts)));
            tracing::debug!(aggrGroup = %ag.group_key, "New aggregation group");
            // The first alert goes in before the timer starts, so the first flush always finds it.
            ag.insert(Arc::clone(&alert), now);
            ag.start(self.pipelines.get(&route.opts.receiver).cloned(), self.env.clone());
            by_fp.insert(fp, ag);
            self.metrics.aggregation_groups.inc();
        }
    }

    /// Stops and removes groups without alerts, with their mute markers.
    fn remove_empty_groups(&self) {
        let mut groups = self.groups.lock();
        for by_fp in groups.values_mut() {
            by_fp.retain(|_, ag| {
                if !ag.is_empty() {
                    return true;
                }
                ag.stop();
                self.markers.delete(&ag.route_id, &ag.group_key);
                self.metrics.aggregation_groups.dec();
                false
            });
        }
        groups.retain(|_, by_fp| !by_fp.is_empty());
    }
}
