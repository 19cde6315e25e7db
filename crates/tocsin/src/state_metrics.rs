//! The notification log's and the silences' own metric families (reference §9 and §6): maintenance (GC then
//! snapshot) durations, snapshot sizes and run/failure counts, query counts and durations, and gossip merges that
//! changed local state. Names and help texts are upstream's (0.25 output, 0.26+ source for the maintenance
//! counters), so existing dashboards keep working.
//!
//! Where the values come from:
//! - maintenance: [`spawn_maintenance`] replaces `Storage::spawn_maintenance`. It runs the same steps as
//!   `Storage::maintenance` (GC at `now`, then a compacting snapshot), but per store and timed step by step, as
//!   upstream's silences and nflog each run and count their own maintenance.
//! - gossip: [`CountPropagated`] wraps a replicated state and counts the entries each merge changed.
//! - queries: each store counts and times its own queries, as upstream's `Silences.Query` and `Log.Query` do,
//!   through the observer [`StateMetrics::observe_queries`] gives it. Silences: one per silencer lookup (the notify
//!   pipeline's silence stage and the API's alert status refresh, skipped on the same fast path as upstream's),
//!   per `GET /api/v2/silences` and `GET /api/v2/silence/{id}`, and three per `/metrics` scrape (upstream's
//!   `alertmanager_silences{state}` gauges each query). tocsin has no silence query that can fail: upstream's only
//!   failure is a stored matcher that does not compile, which tocsin rejects before storing, so
//!   `alertmanager_silences_query_errors_total` stays 0 (bad API filters are a 400 before any query, upstream too).
//!   Notification log: one per lookup (the dedup stage, and the in-flight stage's re-check after waiting for a
//!   peer, which upstream does not have), a not-found counted as an error as upstream's `ErrNotFound` is.
//!   `alertmanager_nflog_queries_total` and `_query_errors_total` stay registered by `tocsin_pipeline::Metrics`
//!   (so the pipeline's metric set keeps its names); [`StateMetrics::with_nflog_query_counters`] makes them the
//!   ones the log's observer increments, so each query is counted once, in one place.
//!
//! Upstream's `*_gc_duration_seconds` and `*_snapshot_duration_seconds` are summaries without quantiles.
//! prometheus-client cannot encode the summary type, so they are histograms with only the `+Inf` bucket: the
//! `_sum` and `_count` series are upstream's, plus one `_bucket{le="+Inf"}` equal to `_count`.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;
use tocsin_gossip::{MergeError, Replicated};
use tocsin_model::clock::SharedClock;
use tocsin_state::nflog::NotificationLog;
use tocsin_state::storage::{SnapshotInfo, Storage, StorageError};
use tocsin_state::Silences;

/// The families one store (silences or the notification log) exposes.
#[derive(Debug, Clone)]
pub struct StoreMetrics {
    pub gc_duration: Histogram,
    pub snapshot_duration: Histogram,
    pub snapshot_size: Gauge,
    pub queries: Counter,
    pub query_errors: Counter,
    pub query_duration: Histogram,
    pub propagated: Counter,
    pub maintenance: Counter,
    pub maintenance_errors: Counter,
}

impl StoreMetrics {
    fn new(propagated: Counter) -> Self {
        Self {
            gc_duration: summary(),
            snapshot_duration: summary(),
            snapshot_size: Gauge::default(),
            queries: Counter::default(),
            query_errors: Counter::default(),
            query_duration: query_histogram(),
            propagated,
            maintenance: Counter::default(),
            maintenance_errors: Counter::default(),
        }
    }

    /// Records one maintenance run: its GC time, and the snapshot's time and size or the failure.
    fn record(&self, gc: Duration, snapshot: Duration, result: &Result<SnapshotInfo, StorageError>) {
        self.maintenance.inc();
        self.gc_duration.observe(gc.as_secs_f64());
        match result {
            Ok(info) => {
                self.snapshot_duration.observe(snapshot.as_secs_f64());
                self.snapshot_size.set(i64::try_from(info.bytes).unwrap_or(i64::MAX));
            }
            Err(_) => {
                self.maintenance_errors.inc();
            }
        }
    }
}

