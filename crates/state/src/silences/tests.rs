use super::*;
use tocsin_model::clock::ManualClock;
use tocsin_model::Clock;

/// Noon on a fixed day plus `secs` seconds.
fn at(secs: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z").unwrap().with_timezone(&Utc)
        + chrono::Duration::seconds(secs)
}

fn setup(opts: SilencesOptions) -> (Arc<ManualClock>, Silences) {
    let clock = Arc::new(ManualClock::new(at(0)));
    (clock.clone(), Silences::new(opts, clock))
}

fn spec(ty: MatchType, name: &str, value: &str) -> MatcherSpec {
    MatcherSpec { ty, name: name.into(), value: value.into() }
}

fn post(matchers: Vec<MatcherSpec>, start: i64, end: i64) -> PostableSilence {
    PostableSilence {
        id: None,
        matchers,
        starts_at: Some(at(start)),
        ends_at: at(end),
        created_by: "x".into(),
        comment: "c".into(),
    }
}

fn eq(name: &str, value: &str) -> Vec<MatcherSpec> {
    vec![spec(MatchType::Equal, name, value)]
}

fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs.iter().copied().collect()
}

const RETENTION: Duration = Duration::from_secs(3600);

fn opts() -> SilencesOptions {
    SilencesOptions { retention: RETENTION, ..Default::default() }
}

#[test]
fn create_moves_past_start_and_transitions_at_exact_instants() {
    let (clock, s) = setup(opts());
    let id = s.set(post(eq("a", "b"), -60, 100)).unwrap();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    let sil = s.get(&id).unwrap();
    assert_eq!((sil.starts_at, sil.ends_at, sil.updated_at), (at(0), at(100), at(0)));
    assert_eq!(s.full_state()[0].expires_at, at(100) + chrono::Duration::hours(1));
    let labels = ls(&[("a", "b")]);
    assert_eq!(s.mutes(&labels, at(0)), vec![id.clone()]);
    // At the end instant: internal state still active (getState), API state expired (CalcSilenceState).
    assert_eq!(s.mutes(&labels, at(100)), vec![id.clone()]);
    assert_eq!(s.query(&[], at(100))[0].state, SilenceState::Expired);
    assert_eq!(s.counts(at(100)), SilenceCounts { active: 1, pending: 0, expired: 0 });
    assert!(s.mutes(&labels, at(100) + chrono::Duration::nanoseconds(1)).is_empty());

    let pid = s.set(post(eq("a", "b"), 50, 100)).unwrap();
    assert_eq!(s.query(&[], at(49))[1].state, SilenceState::Pending);
    assert_eq!(s.matching(&labels, at(49)).pending, vec![pid.clone()]);
    assert_eq!(s.query(&[], at(50)).iter().filter(|v| v.state == SilenceState::Active).count(), 2);
    clock.set(at(200));
    assert_eq!(s.counts(clock.now()), SilenceCounts { active: 0, pending: 0, expired: 2 });
}

#[test]
fn set_errors_have_upstream_text() {
    struct Case {
        name: &'static str,
        input: PostableSilence,
        names: NameValidation,
        want: &'static str,
    }
    let cases = [
        Case {
            name: "start equals end",
            input: post(eq("a", "b"), 10, 10),
            names: NameValidation::Utf8,
            want: "Failed to create silence: start time must be before end time",
        },
        Case {
            name: "end in the past",
            input: post(eq("a", "b"), -20, -10),
            names: NameValidation::Utf8,
            want: "Failed to create silence: end time can't be in the past",
        },
        Case {
            name: "unknown id wins over invalid body (0.25 measured)",
            input: PostableSilence { id: Some("nope".into()), ..post(eq("a", ""), 0, 10) },
            names: NameValidation::Utf8,
            want: "silence not found",
        },
        Case {
            name: "no matchers",
            input: post(vec![], 0, 10),
            names: NameValidation::Utf8,
            want: "silence invalid: at least one matcher required",
        },
        Case {
            name: "all match empty",
            input: post(vec![spec(MatchType::Equal, "a", ""), spec(MatchType::Regexp, "b", ".*")], 0, 10),
            names: NameValidation::Utf8,
            want: "silence invalid: at least one matcher must not match the empty string",
        },
        Case {
            name: "classic name",
            input: post(eq("a-b", "x"), 0, 10),
            names: NameValidation::Classic,
            want: "silence invalid: invalid label matcher 0: invalid label name \"a-b\"",
        },
        Case {
            name: "empty name in utf8 mode",
            input: post(vec![spec(MatchType::Equal, "a", "b"), spec(MatchType::Equal, "", "x")], 0, 10),
            names: NameValidation::Utf8,
            want: "silence invalid: invalid label matcher 1: invalid label name \"\"",
        },
    ];
    for c in cases {
        let (_clock, s) = setup(SilencesOptions { names: c.names, ..opts() });
        assert_eq!(s.set(c.input).unwrap_err().to_string(), c.want, "{}", c.name);
        assert!(s.is_empty(), "{}", c.name);
    }
    let (_clock, s) = setup(opts());
    let err = s.set(post(vec![spec(MatchType::Regexp, "a", "(")], 0, 10)).unwrap_err().to_string();
    assert!(
        err.starts_with("silence invalid: invalid label matcher 0: invalid regular expression \"(\": "),
        "{err}"
    );
    assert!(matches!(s.expire("nope"), Err(SilenceError::NotFound)));
}

