//! Realistic, distinct alerts as Prometheus sends them (alertname, instance, job, severity; summary and description;
//! startsAt, endsAt, generatorURL), pre-serialised into POST bodies so the client costs nothing while measuring.

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::ops::Range;

const ALERTNAMES: [&str; 16] = [
    "HighCPULoad",
    "HighMemoryUsage",
    "DiskWillFillIn4Hours",
    "NodeFilesystemAlmostFull",
    "InstanceDown",
    "HighRequestLatency",
    "HighErrorRate",
    "TargetScrapeSlow",
    "NetworkReceiveErrors",
    "ClockSkewDetected",
    "TooManyOpenFiles",
    "ContainerRestarting",
    "CertificateExpiringSoon",
    "ReplicationLagHigh",
    "QueueBacklogGrowing",
    "OOMKillsDetected",
];
const JOBS: [&str; 5] = ["node", "blackbox", "mysqld", "postgres", "kubelet"];
const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

/// Alert number `i`: its instance label carries `i`, so every alert of a run has a distinct label set; the other
/// labels cycle through small sets, as they do in real fleets (16 alertnames → 16 aggregation groups).
pub fn alert(i: usize, starts_at: &str, ends_at: &str) -> Value {
    let name = ALERTNAMES[i % ALERTNAMES.len()];
    let instance = format!("node-{i:06}.dc{}.example.net:9100", i % 3);
    json!({
        "labels": {
            "alertname": name,
            "instance": instance,
            "job": JOBS[i % JOBS.len()],
            "severity": SEVERITIES[i % SEVERITIES.len()],
        },
        "annotations": {
            "summary": format!("{name} on {instance}"),
            "description": format!("{name} has been firing on {instance} for more than 5 minutes (value {}.{}).", i % 97, i % 10),
        },
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": format!("http://prometheus.example.net:9090/graph?g0.expr=up%7Bjob%3D%22{}%22%7D&g0.tab=1", JOBS[i % JOBS.len()]),
    })
}

/// The alerts with numbers in `range`, `batch` per body. They start at `now` and end an hour later, so they stay
/// active for the whole run (as Prometheus' resend keeps them active).
pub fn batches(range: Range<usize>, batch: usize, now: DateTime<Utc>) -> Vec<Bytes> {
    let starts_at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let ends_at = (now + chrono::Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let ids: Vec<usize> = range.collect();
    ids.chunks(batch.max(1))
        .map(|chunk| {
            let alerts: Vec<Value> = chunk.iter().map(|&i| alert(i, &starts_at, &ends_at)).collect();
            Bytes::from(serde_json::to_vec(&alerts).expect("a Vec<serde_json::Value> always serialises"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn batches_are_sized_and_distinct() {
        let now = DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").expect("date").with_timezone(&Utc);
        let bodies = batches(0..2_500, 1_000, now);
        assert_eq!(bodies.len(), 3);
        let mut seen = HashSet::new();
        let mut total = 0;
        for b in &bodies {
            let v: Vec<Value> = serde_json::from_slice(b).expect("json");
            total += v.len();
            for a in v {
                assert!(seen.insert(a["labels"].to_string()), "duplicate label set");
                assert_eq!(a["endsAt"], "2024-01-01T01:00:00.000Z");
            }
        }
        assert_eq!(total, 2_500);
    }
}