/// A summary without objectives, as closely as prometheus-client allows (see the module doc).
fn summary() -> Histogram {
    Histogram::new(std::iter::empty())
}

/// What one store's queries feed: `*_queries_total`, `*_query_errors_total`, `*_query_duration_seconds`.
#[derive(Debug)]
struct QueryCounts {
    queries: Counter,
    errors: Counter,
    duration: Histogram,
}

impl tocsin_state::QueryMetrics for QueryCounts {
    fn observe(&self, failed: bool, elapsed: Duration) {
        self.queries.inc();
        if failed {
            self.errors.inc();
        }
        self.duration.observe(elapsed.as_secs_f64());
    }
}

impl StoreMetrics {
    fn query_counts(&self) -> Arc<QueryCounts> {
        Arc::new(QueryCounts {
            queries: self.queries.clone(),
            errors: self.query_errors.clone(),
            duration: self.query_duration.clone(),
        })
    }
}

/// Prometheus' default buckets (`prometheus.DefBuckets`), which upstream's query histograms use.
fn query_histogram() -> Histogram {
    Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
}

/// The counters the cluster increments for merges that changed local state; cheap to clone (shared values).
#[derive(Debug, Clone, Default)]
pub struct Propagated {
    pub silences: Counter,
    pub nflog: Counter,
}

/// Both stores' families.
#[derive(Debug, Clone)]
pub struct StateMetrics {
    pub silences: StoreMetrics,
    pub nflog: StoreMetrics,
}

/// Upstream's help texts, by family suffix, for the silences and for the notification log.
struct Help {
    suffix: &'static str,
    silences: &'static str,
    nflog: &'static str,
}

const HELP: [Help; 9] = [
    Help {
        suffix: "gc_duration_seconds",
        silences: "Duration of the last silence garbage collection cycle.",
        nflog: "Duration of the last notification log garbage collection cycle.",
    },
    Help {
        suffix: "snapshot_duration_seconds",
        silences: "Duration of the last silence snapshot.",
        nflog: "Duration of the last notification log snapshot.",
    },
    Help {
        suffix: "snapshot_size_bytes",
        silences: "Size of the last silence snapshot in bytes.",
        nflog: "Size of the last notification log snapshot in bytes.",
    },
    Help {
        suffix: "queries",
        silences: "How many silence queries were received.",
        nflog: "Number of notification log queries were received.",
    },
    Help {
        suffix: "query_errors",
        silences: "How many silence received queries did not succeed.",
        nflog: "Number notification log received queries that failed.",
    },
    Help {
        suffix: "query_duration_seconds",
        silences: "Duration of silence query evaluation.",
        nflog: "Duration of notification log query evaluation.",
    },
    Help {
        suffix: "gossip_messages_propagated",
        silences: "Number of received gossip messages that have been further gossiped.",
        nflog: "Number of received gossip messages that have been further gossiped.",
    },
    Help {
        suffix: "maintenance",
        silences: "How many maintenances were executed for silences.",
        nflog: "How many maintenances were executed for the notification log.",
    },
    Help {
        suffix: "maintenance_errors",
        silences: "How many maintenances were executed for silences that failed.",
        nflog: "How many maintenances were executed for the notification log that failed.",
    },
];

impl StateMetrics {
    /// Registers every `alertmanager_silences_*` and `alertmanager_nflog_*` family except
    /// `alertmanager_nflog_queries_total` and `_query_errors_total`, which `tocsin_pipeline::Metrics` registers
    /// (see [`StateMetrics::with_nflog_query_counters`]). `propagated` are the counters the cluster runtime increments (defaults without clustering).
    pub fn register(registry: &mut Registry, propagated: Propagated) -> Self {
        let m = Self {
            silences: StoreMetrics::new(propagated.silences),
            nflog: StoreMetrics::new(propagated.nflog),
        };
        register_store(registry, "alertmanager_silences", &m.silences, |h| h.silences, true);
        register_store(registry, "alertmanager_nflog", &m.nflog, |h| h.nflog, false);
        m
    }

