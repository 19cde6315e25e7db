//! The inhibitor (`inhibit.Inhibitor`): a firing source alert mutes target alerts that agree with it on the
//! rule's `equal` labels.
//!
//! Semantics (reference §2.5): target T is muted by rule R if T matches R's target matchers and a cached,
//! non-resolved source S matching R's source matchers has `S[n] == T[n]` for every `n` in `equal` (missing label =
//! empty value). When T matches R's source matchers too, sources that also match the target side are ignored (no
//! self-inhibition). The first rule that mutes wins and `inhibitedBy` records that one source's fingerprint.
//!
//! Sources come from the alert-store subscription. Unlike 0.25's linear scan, each rule's source cache is indexed
//! by the tuple of `equal` values, so a check is one hash lookup plus the (usually one) candidates, which keeps API
//! reads and flushes cheap with 100,000 alerts. Among several candidates the lowest fingerprint is reported, where
//! upstream reports whichever its map yields first.

use crate::metrics::SuppressReason;
use crate::mute::Muter;
use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::SharedClock;
use tocsin_model::time::utc;
use tocsin_model::{Alert, Fingerprint, LabelSet, Matchers};
use tocsin_state::{AlertStore, AlertSubscription};

/// How often resolved sources are dropped from the caches (upstream: 15m).
pub const SOURCE_GC_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// One `inhibit_rules` entry, matchers already compiled (from `*_matchers` and the deprecated `*_match{,_re}`).
#[derive(Debug, Clone, Default)]
pub struct InhibitRule {
    pub source_matchers: Matchers,
    pub target_matchers: Matchers,
    pub equal: Vec<String>,
}

type SourceCache = HashMap<Vec<String>, BTreeMap<Fingerprint, Arc<Alert>>>;

#[derive(Debug)]
struct RuleState {
    rule: InhibitRule,
    sources: RwLock<SourceCache>,
}

impl RuleState {
    fn equal_values(&self, labels: &LabelSet) -> Vec<String> {
        self.rule.equal.iter().map(|n| labels.value(n).to_owned()).collect()
    }

    /// `hasEqual`: a non-resolved source agreeing on `equal`, skipping two-sided matches when asked to.
    fn has_equal(
        &self,
        labels: &LabelSet,
        exclude_two_sided: bool,
        now: DateTime<Utc>,
    ) -> Option<Fingerprint> {
        let now = utc(now);
        let sources = self.sources.read();
        let candidates = sources.get(&self.equal_values(labels))?;
        candidates
            .iter()
            .filter(|(_, a)| !a.resolved_at(now))
            .find(|(_, a)| !(exclude_two_sided && self.rule.target_matchers.matches(&a.labels)))
            .map(|(fp, _)| *fp)
    }
}

/// Inhibition rules with their source caches.
#[derive(Debug)]
pub struct Inhibitor {
    rules: Vec<RuleState>,
    store: Arc<AlertStore>,
}

impl Inhibitor {
    pub fn new(rules: Vec<InhibitRule>, store: Arc<AlertStore>) -> Self {
        let rules =
            rules.into_iter().map(|rule| RuleState { rule, sources: RwLock::new(HashMap::new()) }).collect();
        Self { rules, store }
    }

    /// Subscribes to the alert store and keeps the source caches fed and collected until the returned task is
    /// aborted (on reload or shutdown) or the store goes away.
    pub fn start(self: &Arc<Self>, clock: SharedClock) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        let sub = self.store.subscribe();
        tokio::spawn(async move { me.run(sub, clock).await })
    }

    async fn run(&self, mut sub: AlertSubscription, clock: SharedClock) {
        let mut gc =
            tokio::time::interval_at(tokio::time::Instant::now() + SOURCE_GC_INTERVAL, SOURCE_GC_INTERVAL);
        loop {
            tokio::select! {
                next = sub.recv() => match next {
                    Some(alert) => self.observe(&alert),
                    None => return,
                },
                _ = gc.tick() => self.gc(clock.now()),
            }
        }
    }

    /// Records `alert` as a source of every rule whose source matchers it matches.
    pub fn observe(&self, alert: &Arc<Alert>) {
        for r in &self.rules {
            if r.rule.source_matchers.matches(&alert.labels) {
                let key = r.equal_values(&alert.labels);
                r.sources.write().entry(key).or_default().insert(alert.fingerprint(), Arc::clone(alert));
            }
        }
    }

    /// Drops sources resolved at `now`.
    pub fn gc(&self, now: DateTime<Utc>) {
        let now = utc(now);
        for r in &self.rules {
            let mut sources = r.sources.write();
            sources.retain(|_, by_fp| {
                by_fp.retain(|_, a| !a.resolved_at(now));
                !by_fp.is_empty()
            });
        }
    }

    /// The fingerprint of the source inhibiting `labels` at `now`, without touching markers.
    pub fn inhibited_by(&self, labels: &LabelSet, now: DateTime<Utc>) -> Option<Fingerprint> {
        self.rules.iter().filter(|r| r.rule.target_matchers.matches(labels)).find_map(|r| {
            let two_sided = r.rule.source_matchers.matches(labels);
            r.has_equal(labels, two_sided, now)
        })
    }
}

