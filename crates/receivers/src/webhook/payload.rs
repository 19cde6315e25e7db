//! The webhook body, version "4" (`webhook.Message` upstream): template data plus version, group key and the
//! number of alerts dropped by `max_alerts`, encoded as Go's `json.Encoder` does.

use crate::gojson;
use serde::Serialize;
use std::sync::Arc;
use tocsin_model::alert::AlertStatus;
use tocsin_model::time::{format_rfc3339_nano, utc, GO_ZERO_TIME};
use tocsin_model::{Alert, LabelSet};
use tocsin_pipeline::notifier::NotifyCtx;

/// Field order is the wire order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Message<'a> {
    receiver: String,
    status: &'static str,
    alerts: Vec<PayloadAlert<'a>>,
    group_labels: &'a LabelSet,
    common_labels: LabelSet,
    common_annotations: LabelSet,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    version: &'static str,
    group_key: &'a str,
    truncated_alerts: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PayloadAlert<'a> {
    status: &'static str,
    labels: &'a LabelSet,
    annotations: tocsin_model::alert::AnnotationsRef<'a>,
    starts_at: String,
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    fingerprint: String,
}

/// `max_alerts` (0 = unlimited): the first `max` alerts and how many were dropped.
pub fn truncate(max: u64, alerts: &[Arc<Alert>]) -> (&[Arc<Alert>], u64) {
    match usize::try_from(max) {
        Ok(m) if m != 0 && alerts.len() > m => (&alerts[..m], (alerts.len() - m) as u64),
        _ => (alerts, 0),
    }
}

/// Renders the body for `alerts` (already truncated), `truncated` being the number dropped.
pub fn render(ctx: &NotifyCtx, alerts: &[Arc<Alert>], truncated: u64) -> Result<Vec<u8>, serde_json::Error> {
    let now = utc(ctx.now);
    let mut any_firing = false;
    let payload_alerts = alerts
        .iter()
        .map(|a| {
            let status = a.status_at(now);
            any_firing |= status == AlertStatus::Firing;
            PayloadAlert {
                status: status.as_str(),
                labels: &a.labels,
                annotations: a.annotations(),
                starts_at: format_rfc3339_nano(&a.starts_at),
                // The flush hands firing alerts to notifiers with a zero EndsAt, so they never "resolve" in flight.
                ends_at: match status {
                    AlertStatus::Firing => GO_ZERO_TIME.to_owned(),
                    AlertStatus::Resolved => format_rfc3339_nano(&a.ends_at),
                },
                generator_url: &a.generator_url,
                fingerprint: a.fingerprint().to_string(),
            }
        })
        .collect();
    let msg = Message {
        receiver: quote_meta(&ctx.receiver),
        status: if any_firing { AlertStatus::Firing.as_str() } else { AlertStatus::Resolved.as_str() },
        alerts: payload_alerts,
        group_labels: &ctx.group_labels,
        common_labels: common(alerts.iter().map(|a| &a.labels)),
        common_annotations: common_annotations(alerts),
        external_url: &ctx.external_url,
        version: "4",
        group_key: &ctx.group_key,
        truncated_alerts: truncated,
    };
    gojson::encode(&msg)
}

/// The pairs every set has in common (`template.Data`'s CommonLabels/CommonAnnotations); empty for no sets.
fn common<'a>(mut sets: impl Iterator<Item = &'a LabelSet>) -> LabelSet {
    let Some(first) = sets.next() else { return LabelSet::new() };
    let mut out = first.clone();
    for s in sets {
        if out.is_empty() {
            break;
        }
        // Go reads a missing key as "": an empty value stays common with an alert that lacks the name.
        let drop: Vec<String> =
            out.iter().filter(|(k, v)| s.value(k) != *v).map(|(k, _)| k.to_owned()).collect();
        for k in drop {
            out.remove(&k);
        }
    }
    out
}

/// [`common`] of the alerts' annotations, resolved only as far as needed: the first alert's become a plain set,
/// the others are compared value by value (a missing name reads as "", as in Go).
fn common_annotations(alerts: &[Arc<Alert>]) -> LabelSet {
    let Some(first) = alerts.first() else { return LabelSet::new() };
    let mut out = first.annotations().to_set();
    for a in &alerts[1..] {
        if out.is_empty() {
            break;
        }
        let theirs = a.annotations();
        let drop: Vec<String> = out
            .iter()
            .filter(|(k, v)| theirs.get(k).map_or(!v.is_empty(), |t| t != *v))
            .map(|(k, _)| k.to_owned())
            .collect();
        for k in drop {
            out.remove(&k);
        }
    }
    out
}

/// `regexp.QuoteMeta` of the receiver name (upstream's quirk), shared with the template data.
pub use tocsin_template::quote_meta;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_meta_like_go() {
        assert_eq!(quote_meta("golden-hook.v1+"), r"golden-hook\.v1\+");
        assert_eq!(quote_meta(r"a\b[c]{d}(e)|^$*?"), r"a\\b\[c\]\{d\}\(e\)\|\^\$\*\?");
        assert_eq!(quote_meta("team-ä"), "team-ä");
    }

    #[test]
    fn common_pairs() {
        let a: LabelSet = [("a", "1"), ("b", "2")].into_iter().collect();
        let b: LabelSet = [("a", "1"), ("b", "3")].into_iter().collect();
        assert_eq!(common([&a, &b].into_iter()), [("a", "1")].into_iter().collect());
        assert_eq!(common(std::iter::empty()), LabelSet::new());
    }

    /// Go's `template.Data` compares `a.Annotations[an] != av`: a missing name reads as "", so an empty value is
    /// common with an alert that lacks the name, and a non-empty one is not.
    #[test]
    fn common_annotations_read_missing_as_empty() {
        let alert = |labels: &[(&str, &str)], annotations: &[(&str, &str)]| {
            let labels: LabelSet = labels.iter().copied().collect();
            let set: LabelSet = annotations.iter().copied().collect();
            let t = tocsin_model::time::parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
            Arc::new(Alert {
                annotations: tocsin_model::Annotations::quoting(set, &labels),
                labels,
                starts_at: t,
                ends_at: t,
                generator_url: Default::default(),
                updated_at: t.to_utc(),
                timeout: false,
            })
        };
        let host = "node-000001.example.net:9100";
        let a = alert(
            &[("instance", host)],
            &[("runbook", ""), ("summary", &format!("{host} down")), ("x", "1")],
        );
        let b = alert(&[("instance", host)], &[("summary", &format!("{host} down")), ("x", "2")]);
        let want: LabelSet =
            [("runbook", ""), ("summary", &format!("{host} down") as &str)].into_iter().collect();
        assert_eq!(common_annotations(&[a.clone(), b.clone()]), want);
        let c = alert(&[("instance", "other-host:9100")], &[("runbook", "r")]);
        assert_eq!(common_annotations(&[a, b, c]), LabelSet::new());
    }
}
