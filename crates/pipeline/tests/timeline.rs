//! Exact notification timelines under paused tokio time: the wall clock is tied to tokio's clock, alerts go into
//! the real alert store, the real dispatcher and pipeline run, and a recording notifier notes when it was called.
//! No sleeps for timing, no tolerance windows: every instant asserted is the one Alertmanager's rules give.

use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::SharedClock;
use tocsin_model::time::utc;
use tocsin_model::timeinterval::TimeInterval;
use tocsin_model::{Alert, Clock, LabelSet, MatchType, Matcher, Matchers};
use tocsin_pipeline::retry::{Backoff, SeededJitter};
use tocsin_pipeline::testing::{RecordingNotifier, Sent, TokioClock};
use tocsin_pipeline::time_stages::{GroupMarkers, TimeIntervals};
use tocsin_pipeline::{
    build_pipelines, Dispatcher, DispatcherOptions, GroupBy, InhibitRule, Inhibitor, Integration, Metrics,
    PipelineDeps, Route, RouteNode, RouteOpts, SingleNode,
};
use tocsin_state::nflog::NotificationLog;
use tocsin_state::{AlertStore, MatcherSpec, PostableSilence, Silences, SilencesOptions};

const S: u64 = 1;
const M: u64 = 60;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

struct Setup {
    root: RouteNode,
    /// (receiver, send_resolved)
    receivers: Vec<(&'static str, bool)>,
    rules: Vec<InhibitRule>,
    intervals: TimeIntervals,
    start: DateTime<Utc>,
    jitter_seed: u64,
}

impl Setup {
    fn new(root: RouteNode, receivers: Vec<(&'static str, bool)>) -> Self {
        Self {
            root,
            receivers,
            rules: Vec::new(),
            intervals: TimeIntervals::new(),
            start: Utc.with_ymd_and_hms(2024, 1, 1, 9, 0, 0).unwrap(),
            jitter_seed: 42,
        }
    }
}

struct Harness {
    clock: Arc<TokioClock>,
    store: Arc<AlertStore>,
    silences: Arc<Silences>,
    nflog: Arc<NotificationLog>,
    notifiers: HashMap<&'static str, Arc<RecordingNotifier>>,
    deps: PipelineDeps,
    receivers: HashMap<String, Vec<Integration>>,
    route: Arc<Route>,
    dispatcher: Option<Dispatcher>,
    _inhibitor_task: tokio::task::JoinHandle<()>,
}

impl Harness {
    fn start(s: Setup) -> Self {
        let clock = Arc::new(TokioClock::new(s.start));
        let shared: SharedClock = clock.clone();
        let store = Arc::new(AlertStore::new(shared.clone()));
        let silences = Arc::new(Silences::new(SilencesOptions::default(), shared.clone()));
        let nflog = Arc::new(NotificationLog::new(Duration::from_secs(120 * 3600)));
        let inhibitor = Arc::new(Inhibitor::new(s.rules, Arc::clone(&store)));
        let inhibitor_task = inhibitor.start(shared.clone());
        let mut notifiers = HashMap::new();
        let mut receivers = HashMap::new();
        for (name, send_resolved) in s.receivers {
            let n = RecordingNotifier::new(send_resolved);
            receivers.insert(name.to_owned(), vec![Integration::new("webhook", 0, n.clone())]);
            notifiers.insert(name, n);
        }
        let deps = PipelineDeps {
            clock: shared.clone(),
            alerts: Arc::clone(&store),
            silences: Arc::clone(&silences),
            nflog: Arc::clone(&nflog),
            inhibitor,
            time_intervals: Arc::new(s.intervals),
            group_markers: Arc::new(GroupMarkers::default()),
            peer: Arc::new(SingleNode),
            peer_timeout: secs(15),
            jitter: Arc::new(SeededJitter::new(s.jitter_seed)),
            metrics: Arc::new(Metrics::unregistered()),
        };
        let mut h = Harness {
            clock,
            store,
            silences,
            nflog,
            notifiers,
            deps,
            receivers,
            route: Arc::new(Route::new(s.root)),
            dispatcher: None,
            _inhibitor_task: inhibitor_task,
        };
        h.reload();
        h
    }