    /// Uses the pipeline's `alertmanager_nflog_queries_total` and `_query_errors_total` (registered there) as the
    /// notification log's query counters.
    pub fn with_nflog_query_counters(mut self, pipeline: &tocsin_pipeline::Metrics) -> Self {
        self.nflog.queries = pipeline.nflog_queries.clone();
        self.nflog.query_errors = pipeline.nflog_query_errors.clone();
        self
    }

    /// Makes both stores count and time their queries into these families from now on (once per store; a second
    /// call keeps the first observers).
    pub fn observe_queries(&self, silences: &Silences, nflog: &NotificationLog) {
        silences.set_query_metrics(self.silences.query_counts());
        nflog.set_query_metrics(self.nflog.query_counts());
    }
}

fn register_store(
    registry: &mut Registry,
    prefix: &str,
    m: &StoreMetrics,
    help: fn(&Help) -> &'static str,
    with_query_counters: bool,
) {
    for h in &HELP {
        let name = format!("{prefix}_{}", h.suffix);
        // The registry appends the final full stop itself.
        let text = help(h).strip_suffix('.').unwrap_or(help(h));
        // prometheus-client appends `_total` to counter names itself.
        match h.suffix {
            "gc_duration_seconds" => registry.register(name, text, m.gc_duration.clone()),
            "snapshot_duration_seconds" => registry.register(name, text, m.snapshot_duration.clone()),
            "snapshot_size_bytes" => registry.register(name, text, m.snapshot_size.clone()),
            "queries" if with_query_counters => registry.register(name, text, m.queries.clone()),
            "query_errors" if with_query_counters => registry.register(name, text, m.query_errors.clone()),
            "query_duration_seconds" => registry.register(name, text, m.query_duration.clone()),
            "gossip_messages_propagated" => registry.register(name, text, m.propagated.clone()),
            "maintenance" => registry.register(name, text, m.maintenance.clone()),
            "maintenance_errors" => registry.register(name, text, m.maintenance_errors.clone()),
            _ => {}
        }
    }
}

/// What one maintenance run did to each store.
#[derive(Debug)]
pub struct MaintenanceOutcome {
    pub silences_removed: usize,
    pub nflog_removed: usize,
    pub silences: Result<SnapshotInfo, StorageError>,
    pub nflog: Result<SnapshotInfo, StorageError>,
}

/// One maintenance run at `now`: for the silences, then for the notification log, GC (`--data.retention`) and a
/// compacting snapshot, each timed into `metrics`. A failing store does not stop the other's maintenance.
pub async fn maintain(
    storage: &Storage,
    metrics: &StateMetrics,
    now: chrono::DateTime<chrono::Utc>,
) -> MaintenanceOutcome {
    let start = tokio::time::Instant::now();
    let silences_removed = storage.silences().silences().gc(now);
    let gc = start.elapsed();
    let start = tokio::time::Instant::now();
    let silences = storage.silences().log().snapshot().await;
    metrics.silences.record(gc, start.elapsed(), &silences);

    let start = tokio::time::Instant::now();
    let nflog_removed = storage.nflog().nflog().gc(now);
    let gc = start.elapsed();
    let start = tokio::time::Instant::now();
    let nflog = storage.nflog().log().snapshot().await;
    metrics.nflog.record(gc, start.elapsed(), &nflog);
    MaintenanceOutcome { silences_removed, nflog_removed, silences, nflog }
}

/// Runs [`maintain`] every `interval` (`--data.maintenance-interval`; first run after one interval) until the
/// task is aborted. Replaces `Storage::spawn_maintenance`, adding the metrics.
pub fn spawn_maintenance(
    storage: Arc<Storage>,
    metrics: StateMetrics,
    clock: SharedClock,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let interval = interval.max(Duration::from_millis(1));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let o = maintain(&storage, &metrics, clock.now()).await;
            for (store, removed, result) in
                [("silences", o.silences_removed, &o.silences), ("nflog", o.nflog_removed, &o.nflog)]
            {
                match result {
                    Ok(info) => {
                        tracing::debug!(store, removed, snapshot_bytes = info.bytes, "maintenance done")
                    }
                    Err(err) => tracing::error!(store, %err, "Running maintenance failed"),
                }
            }
        }
    })
}

