//! The pipeline's self-metrics with Alertmanager's names, types and labels (reference §9). Registered into the
//! registry the application passes in; never global.
//!
//! prometheus-client appends `_total` to counter names itself, so counters are registered without it.

use crate::notifier::FailureReason;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// Integration names upstream pre-initialises at config load, so every series exists from the start at 0.
pub const INTEGRATION_NAMES: &[&str] = &[
    "email",
    "pagerduty",
    "wechat",
    "pushover",
    "slack",
    "opsgenie",
    "webhook",
    "victorops",
    "sns",
    "telegram",
    "discord",
    "webex",
    "msteams",
];

const FAILURE_REASONS: [FailureReason; 5] = [
    FailureReason::Other,
    FailureReason::ClientError,
    FailureReason::ServerError,
    FailureReason::ContextCanceled,
    FailureReason::ContextDeadlineExceeded,
];

/// The `reason` label of `alertmanager_notifications_suppressed_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuppressReason {
    Silence,
    Inhibition,
    MuteTimeInterval,
    ActiveTimeInterval,
}

impl SuppressReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressReason::Silence => "silence",
            SuppressReason::Inhibition => "inhibition",
            SuppressReason::MuteTimeInterval => "mute_time_interval",
            SuppressReason::ActiveTimeInterval => "active_time_interval",
        }
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new([1.0, 5.0, 10.0, 15.0, 20.0])
}

/// All metrics of the pipeline, shared by the stages and the dispatcher.
#[derive(Debug)]
pub struct Metrics {
    pub notifications: Family<Labels, Counter>,
    pub notifications_failed: Family<Labels, Counter>,
    pub notification_requests: Family<Labels, Counter>,
    pub notification_requests_failed: Family<Labels, Counter>,
    pub notification_latency: Family<Labels, Histogram, fn() -> Histogram>,
    pub suppressed: Family<Labels, Counter>,
    pub aggregation_groups: Gauge,
    /// Registered here, counted by the notification log itself: the application passes these two to the log's
    /// query observer (`NotificationLog::set_query_metrics`), so every query is counted once, wherever it comes
    /// from, together with `alertmanager_nflog_query_duration_seconds`.
    pub nflog_queries: Counter,
    pub nflog_query_errors: Counter,
}

fn integration(name: &str) -> Labels {
    vec![("integration".to_owned(), name.to_owned())]
}

impl Metrics {
    /// Metrics not registered anywhere (tests, or an application without `/metrics`).
    pub fn unregistered() -> Self {
        let m = Self {
            notifications: Family::default(),
            notifications_failed: Family::default(),
            notification_requests: Family::default(),
            notification_requests_failed: Family::default(),
            notification_latency: Family::new_with_constructor(latency_histogram),
            suppressed: Family::default(),
            aggregation_groups: Gauge::default(),
            nflog_queries: Counter::default(),
            nflog_query_errors: Counter::default(),
        };
        for name in INTEGRATION_NAMES {
            let _ = m.notifications.get_or_create(&integration(name));
            let _ = m.notification_requests.get_or_create(&integration(name));
            let _ = m.notification_requests_failed.get_or_create(&integration(name));
            let _ = m.notification_latency.get_or_create(&integration(name));
            for reason in FAILURE_REASONS {
                let _ = m.notifications_failed.get_or_create(&failed_labels(name, reason));
            }
        }
        for reason in [
            SuppressReason::Silence,
            SuppressReason::Inhibition,
            SuppressReason::MuteTimeInterval,
            SuppressReason::ActiveTimeInterval,
        ] {
            let _ = m.suppressed.get_or_create(&vec![("reason".to_owned(), reason.as_str().to_owned())]);
        }
        m
    }

    /// Creates the metrics and registers them into `registry` under upstream's names.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::unregistered();
        registry.register(
            "alertmanager_notifications",
            "The total number of attempted notifications",
            m.notifications.clone(),
        );
        registry.register(
            "alertmanager_notifications_failed",
            "The total number of failed notifications",
            m.notifications_failed.clone(),
        );
        registry.register(
            "alertmanager_notification_requests",
            "The total number of attempted notification requests",
            m.notification_requests.clone(),
        );
        registry.register(
            "alertmanager_notification_requests_failed",
            "The total number of failed notification requests",
            m.notification_requests_failed.clone(),
        );
        registry.register(
            "alertmanager_notification_latency_seconds",
            "The latency of notifications in seconds",
            m.notification_latency.clone(),
        );
        registry.register(
            "alertmanager_notifications_suppressed",
            "The total number of notifications suppressed for being silenced, inhibited, outside of active time intervals or within muted time intervals",
            m.suppressed.clone(),
        );
        registry.register(
            "alertmanager_dispatcher_aggregation_groups",
            "Number of active aggregation groups",
            m.aggregation_groups.clone(),
        );
        registry.register(
            "alertmanager_nflog_queries",
            "Number of notification log queries were received",
            m.nflog_queries.clone(),
        );
        registry.register(
            "alertmanager_nflog_query_errors",
            "Number notification log received queries that failed",
            m.nflog_query_errors.clone(),
        );
        m
    }

    pub(crate) fn suppressed(&self, reason: SuppressReason, n: usize) {
        let labels = vec![("reason".to_owned(), reason.as_str().to_owned())];
        self.suppressed.get_or_create(&labels).inc_by(n as u64);
    }

    pub(crate) fn notification(&self, name: &str) {
        self.notifications.get_or_create(&integration(name)).inc();
    }

    pub(crate) fn failed(&self, name: &str, reason: FailureReason) {
        self.notifications_failed.get_or_create(&failed_labels(name, reason)).inc();
    }

    pub(crate) fn request(&self, name: &str, failed: bool, seconds: f64) {
        let l = integration(name);
        self.notification_latency.get_or_create(&l).observe(seconds);
        self.notification_requests.get_or_create(&l).inc();
        if failed {
            self.notification_requests_failed.get_or_create(&l).inc();
        }
    }

    /// Current value of a counter family member, for tests and the API's status page.
    pub fn count(family: &Family<Labels, Counter>, labels: &[(&str, &str)]) -> u64 {
        let l: Labels = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        family.get_or_create(&l).get()
    }
}

fn failed_labels(name: &str, reason: FailureReason) -> Labels {
    vec![("integration".to_owned(), name.to_owned()), ("reason".to_owned(), reason.as_str().to_owned())]
}