    /// Stops the dispatcher (if any) and starts a new one, as a config reload does.
    fn reload(&mut self) {
        if let Some(d) = self.dispatcher.take() {
            d.stop();
        }
        let pipelines = build_pipelines(&self.receivers, &self.deps);
        self.dispatcher = Some(Dispatcher::start(
            Arc::clone(&self.route),
            pipelines,
            &self.store,
            DispatcherOptions {
                clock: self.deps.clock.clone(),
                peer: Arc::new(SingleNode),
                peer_timeout: secs(15),
                external_url: "http://am.example".into(),
                group_markers: self.deps.group_markers.clone(),
                metrics: self.deps.metrics.clone(),
            },
        ));
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Posts a firing alert that started now and ends in a day.
    fn fire(&self, labels: &[(&str, &str)]) {
        self.fire_since(labels, self.now());
    }

    fn fire_since(&self, labels: &[(&str, &str)], starts_at: DateTime<Utc>) {
        let now = self.now();
        self.store.put(alert(labels, starts_at, now + chrono::Duration::days(1), now));
    }

    /// Posts the alert again with `endsAt = now`.
    fn resolve(&self, labels: &[(&str, &str)]) {
        let now = self.now();
        let ls: LabelSet = labels.iter().copied().collect();
        let starts = self.store.get(ls.fingerprint()).map_or(now, |a| a.starts_at.with_timezone(&Utc));
        self.store.put(alert(labels, starts, now, now));
    }

    /// Advances tokio time to `t` seconds after the start, letting every timer due until then fire.
    async fn run_until(&self, t: u64) {
        let target = secs(t);
        let elapsed = self.clock.elapsed();
        assert!(target >= elapsed, "time only moves forward");
        tokio::time::sleep(target - elapsed).await;
    }

    fn sent(&self, receiver: &str) -> Vec<Sent> {
        self.notifiers[receiver].sent()
    }

    fn metrics(&self) -> &Metrics {
        &self.deps.metrics
    }
}

fn alert(labels: &[(&str, &str)], starts: DateTime<Utc>, ends: DateTime<Utc>, updated: DateTime<Utc>) -> Alert {
    Alert {
        labels: labels.iter().copied().collect(),
        annotations: LabelSet::new(),
        starts_at: utc(starts),
        ends_at: utc(ends),
        generator_url: String::new(),
        updated_at: utc(updated),
        timeout: false,
    }
}

fn eq(name: &str, value: &str) -> Matchers {
    Matchers(vec![Matcher::new(MatchType::Equal, name, value).unwrap()])
}

fn opts(receiver: &str, wait: u64, interval: u64, repeat: u64) -> RouteOpts {
    RouteOpts {
        receiver: receiver.into(),
        group_by: GroupBy::Labels(vec!["alertname".into()]),
        group_wait: secs(wait),
        group_interval: secs(interval),
        repeat_interval: secs(repeat),
        ..RouteOpts::default()
    }
}

fn root(o: RouteOpts) -> RouteNode {
    RouteNode { opts: o, ..RouteNode::default() }
}

/// (seconds since start, alerts with status) of each call, for compact assertions.
fn timeline(sent: &[Sent]) -> Vec<(u64, Vec<(&str, &str)>)> {
    sent.iter()
        .map(|s| {
            assert_eq!(s.at.subsec_nanos(), 0, "{s:?} not on a whole second");
            (s.at.as_secs(), s.alerts.iter().map(|(n, st)| (n.as_str(), *st)).collect())
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn group_wait_then_batching_on_the_interval_grid_then_repeat() {
    // group_wait 30s, group_interval 5m, repeat 1h.
    let h = Harness::start(Setup::new(
        root(RouteOpts { group_by: GroupBy::default(), ..opts("r", 30 * S, 5 * M, 60 * M) }),
        vec![("r", false)],
    ));
    h.fire(&[("alertname", "A")]);
    h.run_until(10).await;
    h.fire(&[("alertname", "B")]); // joins before the first flush: in the first notification
    h.run_until(60).await;
    h.fire(&[("alertname", "C")]); // joins late: next group_interval tick (30 + 300)
    h.run_until(2 * 3600).await;
    // Repeat: last send at 330; the first tick with now − 330 > 3600 is 30 + 300×14 = 4230 (3930 is not strictly
    // past), then 4230 + 3600 rounded up to the grid: 30 + 300×27 = 8130 > 7200, so nothing more.
    let c = [("A", "firing"), ("B", "firing"), ("C", "firing")];
    assert_eq!(
        timeline(&h.sent("r")),
        vec![(30, vec![("A", "firing"), ("B", "firing")]), (330, c.to_vec()), (4230, c.to_vec())]
    );
    assert_eq!(h.sent("r")[0].group_key, "{}:{}");
    assert_eq!(h.dispatcher.as_ref().unwrap().group_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn resolve_with_and_without_send_resolved_on_continue_routes() {
    // Two child routes, both with continue, so each alert reaches both receivers.
    let child = |r: &str| RouteNode {
        matchers: eq("team", "x"),
        continue_matching: true,
        opts: RouteOpts { group_by: GroupBy::default(), ..opts(r, 30 * S, M, 60 * M) },
        routes: vec![],
    };
    let mut top = root(opts("default", 30 * S, M, 60 * M));
    top.routes = vec![child("with"), child("without")];
    let h = Harness::start(Setup::new(top, vec![("with", true), ("without", false), ("default", true)]));
    h.fire(&[("alertname", "A"), ("team", "x")]);
    h.fire(&[("alertname", "B"), ("team", "x")]);
    h.run_until(45).await;
    h.resolve(&[("alertname", "A"), ("team", "x")]);
    h.run_until(100).await;
    h.resolve(&[("alertname", "B"), ("team", "x")]);
    h.run_until(400).await;
    let both = vec![("A", "firing"), ("B", "firing")];
    assert_eq!(
        timeline(&h.sent("with")),
        vec![(30, both.clone()), (90, vec![("A", "resolved"), ("B", "firing")]), (150, vec![("B", "resolved")])]
    );
    // Without send_resolved: A's resolution is not news; when everything resolved, no request is made but the
    // log records it, so nothing is sent later either.
    assert_eq!(timeline(&h.sent("without")), vec![(30, both)]);
    assert!(h.sent("default").is_empty());
    assert_eq!(h.sent("with")[0].group_key, "{}/{team=\"x\"}:{}");
    // Resolved alerts left their groups after being notified; the empty groups are gone after maintenance.
    let d = h.dispatcher.as_ref().unwrap();
    assert_eq!(d.group_count(), 0);
    let entry = h
        .nflog
        .query(
            "{}/{team=\"x\"}:{}",
            &tocsin_state::nflog::Receiver { group_name: "without".into(), integration: "webhook".into(), idx: 0 },
        )
        .unwrap();
    assert!(entry.firing_alerts.is_empty());
    assert_eq!(entry.resolved_alerts.len(), 1);
}
