//! The running notification pipeline and its rebuild on every configuration change (upstream `main.go`'s config
//! subscriber): templates → receivers' integrations → per-receiver pipelines → inhibitor → dispatcher.
//!
//! A (re)load first builds everything that can fail (templates), so a bad file leaves the running pipeline alone;
//! then the old inhibitor and dispatcher are stopped and new ones started. The new dispatcher replays the alert
//! store, so groups are recreated and their timers restart, as upstream does. The notification log is not
//! touched: what was sent before a reload is not sent again.
//!
//! [`LivePipeline`] is also the API's [`Router`]: `/api/v2/alerts/groups` and the alerts' `receivers` field read
//! the dispatcher in force.

use parking_lot::RwLock;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tocsin_api::{GroupSnapshot, Router};
use tocsin_config::Config;
use tocsin_model::clock::SharedClock;
use tocsin_model::LabelSet;
use tocsin_pipeline::from_config::inhibit_rules;
use tocsin_pipeline::retry::Jitter;
use tocsin_pipeline::time_stages::GroupMarkers;
use tocsin_pipeline::{
    build_pipelines, Dispatcher, DispatcherOptions, Inhibitor, Integration, Metrics, Peer, PipelineDeps,
    Route,
};
use tocsin_state::nflog::NotificationLog;
use tocsin_state::{AlertStore, Silences};
use tocsin_template::Template;

/// What every rebuild of the pipeline shares: the stores, the cluster position, metrics and the retry jitter.
#[derive(Debug, Clone)]
pub struct NotifyDeps {
    pub clock: SharedClock,
    pub alerts: Arc<AlertStore>,
    pub silences: Arc<Silences>,
    pub nflog: Arc<NotificationLog>,
    pub peer: Arc<dyn Peer>,
    /// `--cluster.peer-timeout`.
    pub peer_timeout: Duration,
    /// `--data.retention`, for the repeat_interval warning.
    pub retention: Duration,
    /// `--web.external-url`.
    pub external_url: String,
    pub jitter: Arc<dyn Jitter>,
    pub metrics: Arc<Metrics>,
    /// The storage's group commit for the notification log.
    pub nflog_sync: Option<Arc<dyn tocsin_pipeline::dedup::NflogSync>>,
}

/// One generation of the pipeline (one configuration).
#[derive(Debug)]
struct Running {
    dispatcher: Dispatcher,
    inhibitor: tokio::task::JoinHandle<()>,
}

impl Running {
    fn stop(&self) {
        self.inhibitor.abort();
        self.dispatcher.stop();
    }
}

/// The dispatcher and inhibitor in force.
#[derive(Debug)]
pub struct LivePipeline {
    deps: NotifyDeps,
    current: RwLock<Option<Running>>,
}

impl LivePipeline {
    pub fn new(deps: NotifyDeps) -> Self {
        Self { deps, current: RwLock::new(None) }
    }