impl Muter for Inhibitor {
    /// `Inhibitor.Mutes`: also writes the `inhibitedBy` marker (cleared when not inhibited).
    fn mutes(&self, labels: &LabelSet, now: DateTime<Utc>) -> Option<SuppressReason> {
        let by = self.inhibited_by(labels, now);
        let ids = by.map(|fp| vec![fp.to_string()]).unwrap_or_default();
        self.store.set_inhibited(labels.fingerprint(), ids);
        by.map(|_| SuppressReason::Inhibition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use tocsin_model::clock::ManualClock;
    use tocsin_model::{MatchType, Matcher};

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    fn alert(pairs: &[(&str, &str)], ends: i64) -> Arc<Alert> {
        Arc::new(Alert {
            labels: pairs.iter().copied().collect(),
            annotations: Default::default(),
            starts_at: utc(t(0)),
            ends_at: utc(t(ends)),
            generator_url: "".into(),
            updated_at: t(0),
            timeout: false,
        })
    }

    fn m(name: &str, v: &str) -> Matchers {
        Matchers(vec![Matcher::new(MatchType::Equal, name, v).unwrap()])
    }

    #[test]
    fn inhibition_table() {
        let store = Arc::new(AlertStore::new(Arc::new(ManualClock::new(t(0)))));
        let rule = InhibitRule {
            source_matchers: m("severity", "critical"),
            target_matchers: m("severity", "warning"),
            equal: vec!["alertname".into(), "cluster".into()],
        };
        let both = InhibitRule {
            source_matchers: m("kind", "x"),
            target_matchers: m("kind", "x"),
            equal: vec!["alertname".into()],
        };
        let ih = Inhibitor::new(vec![rule, both], Arc::clone(&store));
        let crit = alert(&[("alertname", "A"), ("severity", "critical")], 100);
        ih.observe(&crit);
        ih.observe(&alert(&[("alertname", "Old"), ("severity", "critical")], 5));
        ih.observe(&alert(&[("alertname", "S"), ("kind", "x")], 100));

        struct Case {
            name: &'static str,
            input: &'static [(&'static str, &'static str)],
            want: bool,
        }
        let cases = [
            Case {
                name: "equal labels, missing cluster on both",
                input: &[("alertname", "A"), ("severity", "warning")],
                want: true,
            },
            Case {
                name: "cluster differs (missing vs set)",
                input: &[("alertname", "A"), ("severity", "warning"), ("cluster", "c")],
                want: false,
            },
            Case { name: "not a target", input: &[("alertname", "A"), ("severity", "info")], want: false },
            Case {
                name: "source resolved",
                input: &[("alertname", "Old"), ("severity", "warning")],
                want: false,
            },
            Case {
                name: "source does not inhibit itself",
                input: &[("alertname", "A"), ("severity", "critical")],
                want: false,
            },
            Case {
                name: "two-sided rule: no self-inhibition",
                input: &[("alertname", "S"), ("kind", "x"), ("i", "2")],
                want: false,
            },
        ];
        for c in cases {
            let labels: LabelSet = c.input.iter().copied().collect();
            assert_eq!(ih.mutes(&labels, t(10)).is_some(), c.want, "{}", c.name);
        }
        let target: LabelSet = [("alertname", "A"), ("severity", "warning")].into_iter().collect();
        assert_eq!(ih.inhibited_by(&target, t(10)), Some(crit.fingerprint()));
        // After the source resolves, the target is free.
        assert_eq!(ih.inhibited_by(&target, t(100)), None);
        ih.gc(t(100));
        assert!(ih.rules[0].sources.read().is_empty());
    }

    #[test]
    fn marker_is_written() {
        let store = Arc::new(AlertStore::new(Arc::new(ManualClock::new(t(0)))));
        let ih = Inhibitor::new(
            vec![InhibitRule {
                source_matchers: m("severity", "critical"),
                target_matchers: m("severity", "warning"),
                equal: vec![],
            }],
            Arc::clone(&store),
        );
        let src = alert(&[("severity", "critical")], 100);
        let tgt = alert(&[("severity", "warning")], 100);
        store.put_at((*tgt).clone(), t(0));
        ih.observe(&src);
        assert!(ih.mutes(&tgt.labels, t(1)).is_some());
        assert_eq!(store.status(tgt.fingerprint()).inhibited_by, vec![src.fingerprint().to_string()]);
        assert!(ih.mutes(&tgt.labels, t(200)).is_none());
        assert!(store.status(tgt.fingerprint()).inhibited_by.is_empty());
    }
}