#[test]
fn update_in_place_or_replace() {
    let (clock, s) = setup(opts());
    let id = s.set(post(eq("a", "b"), 0, 100)).unwrap();
    clock.set(at(10));
    let with_id = |p: PostableSilence, id: &str| PostableSilence { id: Some(id.to_owned()), ..p };

    // Active, same start second, later end: in place.
    let mut p = post(eq("a", "b"), 0, 200);
    p.starts_at = Some(at(0) + chrono::Duration::milliseconds(300));
    let same = s.set(with_id(p, &id)).unwrap();
    assert_eq!(same, id);
    let sil = s.get(&id).unwrap();
    assert_eq!((sil.ends_at, sil.updated_at), (at(200), at(10)));

    // Active, start moved: old expired now, new silence from now.
    let v = s.version();
    let new_id = s.set(with_id(post(eq("a", "b"), 5, 200), &id)).unwrap();
    assert_ne!(new_id, id);
    assert_eq!(s.get(&id).unwrap().ends_at, at(10));
    assert_eq!(s.get(&new_id).unwrap().starts_at, at(10));
    assert_eq!(s.version(), v + 2);

    // Matchers changed: replaced.
    let other = s.set(with_id(post(eq("a", "c"), 10, 200), &new_id)).unwrap();
    assert_ne!(other, new_id);
    assert_eq!(s.get(&new_id).unwrap().ends_at, at(10));

    // Invalid update leaves the old silence alone (0.28 order).
    let before = s.get(&other).unwrap();
    assert!(s.set(with_id(post(eq("a", ""), 10, 200), &other)).is_err());
    assert_eq!(s.get(&other).unwrap(), before);

    // Pending: in place while the new start is not in the past.
    let pend = s.set(post(eq("p", "1"), 100, 200)).unwrap();
    assert_eq!(s.set(with_id(post(eq("p", "1"), 50, 300), &pend)).unwrap(), pend);
    assert_eq!(s.get(&pend).unwrap().starts_at, at(50));
    let replaced = s.set(with_id(post(eq("p", "1"), 5, 300), &pend)).unwrap();
    assert_ne!(replaced, pend);
    let old = s.get(&pend).unwrap();
    assert_eq!((old.starts_at, old.ends_at), (at(10), at(10)));

    // Expired: never in place; the expired one stays as it is.
    clock.set(at(20));
    let exp = s.get(&id).unwrap();
    let fresh = s.set(with_id(post(eq("a", "b"), 20, 300), &id)).unwrap();
    assert_ne!(fresh, id);
    assert_eq!(s.get(&id).unwrap(), exp);
}

#[test]
fn in_place_update_at_same_instant_still_wins() {
    let (_clock, s) = setup(opts());
    let id = s.set(post(eq("a", "b"), 0, 100)).unwrap();
    let p = PostableSilence { id: Some(id.clone()), comment: "new".into(), ..post(eq("a", "b"), 0, 100) };
    s.set(p).unwrap();
    let sil = s.get(&id).unwrap();
    assert_eq!(sil.comment, "new");
    assert!(sil.updated_at > at(0));
}

