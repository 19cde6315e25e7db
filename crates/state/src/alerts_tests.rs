use super::*;
use crate::marker::AlertState;
use tocsin_model::clock::ManualClock;
use tocsin_model::time::parse_rfc3339;
use tocsin_model::{Clock, LabelSet};

fn t(s: &str) -> Timestamp {
    parse_rfc3339(s).unwrap()
}

/// Minutes after 12:00 on a fixed day; negative values go back.
fn m(min: i64) -> Timestamp {
    t("2026-01-01T12:00:00Z") + chrono::Duration::minutes(min)
}

fn labels(name: &str) -> LabelSet {
    [("alertname", name)].into_iter().collect()
}

fn alert(name: &str, starts: i64, ends: i64, updated: i64, timeout: bool) -> Alert {
    Alert {
        labels: labels(name),
        annotations: [("v", format!("u{updated}"))].into_iter().collect(),
        starts_at: m(starts),
        ends_at: m(ends),
        generator_url: format!("http://gen/{updated}").into(),
        updated_at: m(updated).to_utc(),
        timeout,
    }
}

fn store_at(now: i64) -> (Arc<ManualClock>, AlertStore) {
    let clock = Arc::new(ManualClock::new(m(now).with_timezone(&Utc)));
    let store = AlertStore::new(clock.clone());
    (clock, store)
}

struct MergeCase {
    name: &'static str,
    old: Alert,
    new: Alert,
    /// (starts, ends, updated = source of annotations, timeout)
    want: (i64, i64, i64, bool),
}

#[test]
fn merge_table() {
    // now = minute 0 throughout.
    let cases = [
        MergeCase {
            name: "newer firing, older later explicit end wins",
            old: alert("A", -10, 20, -5, false),
            new: alert("A", -8, 10, -1, false),
            want: (-10, 20, -1, false),
        },
        MergeCase {
            name: "newer firing, older later timeout end ignored",
            old: alert("A", -10, 20, -5, true),
            new: alert("A", -8, 10, -1, false),
            want: (-10, 10, -1, false),
        },
        MergeCase {
            name: "newer firing, older earlier end ignored",
            old: alert("A", -10, 5, -5, false),
            new: alert("A", -12, 10, -1, true),
            want: (-12, 10, -1, true),
        },
        MergeCase {
            name: "newer resolved, older firing: newer end kept",
            old: alert("A", -10, 20, -5, false),
            new: alert("A", -10, -1, -1, false),
            want: (-10, -1, -1, false),
        },
        MergeCase {
            name: "both resolved: latest end wins",
            old: alert("A", -10, -2, -5, false),
            new: alert("A", -10, -4, -1, false),
            want: (-10, -2, -1, false),
        },
        MergeCase {
            name: "both resolved, older ended earlier",
            old: alert("A", -10, -6, -5, false),
            new: alert("A", -10, -4, -1, false),
            want: (-10, -4, -1, false),
        },
        MergeCase {
            name: "resolved exactly now counts as resolved",
            old: alert("A", -10, 30, -5, false),
            new: alert("A", -10, 0, -1, false),
            want: (-10, 0, -1, false),
        },
        MergeCase {
            name: "posted alert older than stored: stored supplies fields",
            old: alert("A", -5, 10, -1, false),
            new: alert("A", -10, 20, -3, false),
            want: (-10, 20, -1, false),
        },
        MergeCase {
            name: "equal updated_at: the new alert is the younger one",
            old: alert("A", -10, 20, -1, false),
            new: alert("A", -5, 10, -1, true),
            want: (-10, 20, -1, true),
        },
    ];
    for c in cases {
        let got = merge(&c.old, c.new, m(0));
        let (s, e, u, timeout) = c.want;
        assert_eq!(got.starts_at, m(s), "{}: starts_at", c.name);
        assert_eq!(got.ends_at, m(e), "{}: ends_at", c.name);
        assert_eq!(got.updated_at, m(u), "{}: updated_at", c.name);
        assert_eq!(*got.generator_url, format!("http://gen/{u}"), "{}: generator_url", c.name);
        assert_eq!(got.timeout, timeout, "{}: timeout", c.name);
        assert_eq!(
            got.annotations().get("v").map(|t| t.to_string()),
            Some(format!("u{u}")),
            "{}: annotations",
            c.name
        );
    }
}

