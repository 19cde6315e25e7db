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
            nflog_sync: None,
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

fn alert(
    labels: &[(&str, &str)],
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    updated: DateTime<Utc>,
) -> Alert {
    Alert {
        labels: labels.iter().copied().collect(),
        annotations: Default::default(),
        starts_at: utc(starts),
        ends_at: utc(ends),
        generator_url: "".into(),
        updated_at: updated,
        timeout: false,
    }
}

fn eq(name: &str, value: &str) -> Matchers {
    Matchers(vec![Matcher::new(MatchType::Equal, name, value).expect("valid matcher")])
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
        vec![
            (30, both.clone()),
            (90, vec![("A", "resolved"), ("B", "firing")]),
            (150, vec![("B", "resolved")])
        ]
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
            &tocsin_state::nflog::Receiver {
                group_name: "without".into(),
                integration: "webhook".into(),
                idx: 0,
            },
        )
        .unwrap();
    assert!(entry.firing_alerts.is_empty());
    assert_eq!(entry.resolved_alerts.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn old_alert_flushes_at_once_and_reload_restarts_timers() {
    let mut h = Harness::start(Setup::new(
        root(RouteOpts { group_by: GroupBy::default(), ..opts("r", 30 * S, 5 * M, 4 * 3600) }),
        vec![("r", true)],
    ));
    h.run_until(5).await;
    // Started an hour ago (e.g. re-sent after a restart): its group_wait is over, so the group flushes now.
    h.fire_since(&[("alertname", "A")], h.now() - chrono::Duration::hours(1));
    h.run_until(100).await;
    h.reload();
    // The new dispatcher recreates the group from the store; the alert is overdue, so it flushes at once (t=100),
    // the log says it was already sent: nothing goes out, but the grid is now 100 + k×300.
    h.run_until(110).await;
    h.fire(&[("alertname", "B")]);
    h.run_until(1000).await;
    assert_eq!(
        timeline(&h.sent("r")),
        vec![(5, vec![("A", "firing")]), (400, vec![("A", "firing"), ("B", "firing")])]
    );
}

#[tokio::test(start_paused = true)]
async fn inhibition_follows_the_source() {
    let mut setup = Setup::new(
        root(RouteOpts { group_by: GroupBy::All, ..opts("r", 30 * S, M, 3600) }),
        vec![("r", true)],
    );
    setup.rules = vec![InhibitRule {
        source_matchers: eq("severity", "critical"),
        target_matchers: eq("severity", "warning"),
        equal: vec!["alertname".into()],
    }];
    let h = Harness::start(setup);
    let crit = [("alertname", "X"), ("severity", "critical")];
    let warn = [("alertname", "X"), ("severity", "warning")];
    h.fire(&crit);
    h.fire(&warn);
    h.run_until(40).await;
    let crit_fp = crit.iter().copied().collect::<LabelSet>().fingerprint();
    let warn_fp = warn.iter().copied().collect::<LabelSet>().fingerprint();
    assert_eq!(h.store.status(warn_fp).inhibited_by, vec![crit_fp.to_string()]);
    assert_eq!(h.store.status(warn_fp).state, tocsin_state::AlertState::Suppressed);
    h.run_until(100).await;
    h.resolve(&crit);
    h.run_until(200).await;
    let mut sent: Vec<(u64, String, &str)> =
        h.sent("r").into_iter().map(|s| (s.at.as_secs(), s.group_key, s.alerts[0].1)).collect();
    sent.sort();
    let ck = "{}:{alertname=\"X\", severity=\"critical\"}".to_owned();
    let wk = "{}:{alertname=\"X\", severity=\"warning\"}".to_owned();
    assert_eq!(sent, vec![(30, ck.clone(), "firing"), (150, ck, "resolved"), (150, wk, "firing")]);
    assert!(h.store.status(warn_fp).inhibited_by.is_empty());
    // The warning group was dropped at 30 and 90.
    let m = h.metrics();
    assert_eq!(Metrics::count(&m.suppressed, &[("reason", "inhibition")]), 2);
}

#[tokio::test(start_paused = true)]
async fn silence_added_and_expired_mid_group() {
    let h = Harness::start(Setup::new(
        root(RouteOpts { group_by: GroupBy::default(), ..opts("r", 30 * S, M, 3600) }),
        vec![("r", true)],
    ));
    h.fire(&[("alertname", "A")]);
    h.run_until(45).await;
    let id = h
        .silences
        .set(PostableSilence {
            id: None,
            matchers: vec![MatcherSpec { ty: MatchType::Equal, name: "alertname".into(), value: "A".into() }],
            starts_at: None,
            ends_at: h.now() + chrono::Duration::seconds(155), // until t=200
            created_by: "test".into(),
            comment: "mid-group".into(),
        })
        .unwrap();
    h.run_until(50).await;
    h.fire(&[("alertname", "B")]);
    h.run_until(100).await;
    let a_fp = [("alertname", "A")].into_iter().collect::<LabelSet>().fingerprint();
    assert_eq!(h.store.status(a_fp).silenced_by, vec![id]);
    h.run_until(300).await;
    assert_eq!(
        timeline(&h.sent("r")),
        vec![
            (30, vec![("A", "firing")]),
            (90, vec![("B", "firing")]),
            (210, vec![("A", "firing"), ("B", "firing")]),
        ]
    );
    assert!(h.store.status(a_fp).silenced_by.is_empty());
    // Dropped at 90 and 150.
    assert_eq!(Metrics::count(&h.metrics().suppressed, &[("reason", "silence")]), 2);
}

fn office_hours() -> TimeIntervals {
    let ti = TimeInterval {
        times: vec![tocsin_model::timeinterval::TimeRange { start_minute: 10 * 60, end_minute: 11 * 60 }],
        ..TimeInterval::default()
    };
    [("office".to_owned(), vec![ti])].into_iter().collect()
}

#[tokio::test(start_paused = true)]
async fn mute_time_interval_crossing_its_end() {
    let route = RouteOpts {
        group_by: GroupBy::default(),
        mute_time_intervals: vec!["office".into()],
        ..opts("r", 90 * S, 5 * M, 4 * 3600)
    };
    let mut setup = Setup::new(root(route), vec![("r", true)]);
    setup.start = Utc.with_ymd_and_hms(2024, 1, 1, 9, 59, 0).unwrap();
    setup.intervals = office_hours();
    let h = Harness::start(setup);
    h.fire(&[("alertname", "A")]);
    h.run_until(100).await;
    let (groups, _) = h.dispatcher.as_ref().unwrap().groups(|_| true, |_, _| true);
    assert_eq!(groups[0].muted_by, vec!["office".to_owned()]);
    h.run_until(4000).await;
    // First flush 10:00:30 (t=90) is inside 10:00-11:00; so is every tick until 10:55:30; 11:00:30 (t=3690) sends.
    assert_eq!(timeline(&h.sent("r")), vec![(3690, vec![("A", "firing")])]);
    assert_eq!(Metrics::count(&h.metrics().suppressed, &[("reason", "mute_time_interval")]), 12);
    let (groups, _) = h.dispatcher.as_ref().unwrap().groups(|_| true, |_, _| true);
    assert!(groups[0].muted_by.is_empty());
}

#[tokio::test(start_paused = true)]
async fn active_time_interval_crossing_its_end() {
    let route = RouteOpts {
        group_by: GroupBy::default(),
        active_time_intervals: vec!["office".into()],
        ..opts("r", 90 * S, 5 * M, 4 * 3600)
    };
    let mut setup = Setup::new(root(route), vec![("r", true)]);
    setup.start = Utc.with_ymd_and_hms(2024, 1, 1, 9, 59, 0).unwrap();
    setup.intervals = office_hours();
    let h = Harness::start(setup);
    h.fire(&[("alertname", "A")]);
    h.run_until(3540).await; // 10:58
    h.fire(&[("alertname", "B")]);
    h.run_until(4000).await;
    // 10:00:30 is active: sent. B would go out at the 11:00:30 tick, which is outside: dropped (2 alerts), and
    // so is the 11:05:30 tick (t=3990).
    assert_eq!(timeline(&h.sent("r")), vec![(90, vec![("A", "firing")])]);
    assert_eq!(Metrics::count(&h.metrics().suppressed, &[("reason", "active_time_interval")]), 4);
}

#[tokio::test(start_paused = true)]
async fn retries_with_backoff_until_the_flush_deadline() {
    let h = Harness::start(Setup::new(
        root(RouteOpts { group_by: GroupBy::default(), ..opts("r", 10 * S, M, 3600) }),
        vec![("r", true)],
    ));
    h.notifiers["r"].script((0..10_000).map(|_| RecordingNotifier::server_error()));
    h.fire(&[("alertname", "A")]);
    h.run_until(100).await;
    // Same seed, same draws: attempts start at the flush (t=10) and then every backoff (rounded up to tokio's
    // millisecond timer resolution) while before the deadline 10 + max(60s, 10s) = 70; the next flush at 70
    // starts over with a fresh backoff, continuing the same random stream.
    let jitter = SeededJitter::new(42);
    let mut want = Vec::new();
    for (flush, deadline) in [(10_000u64, 70_000u64), (70_000, 130_000)] {
        let mut b = Backoff::new(&jitter);
        let mut t = flush;
        while t < deadline {
            want.push(t);
            let next = b.next_backoff();
            t += (next.as_nanos() as u64).div_ceil(1_000_000);
        }
    }
    want.retain(|&t| t <= 100_000);
    let got: Vec<u64> = h.sent("r").iter().map(|s| s.at.as_millis() as u64).collect();
    assert_eq!(got, want);
    let m = h.metrics();
    let webhook = [("integration", "webhook")];
    assert_eq!(Metrics::count(&m.notifications, &webhook), 2);
    assert_eq!(Metrics::count(&m.notification_requests_failed, &webhook), want.len() as u64);
    assert_eq!(
        Metrics::count(&m.notifications_failed, &[("integration", "webhook"), ("reason", "serverError")]),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn unrecoverable_error_is_not_retried_and_next_flush_tries_again() {
    let h = Harness::start(Setup::new(
        root(RouteOpts { group_by: GroupBy::default(), ..opts("r", 10 * S, M, 3600) }),
        vec![("r", true)],
    ));
    h.notifiers["r"].script([RecordingNotifier::client_error()]);
    h.fire(&[("alertname", "A")]);
    h.run_until(100).await;
    // 400 at 10: no retry; nothing logged in the nflog, so the next tick (70) sends again and succeeds.
    assert_eq!(timeline(&h.sent("r")), vec![(10, vec![("A", "firing")]), (70, vec![("A", "firing")])]);
    assert_eq!(
        Metrics::count(
            &h.metrics().notifications_failed,
            &[("integration", "webhook"), ("reason", "clientError")]
        ),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn groups_and_receivers_for_the_api() {
    let child = RouteNode {
        matchers: eq("team", "b"),
        continue_matching: true,
        opts: RouteOpts { group_by: GroupBy::All, ..opts("b", 30 * S, M, 3600) },
        routes: vec![],
    };
    let mut top = root(opts("default", 30 * S, M, 3600));
    top.routes = vec![child];
    let h = Harness::start(Setup::new(top, vec![("b", true), ("default", true)]));
    h.fire(&[("alertname", "B"), ("team", "b")]);
    h.fire(&[("alertname", "A")]);
    h.run_until(1).await;
    let d = h.dispatcher.as_ref().unwrap();
    let (groups, receivers) = d.groups(|_| true, |_, _| true);
    let keys: Vec<(&str, &str)> =
        groups.iter().map(|g| (g.group_key.as_str(), g.receiver.as_str())).collect();
    assert_eq!(
        keys,
        vec![("{}:{alertname=\"A\"}", "default"), ("{}/{team=\"b\"}:{alertname=\"B\", team=\"b\"}", "b"),]
    );
    let b_fp = [("alertname", "B"), ("team", "b")].into_iter().collect::<LabelSet>().fingerprint();
    // A matching child (even with continue) means the parent itself is not a match.
    assert_eq!(receivers[&b_fp], vec!["b".to_owned()]);
    assert_eq!(d.receivers(&[("alertname", "B"), ("team", "b")].into_iter().collect()), vec!["b"]);
    let (only_b, _) = d.groups(|r| r == "b", |_, _| true);
    assert_eq!(only_b.len(), 1);
    assert_eq!(only_b[0].route_id, "{}/{team=\"b\"}/0");
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_groups_flush_on_time() {
    let h = Harness::start(Setup::new(
        root(RouteOpts { group_by: GroupBy::All, ..opts("r", 30 * S, 10 * S, 3600) }),
        vec![("r", true)],
    ));
    for i in 0..10_000 {
        let v = i.to_string();
        h.fire(&[("alertname", "Load"), ("instance", v.as_str())]);
    }
    h.run_until(45).await;
    assert_eq!(h.dispatcher.as_ref().unwrap().group_count(), 10_000);
    let sent = h.sent("r");
    assert_eq!(sent.len(), 10_000);
    assert!(sent.iter().all(|s| s.at == secs(30)));
    assert_eq!(h.metrics().aggregation_groups.get(), 10_000);
}
