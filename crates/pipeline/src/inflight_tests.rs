//! Two simulated nodes whose in-flight logs and notification logs are wired to each other (instant gossip), in
//! paused time.

use super::*;
use crate::metrics::Metrics;
use crate::notifier::NotifyCtx;
use crate::retry::{RetryStage, SeededJitter};
use crate::testing::{RecordingNotifier, TokioClock};
use chrono::TimeZone;
use std::sync::atomic::{AtomicBool, Ordering};
use tocsin_model::time::utc;
use tocsin_model::{Alert, LabelSet};
use tocsin_state::nflog::NflogOrigin;

#[derive(Debug)]
struct TestPeer {
    position: usize,
    log: Arc<InflightLog>,
}

#[async_trait]
impl Peer for TestPeer {
    fn position(&self) -> usize {
        self.position
    }
    async fn settled(&self) {}
    fn inflight(&self) -> Option<Arc<InflightLog>> {
        Some(self.log.clone())
    }
}

struct Node {
    log: Arc<InflightLog>,
    nflog: Arc<NotificationLog>,
    notifier: Arc<RecordingNotifier>,
    stage: InflightStage,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

fn node(name: &str, position: usize, clock: &SharedClock) -> Node {
    let log = Arc::new(InflightLog::new(name, clock.clone()));
    let nflog = Arc::new(NotificationLog::new(Duration::from_secs(3600)));
    let notifier = RecordingNotifier::new(true);
    let integration = Integration::new("webhook", 0, notifier.clone());
    let metrics = Arc::new(Metrics::unregistered());
    let send = MultiStage(vec![
        Arc::new(RetryStage::new("team", integration.clone(), Arc::new(SeededJitter::new(1)), metrics)),
        Arc::new(crate::dedup::SetNotifiesStage::new(nflog.clone(), "team", &integration, clock.clone())),
    ]);
    let peer = Arc::new(TestPeer { position, log: log.clone() });
    let stage = InflightStage::new(peer, nflog.clone(), "team", &integration, clock.clone(), send);
    Node { log, nflog, notifier, stage }
}

/// Gossip from `a` to `b` (one direction), instantly.
fn wire(a: &Node, b: &Node, clock: &SharedClock) {
    let (blog, bnflog, clock) = (b.log.clone(), b.nflog.clone(), clock.clone());
    a.log.on_local_change(move |r| {
        blog.merge(r.clone());
    });
    let blog = b.log.clone();
    a.nflog.on_change(move |c| {
        if c.origin == NflogOrigin::Local {
            bnflog.merge(c.mesh.clone(), clock.now());
            blog.notify_changed();
        }
    });
}

fn pair() -> (Node, Node, SharedClock) {
    let clock: SharedClock = Arc::new(TokioClock::new(start()));
    let a = node("A", 0, &clock);
    let b = node("B", 1, &clock);
    wire(&a, &b, &clock);
    wire(&b, &a, &clock);
    (a, b, clock)
}

fn cx(firing: &[u64]) -> StageCtx {
    StageCtx {
        notify: NotifyCtx {
            receiver: "team".into(),
            group_key: "{}:{}".into(),
            group_labels: LabelSet::new(),
            repeat_interval: Duration::from_secs(3600),
            now: start(),
            external_url: String::new(),
        },
        route_id: "{}".into(),
        mute_time_intervals: Arc::from(Vec::new()),
        active_time_intervals: Arc::from(Vec::new()),
        deadline: tokio::time::Instant::now() + Duration::from_secs(10),
        firing: firing.to_vec(),
        resolved: vec![],
    }
}

fn alerts() -> Alerts {
    let t = utc(start());
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

fn receiver() -> Receiver {
    Receiver { group_name: "team".into(), integration: "webhook".into(), idx: 0 }
}

/// Runs B's stage `after` the start; returns what it passed on and when it finished.
async fn run_b(b: &Node, after: Duration, firing: &[u64]) -> (Result<Alerts, StageError>, Duration) {
    let origin = tokio::time::Instant::now();
    tokio::time::sleep(after).await;
    let mut c = cx(firing);
    let out = b.stage.exec(&mut c, alerts()).await;
    (out, origin.elapsed())
}

#[tokio::test(start_paused = true)]
async fn slow_sender_is_not_duplicated() {
    let (a, b, _) = pair();
    a.notifier.set_delay(Duration::from_secs(2));
    let mut ca = cx(&[1]);
    let (ra, (rb, took)) =
        tokio::join!(a.stage.exec(&mut ca, alerts()), run_b(&b, Duration::from_secs(1), &[1]));
    assert_eq!(ra.unwrap().len(), 1);
    assert!(rb.unwrap().is_empty(), "B must skip: A delivered");
    assert_eq!(a.notifier.sent().len(), 1);
    assert!(b.notifier.sent().is_empty());
    assert_eq!(took, Duration::from_secs(2), "B is released as soon as A's log entry arrives");
    // A withdrew its record everywhere.
    let q_firing: HashSet<u64> = [1].into();
    let q = CoverQuery {
        group_key: "{}:{}",
        receiver: &receiver(),
        firing: &q_firing,
        resolved: &HashSet::new(),
        send_resolved: SendResolved::Yes,
        repeat_interval: Duration::from_secs(3600),
    };
    assert_eq!(b.log.covered_until(&q, a.log.clock.now()), None);
}

#[tokio::test(start_paused = true)]
async fn dead_sender_is_covered_until_expiry() {
    let (a, b, clock) = pair();
    a.log.announce(
        "{}:{}",
        &receiver(),
        [1].into(),
        HashSet::new(),
        clock.now() + chrono::Duration::seconds(5),
    );
    let (rb, took) = run_b(&b, Duration::ZERO, &[1]).await;
    assert_eq!(rb.unwrap().len(), 1);
    assert_eq!(b.notifier.sent().len(), 1);
    assert_eq!(took, Duration::from_secs(5), "B sends once A's record expired");
}

#[tokio::test(start_paused = true)]
async fn sender_that_left_the_cluster_covers_nothing() {
    let (a, b, clock) = pair();
    let alive = Arc::new(AtomicBool::new(true));
    let flag = alive.clone();
    b.log.set_liveness(move |n| n != "A" || flag.load(Ordering::SeqCst));
    a.log.announce(
        "{}:{}",
        &receiver(),
        [1].into(),
        HashSet::new(),
        clock.now() + chrono::Duration::seconds(9),
    );
    let kill = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        alive.store(false, Ordering::SeqCst);
    };
    let ((rb, took), ()) = tokio::join!(run_b(&b, Duration::ZERO, &[1]), kill);
    assert_eq!(rb.unwrap().len(), 1);
    assert!(took > Duration::from_secs(1) && took <= Duration::from_secs(1) + RECHECK, "took {took:?}");
}

#[tokio::test(start_paused = true)]
async fn failed_send_releases_the_waiter() {
    let (a, b, _) = pair();
    a.notifier.set_delay(Duration::from_secs(2));
    a.notifier.script([RecordingNotifier::client_error()]);
    let mut ca = cx(&[1]);
    let (ra, (rb, took)) =
        tokio::join!(a.stage.exec(&mut ca, alerts()), run_b(&b, Duration::from_secs(1), &[1]));
    assert!(ra.is_err());
    assert_eq!(rb.unwrap().len(), 1, "B sends itself after A gave up");
    assert_eq!(b.notifier.sent().len(), 1);
    assert_eq!(took, Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn different_content_is_not_covered() {
    let (a, b, clock) = pair();
    a.log.announce(
        "{}:{}",
        &receiver(),
        [1].into(),
        HashSet::new(),
        clock.now() + chrono::Duration::seconds(9),
    );
    // B has a new firing alert (2) that A's send does not carry.
    let (rb, took) = run_b(&b, Duration::ZERO, &[1, 2]).await;
    assert_eq!(rb.unwrap().len(), 1);
    assert_eq!(took, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn without_cluster_the_stage_only_sends() {
    let clock: SharedClock = Arc::new(TokioClock::new(start()));
    let b = node("B", 0, &clock);
    let integration = Integration::new("webhook", 0, b.notifier.clone());
    let send = MultiStage(vec![Arc::new(RetryStage::new(
        "team",
        integration.clone(),
        Arc::new(SeededJitter::new(1)),
        Arc::new(Metrics::unregistered()),
    ))]);
    let stage = InflightStage::new(
        Arc::new(crate::peer::SingleNode),
        b.nflog.clone(),
        "team",
        &integration,
        clock,
        send,
    );
    let out = stage.exec(&mut cx(&[1]), alerts()).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(b.notifier.sent().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn merge_is_last_writer_wins_and_idempotent() {
    let clock: SharedClock = Arc::new(TokioClock::new(start()));
    let log = InflightLog::new("B", clock.clone());
    let rec = |secs: i64, done: bool, expires: i64| InflightRecord {
        group_key: "g".into(),
        receiver: receiver(),
        node: "A".into(),
        firing: [1].into(),
        resolved: HashSet::new(),
        updated_at: start() + chrono::Duration::seconds(secs),
        expires_at: start() + chrono::Duration::seconds(expires),
        done,
    };
    struct Case {
        name: &'static str,
        input: InflightRecord,
        want: bool,
    }
    let cases = [
        Case { name: "unknown", input: rec(1, false, 10), want: true },
        Case { name: "same again", input: rec(1, false, 10), want: false },
        Case { name: "newer withdrawal", input: rec(2, true, 10), want: true },
        Case { name: "older announce after withdrawal", input: rec(1, false, 10), want: false },
        Case { name: "expired", input: rec(3, false, -1), want: false },
    ];
    for c in cases {
        assert_eq!(log.merge(c.input), c.want, "{}", c.name);
    }
    assert_eq!(log.full_state().len(), 1);
    assert!(log.full_state()[0].done);
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(log.gc(clock.now()), 1);
    assert!(log.is_empty());
}