/// A replicated state whose merges count the entries that changed local state
/// (`alertmanager_{silences,nflog}_gossip_messages_propagated_total`).
#[derive(Debug)]
pub struct CountPropagated<S> {
    pub inner: S,
    pub propagated: Counter,
}

impl<S: Replicated> Replicated for CountPropagated<S> {
    fn key(&self) -> &'static str {
        self.inner.key()
    }

    fn full_state(&self) -> Vec<u8> {
        self.inner.full_state()
    }

    fn merge(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, MergeError> {
        let changed = self.inner.merge(bytes)?;
        self.propagated.inc_by(changed.len() as u64);
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::replicated::{silence_delta, SilencesState};
    use prometheus_client::encoding::text::encode;
    use tocsin_model::clock::{Clock, SystemClock};
    use tocsin_model::MatchType;
    use tocsin_state::nflog::Receiver;
    use tocsin_state::storage::StorageOptions;
    use tocsin_state::{MatcherSpec, PostableSilence};

    fn render(registry: &Registry) -> String {
        let mut text = String::new();
        encode(&mut text, registry).expect("encode");
        text
    }

    #[test]
    fn every_family_has_upstream_name_and_type() {
        let mut registry = Registry::default();
        StateMetrics::register(&mut registry, Propagated::default());
        let text = render(&registry);
        struct Case {
            name: String,
            want: &'static str,
        }
        let mut cases = Vec::new();
        for store in ["silences", "nflog"] {
            for (suffix, want) in [
                ("gc_duration_seconds", "histogram"),
                ("snapshot_duration_seconds", "histogram"),
                ("snapshot_size_bytes", "gauge"),
                ("query_duration_seconds", "histogram"),
                ("gossip_messages_propagated_total", "counter"),
                ("maintenance_total", "counter"),
                ("maintenance_errors_total", "counter"),
            ] {
                cases.push(Case { name: format!("alertmanager_{store}_{suffix}"), want });
            }
        }
        cases.push(Case { name: "alertmanager_silences_queries_total".into(), want: "counter" });
        cases.push(Case { name: "alertmanager_silences_query_errors_total".into(), want: "counter" });
        for c in &cases {
            let family = c.name.strip_suffix("_total").unwrap_or(&c.name);
            let line = format!("# TYPE {family} {}\n", c.want);
            assert!(text.contains(&line), "{}: missing {line:?} in\n{text}", c.name);
            assert!(text.contains(&format!("\n{} 0\n", c.name)) || c.want == "histogram", "{}", c.name);
        }
        for want in [
            "# HELP alertmanager_silences_snapshot_size_bytes Size of the last silence snapshot in bytes.\n",
            "# HELP alertmanager_nflog_maintenance_errors How many maintenances were executed for the notification \
             log that failed.\n",
            "# HELP alertmanager_silences_gossip_messages_propagated Number of received gossip messages that have \
             been further gossiped.\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        // The pipeline owns these two; registering them twice would duplicate the families.
        assert!(!text.contains("alertmanager_nflog_queries"), "{text}");
        assert!(!text.contains("alertmanager_nflog_query_errors"), "{text}");
        // Upstream's default buckets on the query histograms; summaries only have +Inf.
        assert!(
            text.contains("alertmanager_silences_query_duration_seconds_bucket{le=\"0.005\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("alertmanager_nflog_gc_duration_seconds_bucket{le=\"+Inf\"} 0\n"), "{text}");
        assert!(!text.contains("alertmanager_nflog_gc_duration_seconds_bucket{le=\"0.005\"}"), "{text}");
    }

    async fn open(dir: &std::path::Path) -> (Arc<Storage>, Arc<Silences>) {
        let clock: SharedClock = Arc::new(SystemClock);
        let silences = Arc::new(Silences::new(Default::default(), clock.clone()));
        let nflog = Arc::new(NotificationLog::new(Duration::from_secs(3600)));
        let storage =
            Storage::open(&StorageOptions::new(dir), silences.clone(), nflog, clock).expect("storage opens");
        (Arc::new(storage), silences)
    }

    fn silence() -> PostableSilence {
        PostableSilence {
            id: None,
            matchers: vec![MatcherSpec { ty: MatchType::Equal, name: "alertname".into(), value: "A".into() }],
            starts_at: None,
            ends_at: SystemClock.now() + chrono::Duration::hours(1),
            created_by: "me".into(),
            comment: "c".into(),
        }
    }

    /// The application's wiring: the pipeline's and the stores' families in one registry, both stores observed.
    struct Wired {
        registry: Registry,
        silences: Silences,
        nflog: NotificationLog,
    }

    fn wired() -> Wired {
        let mut registry = Registry::default();
        let pipeline = tocsin_pipeline::Metrics::register(&mut registry);
        let m =
            StateMetrics::register(&mut registry, Propagated::default()).with_nflog_query_counters(&pipeline);
        let silences = Silences::new(Default::default(), Arc::new(SystemClock));
        let nflog = NotificationLog::new(Duration::from_secs(3600));
        m.observe_queries(&silences, &nflog);
        Wired { registry, silences, nflog }
    }

    impl Wired {
        /// The value of the one sample called `name`.
        fn sample(&self, name: &str) -> u64 {
            let text = render(&self.registry);
            let mut values = text.lines().filter_map(|l| l.strip_prefix(name)?.strip_prefix(' '));
            let v = values.next().unwrap_or_else(|| panic!("no {name} in\n{text}"));
            assert!(values.next().is_none(), "{name} twice in\n{text}");
            v.parse().unwrap_or_else(|e| panic!("{name} {v}: {e}"))
        }

        /// Runs `f` and returns how much the sample `name` moved.
        fn moved(&self, name: &str, f: impl FnOnce(&Self)) -> u64 {
            let before = self.sample(name);
            f(self);
            self.sample(name) - before
        }

        fn silence_query_kinds(&self) {
            let labels = [("alertname", "A")].into_iter().collect();
            let id = self.silences.set(silence()).expect("valid silence");
            let now = SystemClock.now();
            let m = self.silences.matching(&labels, now);
            assert_eq!(m.active, std::slice::from_ref(&id));
            assert_eq!(self.silences.mutes_among(&m.active, &labels, now), std::slice::from_ref(&id));
            assert!(self.silences.get(&id).is_some());
            assert!(self.silences.get("unknown").is_none());
            assert_eq!(self.silences.query(&[], now).len(), 1);
            assert_eq!(self.silences.counts(now).active, 1);
        }
    }

    fn recv() -> Receiver {
        Receiver { group_name: "r".into(), integration: "webhook".into(), idx: 0 }
    }

    /// A miss (the first flush of a group), a write, a hit.
    fn nflog_miss_then_hit(w: &Wired) {
        assert!(w.nflog.query("g", &recv()).is_err());
        assert!(w.nflog.log(
            &recv(),
            "g",
            Default::default(),
            Default::default(),
            Duration::ZERO,
            SystemClock.now()
        ));
        assert!(w.nflog.query("g", &recv()).is_ok());
    }

    #[test]
    fn silence_queries_are_counted() {
        let w = wired();
        // matching, mutes_among, two gets, the API list, and the three state gauges.
        assert_eq!(w.moved("alertmanager_silences_queries_total", Wired::silence_query_kinds), 8);
        assert_eq!(
            w.moved("alertmanager_silences_queries_total", |w| {
                w.silences.gc(SystemClock.now());
            }),
            0
        );
    }

    #[test]
    fn silence_queries_do_not_fail() {
        let w = wired();
        assert_eq!(w.moved("alertmanager_silences_query_errors_total", Wired::silence_query_kinds), 0);
    }

    #[test]
    fn silence_queries_are_timed() {
        let w = wired();
        assert_eq!(
            w.moved("alertmanager_silences_query_duration_seconds_count", Wired::silence_query_kinds),
            8
        );
        assert_eq!(w.sample("alertmanager_silences_query_duration_seconds_bucket{le=\"+Inf\"}"), 8);
    }

    #[test]
    fn nflog_queries_are_counted_once() {
        let w = wired();
        assert_eq!(w.moved("alertmanager_nflog_queries_total", nflog_miss_then_hit), 2);
        // The silences' observer is a different one.
        assert_eq!(w.sample("alertmanager_silences_queries_total"), 0);
    }

    #[test]
    fn nflog_misses_are_query_errors() {
        let w = wired();
        assert_eq!(w.moved("alertmanager_nflog_query_errors_total", nflog_miss_then_hit), 1);
    }

    #[test]
    fn nflog_queries_are_timed() {
        let w = wired();
        assert_eq!(w.moved("alertmanager_nflog_query_duration_seconds_count", nflog_miss_then_hit), 2);
        assert_eq!(w.sample("alertmanager_silences_query_duration_seconds_count"), 0);
    }

    #[tokio::test]
    async fn maintenance_counts_runs_sizes_and_failures() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (storage, silences) = open(dir.path()).await;
        silences.set(silence()).expect("valid silence");
        let mut registry = Registry::default();
        let m = StateMetrics::register(&mut registry, Propagated::default());

        let o = maintain(&storage, &m, SystemClock.now()).await;
        assert!(o.silences.is_ok() && o.nflog.is_ok(), "{o:?}");
        assert_eq!(m.silences.maintenance.get(), 1);
        assert_eq!(m.nflog.maintenance.get(), 1);
        assert_eq!(m.silences.maintenance_errors.get(), 0);
        let text = render(&registry);
        assert!(text.contains("alertmanager_silences_maintenance_total 1\n"), "{text}");
        assert!(text.contains("alertmanager_nflog_maintenance_total 1\n"), "{text}");
        assert!(text.contains("alertmanager_silences_gc_duration_seconds_count 1\n"), "{text}");
        assert!(text.contains("alertmanager_nflog_snapshot_duration_seconds_count 1\n"), "{text}");
        let size = o.silences.as_ref().map(|i| i.bytes).unwrap_or(0);
        assert!(size > 0, "{o:?}");
        assert_eq!(m.silences.snapshot_size.get(), i64::try_from(size).unwrap());

        // A closed storage cannot snapshot: the run is counted, and so is its failure.
        storage.close().await.expect("close");
        let o = maintain(&storage, &m, SystemClock.now()).await;
        assert!(o.silences.is_err() && o.nflog.is_err(), "{o:?}");
        assert_eq!(m.silences.maintenance.get(), 2);
        assert_eq!(m.silences.maintenance_errors.get(), 1);
        assert_eq!(m.nflog.maintenance_errors.get(), 1);
        assert_eq!(m.silences.snapshot_size.get(), i64::try_from(size).unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_runs_on_the_interval() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (storage, _silences) = open(dir.path()).await;
        let mut registry = Registry::default();
        let m = StateMetrics::register(&mut registry, Propagated::default());
        let clock: SharedClock = Arc::new(SystemClock);
        let task = spawn_maintenance(storage, m.clone(), clock, Duration::from_secs(900));
        tokio::task::yield_now().await;
        assert_eq!(m.silences.maintenance.get(), 0, "first run after one interval");
        tokio::time::sleep(Duration::from_secs(901)).await;
        // The snapshot is written on the storage's own thread; paused time stands still meanwhile.
        while m.nflog.maintenance.get() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(m.silences.maintenance.get(), 1);
        task.abort();
    }

    #[test]
    fn merges_that_change_state_are_counted() {
        let clock: SharedClock = Arc::new(SystemClock);
        let source = Silences::new(Default::default(), clock.clone());
        let id = source.set(silence()).expect("valid silence");
        let mesh = source.full_state().into_iter().find(|m| m.silence.id == id).expect("stored");
        let counter = Counter::default();
        let state = CountPropagated {
            inner: SilencesState(Arc::new(Silences::new(Default::default(), clock))),
            propagated: counter.clone(),
        };
        let delta = silence_delta(&mesh);
        assert_eq!(state.merge(&delta).expect("merges").len(), 1);
        assert_eq!(counter.get(), 1);
        // Already known: nothing changed, nothing propagated.
        assert!(state.merge(&delta).expect("merges").is_empty());
        assert_eq!(counter.get(), 1);
        assert!(state.merge(b"garbage").is_err());
        assert_eq!(counter.get(), 1);
    }
}