#[test]
fn overlap_is_strict() {
    let old = alert("A", 0, 10, 0, false);
    let cases = [
        ("same start, later end (Prometheus resend)", alert("A", 0, 15, 1, false), false),
        ("end inside", alert("A", -5, 5, 1, false), true),
        ("start inside", alert("A", 5, 15, 1, false), true),
        ("end on old start", alert("A", -5, 0, 1, false), false),
        ("start on old end", alert("A", 10, 15, 1, false), false),
        ("identical interval", alert("A", 0, 10, 1, false), false),
        ("strictly inside", alert("A", 2, 8, 1, false), true),
        ("covering", alert("A", -1, 11, 1, false), false),
    ];
    for (name, new, want) in cases {
        assert_eq!(overlaps(&old, &new), want, "{name}");
    }
}

#[test]
fn put_outcomes_and_markers() {
    let (clock, store) = store_at(0);
    let a = alert("A", -10, 20, -2, false);
    let fp = a.fingerprint();
    assert_eq!(store.status(fp).state, AlertState::Unprocessed);
    assert_eq!(store.put(a), PutOutcome::Created);
    assert!(store.set_silenced(fp, 1, vec!["s1".into()], vec![]));
    // Overlapping: merged, earliest start and later explicit end kept, marker kept.
    assert_eq!(store.put(alert("A", -5, 10, -1, false)), PutOutcome::Merged);
    let got = store.get(fp).unwrap();
    assert_eq!((got.starts_at, got.ends_at), (m(-10), m(20)));
    assert_eq!(store.status(fp).silenced_by, vec!["s1".to_string()]);
    assert_eq!(store.status(fp).state, AlertState::Suppressed);
    // Same start, later end: replaced.
    assert_eq!(store.put(alert("A", -10, 30, 0, false)), PutOutcome::Replaced);
    assert_eq!(store.get(fp).unwrap().ends_at, m(30));
    assert_eq!(store.len(), 1);
    // Unknown fingerprints: no marker created.
    assert!(!store.set_inhibited(Fingerprint(42), vec!["x".into()]));
    assert_eq!(store.status(Fingerprint(42)), Marker::default());

    // GC removes resolved alerts and their markers.
    store.put(alert("B", -10, 5, 0, false));
    clock.set(m(5).with_timezone(&Utc));
    let removed = store.gc(clock.now());
    assert_eq!(removed, vec![labels("B").fingerprint()]);
    assert_eq!(store.len(), 1);
    clock.set(m(30).with_timezone(&Utc));
    assert_eq!(store.gc(clock.now()).len(), 1);
    assert!(store.is_empty());
    assert_eq!(store.status(fp), Marker::default());
    assert_eq!(store.put(alert("A", -10, 40, 0, false)), PutOutcome::Created);
    assert_eq!(store.status(fp).state, AlertState::Unprocessed);
}

#[test]
fn counts_by_state_skip_resolved() {
    let (_clock, store) = store_at(0);
    for (i, name) in ["A", "B", "C", "D"].iter().enumerate() {
        store.put(alert(name, -10, 10, i as i64 - 10, false));
    }
    store.put(alert("R", -10, -1, 0, false));
    store.set_silenced(labels("A").fingerprint(), 0, vec![], vec![]);
    store.set_inhibited(labels("B").fingerprint(), vec!["f".into()]);
    store.set_silenced(labels("R").fingerprint(), 0, vec!["s".into()], vec![]);
    assert_eq!(
        store.counts(m(0).with_timezone(&Utc)),
        AlertCounts { active: 1, suppressed: 1, unprocessed: 2 }
    );
}

#[test]
fn for_each_and_snapshot_share_alerts() {
    let (_clock, store) = store_at(0);
    store.put(alert("A", 0, 10, 0, false));
    store.put(alert("B", 0, 10, 0, false));
    let mut seen = Vec::new();
    store.for_each(|fp, a, mk| {
        assert_eq!(fp, a.fingerprint());
        assert_eq!(mk.state, AlertState::Unprocessed);
        seen.push(a.labels.value("alertname").to_owned());
    });
    seen.sort();
    assert_eq!(seen, ["A", "B"]);
    let snap = store.snapshot();
    assert_eq!(snap.len(), 2);
    let fp = labels("A").fingerprint();
    let shared = snap.iter().find(|a| a.fingerprint() == fp).unwrap();
    assert!(Arc::ptr_eq(shared, &store.get(fp).unwrap()));
}