#[test]
fn expire_transitions() {
    let (clock, s) = setup(opts());
    let active = s.set(post(eq("a", "b"), 0, 100)).unwrap();
    let pending = s.set(post(eq("a", "b"), 50, 100)).unwrap();
    clock.set(at(10));
    s.expire(&active).unwrap();
    s.expire(&pending).unwrap();
    let a = s.get(&active).unwrap();
    assert_eq!((a.starts_at, a.ends_at, a.updated_at), (at(0), at(10), at(10)));
    let p = s.get(&pending).unwrap();
    assert_eq!((p.starts_at, p.ends_at), (at(10), at(10)));
    // Expired at `now` exactly is still "active" internally; a moment later expiring again is a no-op.
    clock.set(at(11));
    let v = s.version();
    s.expire(&active).unwrap();
    assert_eq!(s.version(), v);
    assert_eq!(s.expire("unknown"), Err(SilenceError::NotFound));
}

#[test]
fn query_filters_and_orders() {
    let (clock, s) = setup(opts());
    let e_early = s.set(post(eq("a", "1"), 0, 10)).unwrap();
    let e_late = s.set(post(eq("a", "1"), 0, 20)).unwrap();
    clock.set(at(5));
    let act_late = s.set(post(eq("a", "1"), 5, 500)).unwrap();
    let act_soon = s.set(post(eq("a", "1"), 5, 300)).unwrap();
    let pend_late = s.set(post(eq("a", "1"), 200, 600)).unwrap();
    let pend_soon = s.set(post(eq("a", "1"), 100, 600)).unwrap();
    let other = s
        .set(post(vec![spec(MatchType::Regexp, "a", "1"), spec(MatchType::Equal, "b", "2")], 5, 400))
        .unwrap();
    clock.set(at(50));
    let ids: Vec<String> = s.query(&[], at(50)).into_iter().map(|v| v.silence.id.clone()).collect();
    assert_eq!(
        ids,
        [&act_soon, &other, &act_late, &pend_soon, &pend_late, &e_late, &e_early].map(|s| s.clone())
    );

    let f = |ty, n: &str, v: &str| Matcher::new(ty, n, v).unwrap();
    let got = |filter: &[Matcher]| {
        s.query(filter, at(50)).into_iter().map(|v| v.silence.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(got(&[f(MatchType::Regexp, "a", "1")]), vec![other.clone()]);
    assert_eq!(got(&[f(MatchType::Equal, "b", "2"), f(MatchType::Regexp, "a", "1")]), vec![other.clone()]);
    assert_eq!(got(&[f(MatchType::Equal, "a", "1")]).len(), 6);
    assert!(got(&[f(MatchType::Equal, "a", "2")]).is_empty());
    assert!(got(&[f(MatchType::NotEqual, "a", "1")]).is_empty());
    assert!(got(&[f(MatchType::Equal, "c", "1")]).is_empty());
}

#[test]
fn mutes_uses_index_and_scan() {
    let (_clock, s) = setup(opts());
    let by_pair = s.set(post(eq("job", "node"), 0, 100)).unwrap();
    let regex = s.set(post(vec![spec(MatchType::Regexp, "job", "no.*")], 0, 100)).unwrap();
    let neg =
        s.set(post(vec![spec(MatchType::NotEqual, "env", "prod"), spec(MatchType::Equal, "x", "")], 0, 100));
    assert!(neg.is_err(), "all matchers match empty");
    let neg = s
        .set(post(vec![spec(MatchType::Equal, "x", ""), spec(MatchType::Equal, "team", "a")], 0, 100))
        .unwrap();
    let _pending = s.set(post(eq("job", "node"), 50, 100)).unwrap();
    let mut want = vec![by_pair.clone(), regex.clone()];
    want.sort();
    assert_eq!(s.mutes(&ls(&[("job", "node"), ("team", "b")]), at(1)), want);
    assert_eq!(s.mutes(&ls(&[("team", "a")]), at(1)), vec![neg.clone()]);
    assert_eq!(s.mutes(&ls(&[("team", "a"), ("x", "1")]), at(1)), Vec::<String>::new());
    let m = s.matching(&ls(&[("job", "node")]), at(1));
    assert_eq!((m.active.len(), m.pending.len(), m.version), (2, 1, s.version()));
    let cached: Vec<String> = m.active.iter().chain(&m.pending).cloned().collect();
    assert_eq!(s.mutes_among(&cached, &ls(&[("job", "node")]), at(60)).len(), 3);
    // GC drops ended silences from the index, and everything once retention is over.
    assert_eq!(s.gc(at(101)), 0);
    assert_eq!(s.inner.read().index.len(), 0);
    assert_eq!(s.len(), 4);
    assert_eq!(s.gc(at(100) + chrono::Duration::hours(1)), 4);
    assert!(s.is_empty());
}

#[test]
fn limits_have_upstream_text() {
    let limits = SilenceLimits { max_silences: 1, max_silence_size_bytes: 4096 };
    let (clock, s) = setup(SilencesOptions { limits, ..opts() });
    let id = s.set(post(eq("a", "b"), 0, 100)).unwrap();
    assert_eq!(
        s.set(post(eq("c", "d"), 0, 100)).unwrap_err().to_string(),
        "exceeded maximum number of silences: 1 (limit: 1)"
    );
    // In-place updates do not count against the limit.
    let upd = PostableSilence { id: Some(id.clone()), ..post(eq("a", "b"), 0, 200) };
    assert_eq!(s.set(upd).unwrap(), id);
    s.expire(&id).unwrap();
    clock.set(at(0) + chrono::Duration::hours(2));
    assert_eq!(s.gc(clock.now()), 1);
    let big = "e".repeat(1024);
    let mut p =
        post(vec![spec(MatchType::Equal, &big, &big), spec(MatchType::Equal, &big, &big)], 7200, 7300);
    p.created_by = big.clone();
    p.comment = big;
    let err = s.set(p).unwrap_err();
    assert!(matches!(err, SilenceError::Limit(_)));
    let text = err.to_string();
    assert!(
        text.starts_with("silence exceeded maximum size: ") && text.ends_with(" bytes (limit: 4096 bytes)"),
        "{text}"
    );
    assert!(s.is_empty());
}

#[test]
fn mesh_size_of_a_small_silence() {
    let (_clock, s) = setup(opts());
    let id = s.set(post(eq("a", "b"), 0, 100)).unwrap();
    assert_eq!(id.len(), 36);
    // id 38 + matcher 8 + three timestamps 3×8 + created_by 3 + comment 3 = 76 → 78, + expires_at 8.
    assert_eq!(mesh_silence_size(&s.full_state()[0]), 86);
}

fn mesh(id: &str, updated: i64, end: i64, comment: &str) -> MeshSilence {
    let sil = Silence {
        id: id.into(),
        matchers: vec![Matcher::new(MatchType::Equal, "a", "b").unwrap()],
        starts_at: at(0),
        ends_at: at(end),
        updated_at: at(updated),
        created_by: "x".into(),
        comment: comment.into(),
    };
    MeshSilence { silence: Arc::new(sil), expires_at: at(end) + chrono::Duration::hours(1) }
}

#[test]
fn merge_is_lww_idempotent_and_order_independent() {
    let updates = [
        mesh("s1", 1, 100, "one"),
        mesh("s1", 3, 100, "three"),
        mesh("s1", 2, 50, "two"),
        mesh("s2", 1, 100, "x"),
    ];
    let orders: [[usize; 4]; 4] = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 0, 3, 2], [2, 3, 0, 1]];
    let mut states = Vec::new();
    for order in orders {
        let (_clock, s) = setup(opts());
        for &i in &order {
            s.merge(updates[i].clone());
            s.merge(updates[i].clone());
        }
        let mut st = s.full_state();
        st.sort_by(|a, b| a.silence.id.cmp(&b.silence.id));
        states.push(st);
    }
    assert!(states.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(states[0][0].silence.comment, "three");

    let (clock, s) = setup(opts());
    assert!(s.merge(updates[0].clone()));
    assert!(!s.merge(updates[0].clone()), "same updated_at is not newer");
    assert!(s.merge(updates[1].clone()));
    assert!(!s.merge(updates[2].clone()), "older write ignored");
    clock.set(at(100) + chrono::Duration::hours(1) + chrono::Duration::seconds(1));
    assert!(!s.merge(mesh("s3", 5, 100, "gone")), "expired beyond retention");
}

#[tokio::test(start_paused = true)]
async fn change_hook_sees_local_and_remote_changes_in_order() {
    let (_clock, s) = setup(opts());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    s.on_change(move |c| {
        let _ = tx.send((c.mesh.silence.id.clone(), c.origin, c.mesh.silence.ends_at));
    });
    let id = s.set(post(eq("a", "b"), 0, 100)).unwrap();
    s.expire(&id).unwrap();
    s.merge(mesh("r1", 1, 100, "remote"));
    assert!(!s.merge(mesh("r1", 1, 100, "remote")));
    let got: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(
        got,
        vec![
            (id.clone(), ChangeOrigin::Local, at(100)),
            (id, ChangeOrigin::Local, at(0)),
            ("r1".to_string(), ChangeOrigin::Remote, at(100)),
        ]
    );
}

#[test]
fn odd_input_does_not_panic() {
    let (_clock, s) = setup(SilencesOptions { retention: Duration::MAX, ..opts() });
    let far = DateTime::<Utc>::MAX_UTC;
    let id = s.set(PostableSilence { ends_at: far, ..post(eq("ü-ñ", "\u{0}"), 0, 1) }).unwrap();
    assert_eq!(s.full_state()[0].expires_at, far);
    assert!(mesh_silence_size(&s.full_state()[0]) > 0);
    assert_eq!(s.mutes(&ls(&[("ü-ñ", "\u{0}")]), at(1)), vec![id]);
    let _ = s.set(PostableSilence { id: Some(String::new()), ..post(eq("a", "b"), i64::from(i32::MIN), 10) });
    assert!(s.query(&[], DateTime::<Utc>::MIN_UTC).len() <= 2);
}

/// Every query upstream's `Silences.Query` would count moves the observer by exactly one (the state gauges' by
/// three); writes, merges, GC and snapshots do not, and nothing here is an error.
#[test]
fn queries_are_counted_as_upstream() {
    let (clock, s) = setup(opts());
    let rec = Arc::new(metrics::Recorder::default());
    assert!(s.set_query_metrics(rec.clone()));
    assert!(!s.set_query_metrics(Arc::new(metrics::Recorder::default())), "the first observer stays");

    let id = s.set(post(eq("a", "b"), 0, 100)).unwrap();
    let id = s.set(PostableSilence { id: Some(id), ..post(eq("a", "b"), 0, 200) }).unwrap();
    s.expire(&id).unwrap();
    let other = s.set(post(eq("c", "d"), 0, 100)).unwrap();
    assert!(!s.merge(s.full_state()[0].clone()));
    assert_eq!(s.gc(at(0)), 0);
    assert_eq!(s.version(), 4);
    assert_eq!(rec.get(), (0, 0), "writes, merges, GC, full state and the version are not queries");

    let labels = ls(&[("c", "d")]);
    let cases: [(&str, &dyn Fn() -> bool, u64); 7] = [
        ("get known", &|| s.get(&other).is_some(), 1),
        ("get unknown is not an error", &|| s.get("nope").is_none(), 1),
        ("API list", &|| s.query(&[], clock.now()).len() == 2, 1),
        ("silencer full query", &|| s.matching(&labels, clock.now()).active == [other.clone()], 1),
        ("mutes is one matching", &|| !s.mutes(&labels, clock.now()).is_empty(), 1),
        (
            "silencer by ids",
            &|| s.mutes_among(&[other.clone(), id.clone()], &labels, clock.now()).len() == 1,
            1,
        ),
        ("state gauges", &|| s.counts(clock.now()).pending == 0, 3),
    ];
    for (name, run, want) in cases {
        let (before, _) = rec.get();
        assert!(run(), "{name}");
        assert_eq!(rec.get(), (before + want, 0), "{name}");
    }
}

#[test]
fn without_an_observer_queries_work_as_before() {
    let (clock, s) = setup(opts());
    let id = s.set(post(eq("a", "b"), 0, 100)).unwrap();
    assert_eq!(s.mutes(&ls(&[("a", "b")]), clock.now()), vec![id]);
}
