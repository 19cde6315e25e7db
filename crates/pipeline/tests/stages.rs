//! Stage-level checks: upstream's final error texts of the retry stage, metric names as registered, and the
//! dispatcher's route tree built from a real alertmanager.yml.

use chrono::{TimeZone, Utc};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::time::utc;
use tocsin_model::{Alert, LabelSet};
use tocsin_pipeline::notifier::NotifyCtx;
use tocsin_pipeline::retry::{RetryStage, SeededJitter};
use tocsin_pipeline::testing::RecordingNotifier;
use tocsin_pipeline::{Integration, Metrics, Route, Stage, StageCtx, StageError};

fn cx(deadline_in: Duration) -> StageCtx {
    StageCtx {
        notify: NotifyCtx {
            receiver: "team".into(),
            group_key: "{}:{}".into(),
            group_labels: LabelSet::new(),
            repeat_interval: Duration::from_secs(3600),
            now: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            external_url: String::new(),
        },
        route_id: "{}".into(),
        mute_time_intervals: Arc::from(Vec::new()),
        active_time_intervals: Arc::from(Vec::new()),
        deadline: tokio::time::Instant::now() + deadline_in,
        firing: vec![1],
        resolved: vec![],
    }
}

fn alerts() -> Vec<Arc<Alert>> {
    let t = utc(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    vec![Arc::new(Alert {
        labels: [("alertname", "A")].into_iter().collect(),
        annotations: Default::default(),
        starts_at: t,
        ends_at: t + chrono::Duration::hours(1),
        generator_url: "".into(),
        updated_at: t.to_utc(),
        timeout: false,
    })]
}

fn stage(n: &Arc<RecordingNotifier>, metrics: &Arc<Metrics>) -> RetryStage {
    RetryStage::new(
        "team",
        Integration::new("webhook", 0, n.clone()),
        Arc::new(SeededJitter::new(1)),
        Arc::clone(metrics),
    )
}

#[tokio::test(start_paused = true)]
async fn retry_error_texts_are_upstreams() {
    let metrics = Arc::new(Metrics::unregistered());
    let n = RecordingNotifier::new(true);
    n.script([RecordingNotifier::server_error(), RecordingNotifier::client_error()]);
    let err = stage(&n, &metrics).exec(&mut cx(Duration::from_secs(10)), alerts()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "team/webhook[0]: notify retry canceled due to unrecoverable error after 2 attempts: unexpected status code 400"
    );

    let n = RecordingNotifier::new(true);
    n.script((0..100).map(|_| RecordingNotifier::server_error()));
    let err = stage(&n, &metrics).exec(&mut cx(Duration::from_secs(2)), alerts()).await.unwrap_err();
    // Like upstream, the count includes the attempt that found the deadline passed.
    let attempts = n.sent().len() + 1;
    assert_eq!(
        err.to_string(),
        format!(
            "team/webhook[0]: notify retry canceled after {attempts} attempts: unexpected status code 500"
        )
    );
    assert!(matches!(err, StageError::Notify { reason: tocsin_pipeline::FailureReason::ServerError, .. }));

    // A notifier slower than the deadline is cut off.
    let n = RecordingNotifier::new(true);
    n.set_delay(Duration::from_secs(60));
    let err = stage(&n, &metrics).exec(&mut cx(Duration::from_secs(2)), alerts()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "team/webhook[0]: notify retry canceled after 2 attempts: context deadline exceeded"
    );
}

#[tokio::test(start_paused = true)]
async fn no_send_resolved_and_nothing_firing_is_a_success_without_request() {
    let metrics = Arc::new(Metrics::unregistered());
    let n = RecordingNotifier::new(false);
    let mut c = cx(Duration::from_secs(10));
    c.firing.clear();
    c.resolved = vec![1];
    let out = stage(&n, &metrics).exec(&mut c, alerts()).await.unwrap();
    assert_eq!(out.len(), 1);
    assert!(n.sent().is_empty());
}

#[test]
fn metric_names_are_upstreams() {
    let mut registry = Registry::default();
    let m = Metrics::register(&mut registry);
    m.aggregation_groups.set(3);
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry).unwrap();
    for want in [
        "alertmanager_notifications_total{integration=\"webhook\"} 0",
        "alertmanager_notifications_failed_total{integration=\"webhook\",reason=\"serverError\"} 0",
        "alertmanager_notification_requests_total{integration=\"email\"} 0",
        "alertmanager_notification_requests_failed_total{integration=\"email\"} 0",
        "alertmanager_notification_latency_seconds_bucket{le=\"1.0\",integration=\"webhook\"} 0",
        "alertmanager_notifications_suppressed_total{reason=\"mute_time_interval\"} 0",
        "alertmanager_dispatcher_aggregation_groups 3",
        "alertmanager_nflog_queries_total 0",
        "alertmanager_nflog_query_errors_total 0",
    ] {
        assert!(out.contains(want), "missing {want} in\n{out}");
    }
}

