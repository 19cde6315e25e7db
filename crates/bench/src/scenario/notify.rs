//! Issue 3: notification latency beyond `group_wait`. One alert per group is posted for 100 groups, one POST
//! after the other; the in-process sink records each group's arrival; latency = arrival − (POST sent +
//! group_wait). Clustering is off, so there is no wait stage.

use super::{median, millis, percentile, Measured};
use crate::client;
use crate::report::{Metric, Sample, Target, Unit};
use crate::server::{Launch, Server, ServerSpec};
use crate::sink::Sink;
use crate::Options;
use anyhow::{bail, Context, Result};
use chrono::SecondsFormat;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tocsin_model::clock::{Clock, SystemClock};
use tokio::time::Instant;

/// Issue 3: ≤ 1 ms median beyond group_wait.
const LATENCY_TARGET_MS: f64 = 1.0;
const GROUP_WAIT: Duration = Duration::from_secs(1);

/// A webhook-only configuration that groups by the `group` label and sends to `url`.
pub fn sink_config(url: &str, group_wait: &str, group_interval: &str, repeat_interval: &str) -> String {
    format!(
        "global:\n  resolve_timeout: 1h\n\
         route:\n  receiver: sink\n  group_by: [group]\n  group_wait: {group_wait}\n  group_interval: {group_interval}\n  repeat_interval: {repeat_interval}\n\
         receivers:\n  - name: sink\n    webhook_configs:\n      - url: {url}\n        send_resolved: false\n"
    )
}

/// `{}:{group="g7"}` → `g7` (the group label value inside a group key).
pub fn group_of(key: &str) -> Option<&str> {
    let start = key.find("group=\"")? + 7;
    let len = key[start..].find('"')?;
    Some(&key[start..start + len])
}

/// One firing alert of group `group`, starting now (so `group_wait` runs in full), ending in an hour.
pub fn group_alert(name: &str, group: &str, instance: usize) -> serde_json::Value {
    let now = SystemClock.now();
    json!({
        "labels": {"alertname": name, "group": group, "instance": format!("host-{instance}")},
        "annotations": {"summary": "bench"},
        "startsAt": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Millis, true),
    })
}

pub async fn run(spec: &ServerSpec, opts: &Options) -> Result<Measured> {
    let groups = opts.latency_groups.max(1);
    let sink = Sink::start()?;
    let launch = Launch { config: Some(sink_config(&sink.url(), "1s", "1h", "4h")), ..Launch::default() };
    let (server, _) = Server::launch(spec, &launch).await?;
    let http = client::http_client(1)?;
    let url = server.url("/api/v2/alerts");

    let mut sent: HashMap<String, Instant> = HashMap::with_capacity(groups);
    for g in 0..groups {
        let group = format!("g{g}");
        let body = serde_json::to_vec(&[group_alert("Latency", &group, g)]).context("serialise alert")?;
        let at = Instant::now();
        let resp = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .context("POST alert")?;
        if !resp.status().is_success() {
            bail!("POST alert: {}", resp.status());
        }
        sent.insert(group, at);
    }
    let got = sink.wait_for(groups, GROUP_WAIT + Duration::from_secs(10)).await;
    drop(server);

    let mut lat = Vec::with_capacity(groups);
    let mut m = Measured::default();
    for a in sink.arrivals() {
        match group_of(&a.group_key).and_then(|g| sent.remove(g)) {
            Some(at) => lat.push(millis(a.at.duration_since(at)) - millis(GROUP_WAIT)),
            None => m.notes.push(format!("unexpected or repeated notification for {:?}", a.group_key)),
        }
    }
    if got < groups {
        m.notes.push(format!("notify-latency: {got} of {groups} groups notified within group_wait + 10 s"));
    }
    if lat.is_empty() {
        bail!("no notification arrived");
    }
    let metric =
        |key: &str, label: String, target| Metric { key: key.into(), label, unit: Unit::Millis, target };
    m.samples.push(Sample {
        metric: metric(
            "notify_latency_p50",
            format!("Notification latency beyond group_wait, median of {groups} groups"),
            Some(Target::AtMost(LATENCY_TARGET_MS)),
        ),
        value: median(lat.clone()),
    });
    m.samples.push(Sample {
        metric: metric("notify_latency_p99", "Notification latency beyond group_wait, p99".into(), None),
        value: percentile(lat, 99.0),
    });
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_group_in_key() {
        assert_eq!(group_of(r#"{}:{group="g7"}"#), Some("g7"));
        assert_eq!(group_of(r#"{}/{team="a"}:{alertname="x", group="g12"}"#), Some("g12"));
        assert_eq!(group_of("{}:{}"), None);
    }
}
