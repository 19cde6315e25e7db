//! Alertmanager's `template.Data`: what notification templates see as `.` (receiver, status, alerts, label sets).

use std::collections::BTreeMap;

use tocsin_model::alert::AlertStatus;
use tocsin_model::time::Timestamp;
use tocsin_model::LabelSet;

use crate::gotime::GoTime;

/// Alertmanager's `KV`: a label or annotation set. Methods (`SortedPairs`, `Names`, ...) live in the evaluator.
pub type Kv = BTreeMap<String, String>;

/// One alert as templates see it (`template.Alert`).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub status: String,
    pub labels: Kv,
    pub annotations: Kv,
    pub starts_at: GoTime,
    /// Go's zero time for alerts that are still firing.
    pub ends_at: GoTime,
    pub generator_url: String,
    pub fingerprint: String,
}

/// The data of one notification (`template.Data`).
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// Already `regexp.QuoteMeta`-escaped, as upstream does.
    pub receiver: String,
    pub status: String,
    pub alerts: Vec<Alert>,
    pub group_labels: Kv,
    pub common_labels: Kv,
    pub common_annotations: Kv,
    pub external_url: String,
}

/// Go's `regexp.QuoteMeta`.
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn kv(ls: &LabelSet) -> Kv {
    ls.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

impl Data {
    /// Builds the data as Alertmanager's `Template.Data` does: the receiver name is QuoteMeta-escaped, alerts that
    /// have not ended at `now` are firing and show Go's zero time as `EndsAt`, the status is `firing` if any alert
    /// fires, and the common labels/annotations are the pairs shared by every alert.
    pub fn new(
        receiver: &str,
        group_labels: &LabelSet,
        alerts: &[tocsin_model::Alert],
        external_url: &str,
        now: Timestamp,
    ) -> Data {
        Self::from_alerts(receiver, group_labels, alerts, external_url, now)
    }

    /// [`Self::new`] over borrowed alerts (e.g. a notification's `&[Arc<Alert>]`), so callers need not clone
    /// every alert into a slice first.
    pub fn from_alerts<'a, A>(
        receiver: &str,
        group_labels: &LabelSet,
        alerts: impl IntoIterator<Item = &'a A>,
        external_url: &str,
        now: Timestamp,
    ) -> Data
    where
        A: std::borrow::Borrow<tocsin_model::Alert> + 'a,
    {
        let alerts = alerts.into_iter();
        let mut out = Vec::with_capacity(alerts.size_hint().0);
        let mut any_firing = false;
        for a in alerts {
            let a: &tocsin_model::Alert = std::borrow::Borrow::borrow(a);
            let status = a.status_at(now);
            any_firing |= status == AlertStatus::Firing;
            out.push(Alert {
                status: status.as_str().to_string(),
                labels: kv(&a.labels),
                annotations: a.annotations().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                starts_at: GoTime::from_fixed(&a.starts_at),
                ends_at: if status == AlertStatus::Firing {
                    GoTime::zero()
                } else {
                    GoTime::from_fixed(&a.ends_at)
                },
                generator_url: a.generator_url.to_string(),
                fingerprint: a.fingerprint().to_string(),
            });
        }
        let (common_labels, common_annotations) = common(&out);
        Data {
            receiver: quote_meta(receiver),
            status: if any_firing { "firing" } else { "resolved" }.to_string(),
            alerts: out,
            group_labels: kv(group_labels),
            common_labels,
            common_annotations,
            external_url: external_url.to_string(),
        }
    }
}

fn common(alerts: &[Alert]) -> (Kv, Kv) {
    let Some(first) = alerts.first() else {
        return (Kv::new(), Kv::new());
    };
    let mut labels = first.labels.clone();
    let mut annotations = first.annotations.clone();
    for a in &alerts[1..] {
        // `a.Labels[ln] != lv` in Go: a missing name reads as "", so an empty value stays common with it.
        labels.retain(|k, v| a.labels.get(k).map_or(v.is_empty(), |x| x == v));
        annotations.retain(|k, v| a.annotations.get(k).map_or(v.is_empty(), |x| x == v));
    }
    (labels, annotations)
}

/// `KV.SortedPairs`: `alertname` first, then the other names sorted.
pub fn sorted_pairs(kv: &Kv) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(kv.len());
    if let Some(v) = kv.get("alertname") {
        pairs.push(("alertname".into(), v.clone()));
    }
    pairs.extend(kv.iter().filter(|(k, _)| k.as_str() != "alertname").map(|(k, v)| (k.clone(), v.clone())));
    pairs
}

/// `Pairs.String`: `a=b, c=d`.
pub fn pairs_string(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_model::time::parse_rfc3339;

    fn alert(labels: &[(&str, &str)], ends: &str) -> tocsin_model::Alert {
        tocsin_model::Alert {
            labels: labels.iter().copied().collect(),
            annotations: [("summary", "s")].into_iter().collect(),
            starts_at: parse_rfc3339("2024-01-01T00:00:00Z").unwrap(),
            ends_at: parse_rfc3339(ends).unwrap(),
            generator_url: "http://gen".into(),
            updated_at: parse_rfc3339("2024-01-01T00:00:00Z").unwrap().to_utc(),
            timeout: false,
        }
    }

    #[test]
    fn builds_like_upstream() {
        let now = parse_rfc3339("2024-01-01T01:00:00Z").unwrap();
        let alerts = [
            alert(&[("alertname", "A"), ("job", "x"), ("i", "1")], "2024-01-01T02:00:00Z"),
            alert(&[("alertname", "A"), ("job", "x"), ("i", "2")], "2024-01-01T00:30:00Z"),
        ];
        let gl: LabelSet = [("alertname", "A")].into_iter().collect();
        let d = Data::new("team.a", &gl, &alerts, "http://am", now);
        assert_eq!(d.receiver, r"team\.a");
        assert_eq!(d.status, "firing");
        assert_eq!(d.alerts[0].status, "firing");
        assert!(d.alerts[0].ends_at.is_zero());
        assert_eq!(d.alerts[1].status, "resolved");
        assert_eq!(d.common_labels.len(), 2);
        assert_eq!(d.common_annotations.get("summary").map(String::as_str), Some("s"));
        let kv: Kv = [("b", "2"), ("alertname", "A"), ("a", "1")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(pairs_string(&sorted_pairs(&kv)), "alertname=A, a=1, b=2");
    }

    /// Go compares `a.Annotations[an] != av`: a missing name reads as "", so an empty value stays common.
    #[test]
    fn common_pairs_read_missing_names_as_empty() {
        let now = parse_rfc3339("2024-01-01T01:00:00Z").unwrap();
        let mut a = alert(&[("alertname", "A")], "2024-01-01T02:00:00Z");
        a.annotations = [("runbook", ""), ("summary", "s")].into_iter().collect();
        let b = alert(&[("alertname", "A")], "2024-01-01T02:00:00Z");
        let d = Data::new("r", &LabelSet::new(), &[a.clone(), b.clone()], "http://am", now);
        assert_eq!(d.common_annotations.get("runbook").map(String::as_str), Some(""));
        let mut c = alert(&[("alertname", "A")], "2024-01-01T02:00:00Z");
        c.annotations = [("runbook", "r")].into_iter().collect();
        let d = Data::new("r", &LabelSet::new(), &[a, b, c], "http://am", now);
        assert!(d.common_annotations.is_empty());
    }
}