#[tokio::test(start_paused = true)]
async fn subscribe_delivers_current_then_new() {
    let (_clock, store) = store_at(0);
    store.put(alert("A", 0, 10, 0, false));
    store.put(alert("B", 0, 10, 0, false));
    let mut sub = store.subscribe();
    let mut first = [sub.recv().await.unwrap(), sub.recv().await.unwrap()];
    first.sort_by(|a, b| a.labels.cmp(&b.labels));
    assert_eq!(first[0].labels, labels("A"));
    assert_eq!(first[1].labels, labels("B"));
    assert!(sub.try_recv().is_none());
    store.put(alert("C", 0, 10, 0, false));
    store.put(alert("A", 0, 20, 1, false));
    assert_eq!(sub.recv().await.unwrap().labels, labels("C"));
    let a = sub.recv().await.unwrap();
    assert_eq!((a.labels.clone(), a.ends_at), (labels("A"), m(20)));

    // A dropped subscriber is pruned and does not disturb the others.
    let other = store.subscribe();
    drop(other);
    store.put(alert("D", 0, 10, 0, false));
    assert_eq!(sub.recv().await.unwrap().labels, labels("D"));
    store.gc(m(0).with_timezone(&Utc));
    assert_eq!(store.subscriber_count(), 1);
}

#[test]
fn concurrent_puts() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 2000;
    let (_clock, store) = store_at(0);
    let store = Arc::new(store);
    let mut sub = store.subscribe();
    std::thread::scope(|s| {
        for th in 0..THREADS {
            let store = Arc::clone(&store);
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    // Half of the fingerprints are shared between threads, to exercise merges under contention.
                    let name = if i % 2 == 0 { format!("shared{i}") } else { format!("t{th}-{i}") };
                    store.put(alert(&name, -10, 10 + th as i64, 0, false));
                }
            });
        }
    });
    let want = PER_THREAD / 2 + THREADS * PER_THREAD / 2;
    assert_eq!(store.len(), want);
    let mut received = 0;
    while sub.try_recv().is_some() {
        received += 1;
    }
    assert_eq!(received, THREADS * PER_THREAD);
    let mut n = 0;
    store.for_each(|_, _, _| n += 1);
    assert_eq!(n, want);
}

#[test]
fn shards_are_used() {
    let (_clock, store) = store_at(0);
    for i in 0..1000 {
        store.put(alert(&format!("a{i}"), 0, 10, 0, false));
    }
    let used = store.shards.iter().filter(|s| !s.read().table.is_empty()).count();
    assert_eq!(used, SHARDS);
    let max = store.shards.iter().map(|s| s.read().table.len()).max().unwrap();
    assert!(max < 1000 / SHARDS * 3, "unbalanced shards: {max}");
}

#[test]
fn markers_round_trip_through_the_packed_slot() {
    struct Case {
        name: &'static str,
        input: Marker,
    }
    let cases = [
        Case { name: "default", input: Marker::default() },
        Case {
            name: "active with version",
            input: Marker { state: AlertState::Active, silences_version: 12345, ..Marker::default() },
        },
        Case {
            name: "largest packed version",
            input: Marker {
                state: AlertState::Suppressed,
                silences_version: u64::MAX >> 3,
                ..Marker::default()
            },
        },
        Case {
            name: "version too large to pack",
            input: Marker { state: AlertState::Active, silences_version: u64::MAX, ..Marker::default() },
        },
        Case {
            name: "lists",
            input: Marker {
                state: AlertState::Suppressed,
                silenced_by: vec!["s".into()],
                inhibited_by: vec!["00000000000000ff".into()],
                muted_by: vec!["weekends".into()],
                pending_silences: vec!["p".into()],
                silences_version: 7,
            },
        },
    ];
    let (clock, store) = store_at(0);
    let a = alert("A", -10, 20, 0, false);
    let fp = a.fingerprint();
    store.put(a);
    for c in cases {
        assert!(store.update_marker(fp, |m| *m = c.input.clone()), "{}", c.name);
        assert_eq!(store.status(fp), c.input, "{}", c.name);
        assert_eq!(store.get_with_status(fp).map(|(_, m)| m), Some(c.input.clone()), "{}", c.name);
        store.for_each(|_, _, m| assert_eq!(*m, c.input, "{}", c.name));
    }
    // Back to a plain marker: the whole one is dropped from the side map.
    store.update_marker(fp, |m| *m = Marker::default());
    assert!(store.shards.iter().all(|s| s.read().full.is_empty()));
    // GC drops whole markers with their alerts.
    store.set_silenced(fp, 1, vec!["s".into()], vec![]);
    assert_eq!(store.shards.iter().map(|s| s.read().full.len()).sum::<usize>(), 1);
    clock.set(m(30).with_timezone(&Utc));
    assert_eq!(store.gc(clock.now()), vec![fp]);
    assert!(store.shards.iter().all(|s| s.read().full.is_empty()));
}
