//! Deduplication against the notification log (`notify.DedupStage`) and the stage that writes the log after a
//! successful send (`notify.SetNotifiesStage`).
//!
//! Alerts are identified by the xxhash64 of their labels (`notify.hashAlert`), the same values upstream logs and
//! gossips, so dedup decisions agree across versions and nodes.

use crate::integration::Integration;
use crate::stage::{Alerts, Stage, StageCtx, StageError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::SharedClock;
use tocsin_model::fingerprint::hash_xxh64;
use tocsin_model::time::utc;
use tocsin_state::nflog::{Entry, NotificationLog, Receiver};

/// Whether resolved alerts are sent (`send_resolved`), as a type rather than a bool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResolved {
    Yes,
    No,
}

/// `DedupStage.needsUpdate`: must this flush be sent, given the last logged notification?
///
/// - never notified: send iff something is firing;
/// - something firing that was not firing in the last notification: send;
/// - nothing firing: send iff the last notification had firing alerts ("all resolved"; regardless of
///   `send_resolved`, so the log forgets the firing alerts);
/// - `send_resolved` and something resolved that was not resolved in the last notification: send;
/// - otherwise send iff the last notification is older than `now − repeat_interval`.
///
/// Alerts merely leaving the firing set (silenced, inhibited, gone) never cause a send on their own.
pub fn needs_update(
    entry: Option<&Entry>,
    firing: &HashSet<u64>,
    resolved: &HashSet<u64>,
    send_resolved: SendResolved,
    repeat_interval: Duration,
    now: DateTime<Utc>,
) -> bool {
    let Some(entry) = entry else {
        return !firing.is_empty();
    };
    if !entry.is_firing_subset(firing) {
        return true;
    }
    if firing.is_empty() {
        return !entry.firing_alerts.is_empty();
    }
    if send_resolved == SendResolved::Yes && !entry.is_resolved_subset(resolved) {
        return true;
    }
    let repeat = chrono::Duration::from_std(repeat_interval).unwrap_or(chrono::Duration::MAX);
    match now.checked_sub_signed(repeat) {
        Some(threshold) => entry.timestamp < threshold,
        None => false,
    }
}

/// Drops the whole flush for one integration unless [`needs_update`] says it must be sent; records the firing
/// and resolved hashes in the context for [`SetNotifiesStage`].
#[derive(Debug)]
pub struct DedupStage {
    nflog: Arc<NotificationLog>,
    receiver: Receiver,
    send_resolved: SendResolved,
    clock: SharedClock,
}

impl DedupStage {
    /// The log counts its own queries (`alertmanager_nflog_queries_total`), so the stage needs no metrics.
    pub fn new(
        nflog: Arc<NotificationLog>,
        receiver_name: &str,
        integration: &Integration,
        clock: SharedClock,
    ) -> Self {
        let send_resolved =
            if integration.notifier.send_resolved() { SendResolved::Yes } else { SendResolved::No };
        Self { nflog, receiver: integration.nflog_receiver(receiver_name), send_resolved, clock }
    }
}

#[async_trait]
impl Stage for DedupStage {
    async fn exec(&self, cx: &mut StageCtx, alerts: Alerts) -> Result<Alerts, StageError> {
        // Resolution is judged at the flush time: the group snapshot must not resolve as time moves on.
        let flush_time = utc(cx.notify.now);
        let (mut firing, mut resolved) = (Vec::new(), Vec::new());
        for a in &alerts {
            let h = hash_xxh64(&a.labels);
            if a.resolved_at(flush_time) {
                resolved.push(h);
            } else {
                firing.push(h);
            }
        }
        let firing_set: HashSet<u64> = firing.iter().copied().collect();
        let resolved_set: HashSet<u64> = resolved.iter().copied().collect();
        cx.firing = firing;
        cx.resolved = resolved;

        // Counted (`alertmanager_nflog_queries_total`, a not-found as an error) by the log's query observer.
        let entry = self.nflog.query(&cx.notify.group_key, &self.receiver).ok();
        let send = needs_update(
            entry.as_ref(),
            &firing_set,
            &resolved_set,
            self.send_resolved,
            cx.notify.repeat_interval,
            self.clock.now(),
        );
        Ok(if send { alerts } else { Vec::new() })
    }
}

/// Makes the notification log durable. Set-notifies awaits it after logging, so a node killed right after a send
/// does not send the same notification again when it restarts (Alertmanager loses up to 15 minutes of nflog).
/// The app backs it with the storage's group commit; without storage nothing is awaited.
#[async_trait]
pub trait NflogSync: Send + Sync + std::fmt::Debug {
    /// Returns once everything logged before the call is on disk.
    async fn sync(&self) -> Result<(), String>;
}