#[test]
fn route_tree_from_config_keeps_keys_and_matching() {
    let yaml = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: b
      matchers: ['team="b"']
      group_by: ['...']
      continue: true
    - receiver: c
      match: {team: b}
      group_wait: 1s
receivers:
  - name: default
  - name: b
  - name: c
"#;
    let cfg = tocsin_config::load_str(yaml, std::path::Path::new("."), tocsin_config::ParseMode::default())
        .unwrap();
    let route = Route::from_config(&cfg.route);
    assert_eq!(route.routes[0].key, "{}/{team=\"b\"}");
    assert_eq!(route.routes[1].id, "{}/{team=\"b\"}/1");
    assert_eq!(route.routes[1].opts.group_wait, Duration::from_secs(1));
    let labels: LabelSet = [("alertname", "X"), ("team", "b")].into_iter().collect();
    assert_eq!(route.receivers(&labels), vec!["b", "c"]);
    assert_eq!(route.routes[0].group_key(&labels), "{}/{team=\"b\"}:{alertname=\"X\", team=\"b\"}");
}

/// Records, at each sync, how many notification-log entries existed: set-notifies must log first, then wait.
#[derive(Debug, Default)]
struct RecordingSync {
    nflog: std::sync::OnceLock<Arc<tocsin_state::nflog::NotificationLog>>,
    seen: parking_lot::Mutex<Vec<usize>>,
    fail: bool,
}

#[async_trait::async_trait]
impl tocsin_pipeline::dedup::NflogSync for RecordingSync {
    async fn sync(&self) -> Result<(), String> {
        let entries = self.nflog.get().map(|n| n.len()).unwrap_or(0);
        self.seen.lock().push(entries);
        if self.fail {
            Err("disk full".into())
        } else {
            Ok(())
        }
    }
}

#[tokio::test(start_paused = true)]
async fn set_notifies_waits_for_the_durable_write_after_logging() {
    use tocsin_pipeline::dedup::SetNotifiesStage;
    for fail in [false, true] {
        let nflog = Arc::new(tocsin_state::nflog::NotificationLog::new(Duration::from_secs(3600)));
        let sync = Arc::new(RecordingSync { fail, ..RecordingSync::default() });
        sync.nflog.set(nflog.clone()).expect("set once");
        let n = RecordingNotifier::new(true);
        let integration = Integration::new("webhook", 0, n);
        let clock: tocsin_model::clock::SharedClock = Arc::new(tocsin_model::clock::ManualClock::new(
            Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        ));
        let stage = SetNotifiesStage::new(nflog.clone(), "team", &integration, clock)
            .with_sync(Some(sync.clone() as Arc<dyn tocsin_pipeline::dedup::NflogSync>));
        let mut c = cx(Duration::from_secs(10));
        // A failed durable write is reported, not turned into a failed flush (the notification went out).
        let out = stage.exec(&mut c, alerts()).await.expect("set-notifies succeeds");
        assert_eq!(out.len(), 1);
        assert_eq!(*sync.seen.lock(), vec![1], "one sync, after the entry was logged (fail={fail})");
    }
}