    /// Builds the pipeline of `config` and swaps it in. Must run inside the tokio runtime (it spawns the
    /// dispatcher and inhibitor tasks). The error text is what `POST /-/reload` shows.
    pub fn apply(&self, config: &Config) -> Result<(), String> {
        let d = &self.deps;
        let globs: Vec<String> = config.templates.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let template = Template::from_globs(&globs)
            .map_err(|e| format!("failed to parse templates: {e}"))?
            .with_clock(d.clock.clone());
        let template = Arc::new(template);
        warn_intervals(&config.route, d.retention);

        let active = active_receivers(&config.route);
        let mut receivers: HashMap<String, Vec<Integration>> = HashMap::new();
        let mut integrations = 0usize;
        for r in &config.receivers {
            if !active.contains(r.name.as_str()) {
                tracing::info!(component = "configuration", receiver = %r.name,
                    "skipping creation of receiver not referenced by any route");
                continue;
            }
            let built: Vec<Integration> =
                tocsin_receivers::build(r, &template, &d.clock).into_iter().map(Integration::from).collect();
            integrations += built.len();
            receivers.insert(r.name.clone(), built);
        }

        // Upstream stops the old inhibitor and dispatcher before starting the new ones.
        if let Some(old) = self.current.write().take() {
            old.stop();
        }
        let inhibitor = Arc::new(Inhibitor::new(inhibit_rules(config), Arc::clone(&d.alerts)));
        let inhibitor_task = inhibitor.start(d.clock.clone());
        let group_markers = Arc::new(GroupMarkers::default());
        let pipeline_deps = PipelineDeps {
            clock: d.clock.clone(),
            alerts: Arc::clone(&d.alerts),
            silences: Arc::clone(&d.silences),
            nflog: Arc::clone(&d.nflog),
            inhibitor,
            time_intervals: Arc::new(config.time_intervals.clone()),
            group_markers: group_markers.clone(),
            peer: Arc::clone(&d.peer),
            peer_timeout: d.peer_timeout,
            jitter: Arc::clone(&d.jitter),
            metrics: Arc::clone(&d.metrics),
            nflog_sync: d.nflog_sync.clone(),
        };
        let pipelines = build_pipelines(&receivers, &pipeline_deps);
        let dispatcher = Dispatcher::start(
            Arc::new(Route::from_config(&config.route)),
            pipelines,
            &d.alerts,
            DispatcherOptions {
                clock: d.clock.clone(),
                peer: Arc::clone(&d.peer),
                peer_timeout: d.peer_timeout,
                external_url: d.external_url.clone(),
                group_markers,
                metrics: Arc::clone(&d.metrics),
            },
        );
        tracing::debug!(receivers = receivers.len(), integrations, "Notification pipeline started");
        *self.current.write() = Some(Running { dispatcher, inhibitor: inhibitor_task });
        Ok(())
    }

    /// Stops the dispatcher and inhibitor (shutdown): flushes in progress are cancelled, nothing new is sent.
    pub fn stop(&self) {
        if let Some(old) = self.current.write().take() {
            old.stop();
        }
    }
}

impl Router for LivePipeline {
    fn receivers(&self, labels: &LabelSet) -> Vec<String> {
        self.current.read().as_ref().map(|r| r.dispatcher.receivers(labels)).unwrap_or_default()
    }

    fn groups(&self) -> Vec<GroupSnapshot> {
        let current = self.current.read();
        let Some(r) = current.as_ref() else {
            return Vec::new();
        };
        // The API filters alerts (resolved, silenced, inhibited, matchers) itself from the store.
        let (groups, _) = r.dispatcher.groups(|_| true, |_, _| true);
        groups
            .into_iter()
            .map(|g| GroupSnapshot {
                labels: g.labels,
                receiver: g.receiver,
                alerts: g.alerts.iter().map(|a| a.fingerprint()).collect(),
            })
            .collect()
    }
}

/// Receivers some route sends to; the others are not built (upstream skips them too).
fn active_receivers(route: &tocsin_config::Route) -> HashSet<&str> {
    let mut out = HashSet::new();
    let mut stack = vec![route];
    while let Some(r) = stack.pop() {
        out.insert(r.receiver.as_str());
        stack.extend(r.routes.iter());
    }
    out
}

/// Upstream's (0.26+) warnings about timings that do not do what operators usually expect.
fn warn_intervals(route: &tocsin_config::Route, retention: Duration) {
    let mut stack = vec![route];
    while let Some(r) = stack.pop() {
        if r.repeat_interval > retention {
            tracing::warn!(component = "configuration", repeat_interval = ?r.repeat_interval,
                retention = ?retention, route = %r.key(),
                "repeat_interval is greater than the data retention period. It can lead to notifications being repeated more often than expected.");
        }
        if r.repeat_interval < r.group_interval {
            tracing::warn!(component = "configuration", repeat_interval = ?r.repeat_interval,
                group_interval = ?r.group_interval, route = %r.key(),
                "repeat_interval is less than group_interval. Notifications will not repeat until the next group_interval.");
        }
        stack.extend(r.routes.iter());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use tocsin_config::ParseMode;

    #[test]
    fn active_receivers_walks_the_tree() {
        let cfg = tocsin_config::load_str(
            "route:\n  receiver: a\n  routes:\n  - receiver: b\n    routes:\n    - receiver: c\nreceivers:\n- name: a\n- name: b\n- name: c\n- name: unused\n",
            Path::new("."),
            ParseMode::default(),
        )
        .expect("valid config");
        let mut got: Vec<_> = active_receivers(&cfg.route).into_iter().collect();
        got.sort_unstable();
        assert_eq!(got, ["a", "b", "c"]);
    }
}