/// Logs a successful notification: firing and resolved hashes at the clock's now, kept for
/// `min(retention, 2 × repeat_interval)`; the log's change hook broadcasts it to the cluster and queues it for
/// disk, and the stage then waits for that write ([`NflogSync`]).
#[derive(Debug)]
pub struct SetNotifiesStage {
    nflog: Arc<NotificationLog>,
    receiver: Receiver,
    clock: SharedClock,
    sync: Option<Arc<dyn NflogSync>>,
}

impl SetNotifiesStage {
    pub fn new(
        nflog: Arc<NotificationLog>,
        receiver_name: &str,
        integration: &Integration,
        clock: SharedClock,
    ) -> Self {
        Self { nflog, receiver: integration.nflog_receiver(receiver_name), clock, sync: None }
    }

    /// Waits for `sync` after every logged notification.
    pub fn with_sync(mut self, sync: Option<Arc<dyn NflogSync>>) -> Self {
        self.sync = sync;
        self
    }
}

#[async_trait]
impl Stage for SetNotifiesStage {
    async fn exec(&self, cx: &mut StageCtx, alerts: Alerts) -> Result<Alerts, StageError> {
        let expiry = cx.notify.repeat_interval.saturating_mul(2);
        self.nflog.log(
            &self.receiver,
            &cx.notify.group_key,
            cx.firing.iter().copied().collect(),
            cx.resolved.iter().copied().collect(),
            expiry,
            self.clock.now(),
        );
        if let Some(sync) = &self.sync {
            // The notification went out: a disk error must not fail the flush (that would send it again), but
            // the operator must know that a restart may repeat it.
            if let Err(err) = sync.sync().await {
                tracing::error!(%err, group_key = %cx.notify.group_key, "Notification log entry not persisted");
            }
        }
        Ok(alerts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    fn set(v: &[u64]) -> HashSet<u64> {
        v.iter().copied().collect()
    }

    fn entry(firing: &[u64], resolved: &[u64], ts: i64) -> Entry {
        Entry {
            group_key: "g".into(),
            receiver: Receiver { group_name: "r".into(), integration: "webhook".into(), idx: 0 },
            timestamp: t(ts),
            firing_alerts: set(firing),
            resolved_alerts: set(resolved),
        }
    }

    /// Counts what the log reports, to prove the stage adds nothing of its own.
    #[derive(Debug, Default)]
    struct Queries(parking_lot::Mutex<(u64, u64)>);

    impl tocsin_state::QueryMetrics for Queries {
        fn observe(&self, failed: bool, _elapsed: std::time::Duration) {
            let mut q = self.0.lock();
            q.0 += 1;
            q.1 += u64::from(failed);
        }
    }

    /// One nflog query per dedup execution, counted once (by the log): the first flush of a group finds no entry,
    /// which upstream counts as a failed query.
    #[tokio::test]
    async fn each_execution_is_one_counted_query() {
        let nflog = Arc::new(NotificationLog::new(std::time::Duration::from_secs(3600)));
        let queries = Arc::new(Queries::default());
        assert!(nflog.set_query_metrics(queries.clone()));
        let clock: SharedClock = Arc::new(tocsin_model::clock::ManualClock::new(t(0)));
        let integration = Integration::new("webhook", 0, crate::testing::RecordingNotifier::new(true));
        let metrics = Arc::new(crate::metrics::Metrics::unregistered());
        let dedup = DedupStage::new(nflog.clone(), "r", &integration, clock.clone());
        let set_notifies = SetNotifiesStage::new(nflog.clone(), "r", &integration, clock);
        let alert = Arc::new(tocsin_model::Alert {
            labels: [("alertname", "A")].into_iter().collect(),
            annotations: Default::default(),
            starts_at: tocsin_model::time::utc(t(0)),
            ends_at: tocsin_model::time::utc(t(3600)),
            generator_url: "".into(),
            updated_at: t(0),
            timeout: false,
        });
        let mut cx = StageCtx {
            notify: crate::notifier::NotifyCtx {
                receiver: "r".into(),
                group_key: "{}:{}".into(),
                group_labels: tocsin_model::LabelSet::new(),
                repeat_interval: std::time::Duration::from_secs(3600),
                now: t(0),
                external_url: String::new(),
            },
            route_id: "{}".into(),
            mute_time_intervals: Arc::from(Vec::new()),
            active_time_intervals: Arc::from(Vec::new()),
            deadline: tokio::time::Instant::now(),
            firing: vec![],
            resolved: vec![],
        };
        let sent = dedup.exec(&mut cx, vec![alert.clone()]).await.unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(*queries.0.lock(), (1, 1));
        set_notifies.exec(&mut cx, sent).await.unwrap();
        assert_eq!(*queries.0.lock(), (1, 1), "logging is not a query");
        assert!(dedup.exec(&mut cx, vec![alert]).await.unwrap().is_empty());
        assert_eq!(*queries.0.lock(), (2, 1));
        assert_eq!(
            (metrics.nflog_queries.get(), metrics.nflog_query_errors.get()),
            (0, 0),
            "not the stage's"
        );
    }

    #[test]
    fn needs_update_table() {
        struct Input {
            entry: Option<Entry>,
            firing: &'static [u64],
            resolved: &'static [u64],
            send_resolved: SendResolved,
            /// Seconds after the entry's timestamp (entry at t(0)).
            now: i64,
        }
        struct Case {
            name: &'static str,
            input: Input,
            want: bool,
        }
        use SendResolved::{No, Yes};
        let repeat = Duration::from_secs(3600);
        let cases = vec![
            Case {
                name: "no entry, firing",
                input: Input { entry: None, firing: &[1], resolved: &[], send_resolved: No, now: 0 },
                want: true,
            },
            Case {
                name: "no entry, only resolved",
                input: Input { entry: None, firing: &[], resolved: &[1], send_resolved: Yes, now: 0 },
                want: false,
            },
            Case {
                name: "no entry, nothing",
                input: Input { entry: None, firing: &[], resolved: &[], send_resolved: Yes, now: 0 },
                want: false,
            },
            Case {
                name: "new firing alert",
                input: Input {
                    entry: Some(entry(&[1], &[], 0)),
                    firing: &[1, 2],
                    resolved: &[],
                    send_resolved: No,
                    now: 1,
                },
                want: true,
            },
            Case {
                name: "same firing, before repeat",
                input: Input {
                    entry: Some(entry(&[1], &[], 0)),
                    firing: &[1],
                    resolved: &[],
                    send_resolved: Yes,
                    now: 3599,
                },
                want: false,
            },
            Case {
                name: "same firing, exactly at repeat is not yet due",
                input: Input {
                    entry: Some(entry(&[1], &[], 0)),
                    firing: &[1],
                    resolved: &[],
                    send_resolved: Yes,
                    now: 3600,
                },
                want: false,
            },
            Case {
                name: "same firing, after repeat",
                input: Input {
                    entry: Some(entry(&[1], &[], 0)),
                    firing: &[1],
                    resolved: &[],
                    send_resolved: Yes,
                    now: 3601,
                },
                want: true,
            },
            Case {
                name: "firing subset (one went away): no send",
                input: Input {
                    entry: Some(entry(&[1, 2], &[], 0)),
                    firing: &[1],
                    resolved: &[],
                    send_resolved: No,
                    now: 1,
                },
                want: false,
            },
            Case {
                name: "all resolved, send_resolved false: still sent to clear the log",
                input: Input {
                    entry: Some(entry(&[1], &[], 0)),
                    firing: &[],
                    resolved: &[1],
                    send_resolved: No,
                    now: 1,
                },
                want: true,
            },
            Case {
                name: "all resolved and already logged as such",
                input: Input {
                    entry: Some(entry(&[], &[1], 0)),
                    firing: &[],
                    resolved: &[1],
                    send_resolved: Yes,
                    now: 99999,
                },
                want: false,
            },
            Case {
                name: "one resolved, others firing, send_resolved",
                input: Input {
                    entry: Some(entry(&[1, 2], &[], 0)),
                    firing: &[1],
                    resolved: &[2],
                    send_resolved: Yes,
                    now: 1,
                },
                want: true,
            },
            Case {
                name: "one resolved, others firing, no send_resolved",
                input: Input {
                    entry: Some(entry(&[1, 2], &[], 0)),
                    firing: &[1],
                    resolved: &[2],
                    send_resolved: No,
                    now: 1,
                },
                want: false,
            },
            Case {
                name: "resolved already notified",
                input: Input {
                    entry: Some(entry(&[1], &[2], 0)),
                    firing: &[1],
                    resolved: &[2],
                    send_resolved: Yes,
                    now: 1,
                },
                want: false,
            },
        ];
        for c in cases {
            let i = c.input;
            let got = needs_update(
                i.entry.as_ref(),
                &set(i.firing),
                &set(i.resolved),
                i.send_resolved,
                repeat,
                t(i.now),
            );
            assert_eq!(got, c.want, "{}", c.name);
        }
    }
}
