//! Ingest preprocessing of `POST /api/v2/alerts` (api/v2 `postAlertsHandler` + `types.Validate`), steps 1-6 of the
//! reference §4.1: fill in timestamps, drop empty labels, validate with upstream's exact error texts.
//!
//! Pure: `now` and `resolve_timeout` are arguments, so every branch is tested at exact instants.

use chrono::{DateTime, Utc};
use std::time::Duration;
use tocsin_model::alert::SharedStr;
use tocsin_model::labels::NameValidation;
use tocsin_model::time::{utc, Timestamp};
use tocsin_model::{Alert, Annotations, LabelSet};

/// One posted alert, as the API decoded it (`models.PostableAlert`). `None` and Go's zero time both mean "not sent".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncomingAlert {
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    /// Interned by the decoder ([`tocsin_model::alert::intern_generator_url`]) so it is shared, not copied.
    pub generator_url: SharedStr,
}

/// Go's `time.Time{}.IsZero()`: clients may send `0001-01-01T00:00:00Z` explicitly; upstream treats it as absent.
fn non_zero(t: Option<Timestamp>) -> Option<Timestamp> {
    t.filter(|t| !is_go_zero(t))
}

fn is_go_zero(t: &Timestamp) -> bool {
    // 0001-01-01T00:00:00Z as Unix seconds.
    const GO_ZERO_UNIX: i64 = -62_135_596_800;
    t.timestamp() == GO_ZERO_UNIX && t.timestamp_subsec_nanos() == 0
}

/// Adds a `std` duration to `now` without panicking: absurd timeouts saturate at chrono's maximum.
fn add_saturating(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Turns a posted alert into a stored [`Alert`] (steps 1-6 of §4.1), or returns the error text the API joins with
/// `; ` into its 400 body: `start time missing`, `start time must be before end time`, `invalid label set: invalid
/// name "x"`, `at least one label pair required`, `invalid annotations: invalid name "x"`.
///
/// The firing/resolved status for `alertmanager_alerts_received_total` is `alert.status_at(now)` on the result.
pub fn prepare(
    incoming: IncomingAlert,
    now: DateTime<Utc>,
    resolve_timeout: Duration,
    names: NameValidation,
) -> Result<Alert, String> {
    let IncomingAlert { mut labels, annotations, starts_at, ends_at, generator_url } = incoming;
    let (starts_at, ends_at) = (non_zero(starts_at), non_zero(ends_at));
    // Step 2: a missing start takes the end, else now.
    let starts_at = starts_at.or(ends_at).unwrap_or_else(|| utc(now));
    // Step 3: a missing end is now + resolve_timeout, flagged as a timeout so merges and the API can tell.
    let (ends_at, timeout) = match ends_at {
        Some(e) => (e, false),
        None => (utc(add_saturating(now, resolve_timeout)), true),
    };
    // Step 5.
    labels.remove_empty_values();
    // Step 6, in `Validate`'s order. "start time missing" cannot trigger after step 2; kept for parity.
    if ends_at < starts_at {
        return Err("start time must be before end time".to_owned());
    }
    labels.validate(names).map_err(|e| format!("invalid label set: {e}"))?;
    if labels.is_empty() {
        return Err("at least one label pair required".to_owned());
    }
    annotations.validate(names).map_err(|e| format!("invalid annotations: {e}"))?;
    // Every stored alert's annotations quote its labels where they repeat them (most of their text, usually).
    let annotations = Annotations::quoting(annotations, &labels);
    Ok(Alert { labels, annotations, starts_at, ends_at, generator_url, updated_at: now, timeout })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_model::time::parse_rfc3339;

    fn t(s: &str) -> Timestamp {
        parse_rfc3339(s).unwrap()
    }
    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs.iter().copied().collect()
    }
    const NOW: &str = "2026-01-01T12:00:00Z";
    const TIMEOUT: Duration = Duration::from_secs(300);

    struct Case {
        name: &'static str,
        input: IncomingAlert,
        names: NameValidation,
        want: Result<(Timestamp, Timestamp, bool), &'static str>,
    }

    #[test]
    fn prepare_table() {
        let base = || IncomingAlert { labels: ls(&[("alertname", "A")]), ..Default::default() };
        let cases = [
            Case {
                name: "nothing set: start now, end now+timeout",
                input: base(),
                names: NameValidation::Utf8,
                want: Ok((t(NOW), t("2026-01-01T12:05:00Z"), true)),
            },
            Case {
                name: "only end: start takes end",
                input: IncomingAlert { ends_at: Some(t("2026-01-01T11:00:00+02:00")), ..base() },
                names: NameValidation::Utf8,
                want: Ok((t("2026-01-01T11:00:00+02:00"), t("2026-01-01T11:00:00+02:00"), false)),
            },
            Case {
                name: "go zero time means missing",
                input: IncomingAlert {
                    starts_at: Some(t("0001-01-01T00:00:00Z")),
                    ends_at: Some(t("0001-01-01T00:00:00Z")),
                    ..base()
                },
                names: NameValidation::Utf8,
                want: Ok((t(NOW), t("2026-01-01T12:05:00Z"), true)),
            },
            Case {
                name: "end before start",
                input: IncomingAlert {
                    starts_at: Some(t("2026-01-01T10:00:00Z")),
                    ends_at: Some(t("2026-01-01T09:59:59Z")),
                    ..base()
                },
                names: NameValidation::Utf8,
                want: Err("start time must be before end time"),
            },
            Case {
                name: "end equal start is fine",
                input: IncomingAlert {
                    starts_at: Some(t("2026-01-01T10:00:00Z")),
                    ends_at: Some(t("2026-01-01T10:00:00Z")),
                    ..base()
                },
                names: NameValidation::Utf8,
                want: Ok((t("2026-01-01T10:00:00Z"), t("2026-01-01T10:00:00Z"), false)),
            },
            Case {
                name: "future start beyond derived end",
                input: IncomingAlert { starts_at: Some(t("2026-01-01T13:00:00Z")), ..base() },
                names: NameValidation::Utf8,
                want: Err("start time must be before end time"),
            },
            Case {
                name: "only empty labels",
                input: IncomingAlert { labels: ls(&[("alertname", "")]), ..Default::default() },
                names: NameValidation::Utf8,
                want: Err("at least one label pair required"),
            },
            Case {
                name: "no labels",
                input: IncomingAlert::default(),
                names: NameValidation::Utf8,
                want: Err("at least one label pair required"),
            },
            Case {
                name: "classic name rejected",
                input: IncomingAlert { labels: ls(&[("bad-name", "x")]), ..Default::default() },
                names: NameValidation::Classic,
                want: Err("invalid label set: invalid name \"bad-name\""),
            },
            Case {
                name: "utf8 name accepted",
                input: IncomingAlert { labels: ls(&[("bad-name", "x")]), ..Default::default() },
                names: NameValidation::Utf8,
                want: Ok((t(NOW), t("2026-01-01T12:05:00Z"), true)),
            },
            Case {
                name: "invalid name with empty value is dropped first",
                input: IncomingAlert { labels: ls(&[("bad-name", ""), ("a", "b")]), ..Default::default() },
                names: NameValidation::Classic,
                want: Ok((t(NOW), t("2026-01-01T12:05:00Z"), true)),
            },
            Case {
                name: "invalid annotation",
                input: IncomingAlert { annotations: ls(&[("1x", "y")]), ..base() },
                names: NameValidation::Classic,
                want: Err("invalid annotations: invalid name \"1x\""),
            },
            Case {
                name: "empty annotation name even in utf8 mode",
                input: IncomingAlert { annotations: ls(&[("", "y")]), ..base() },
                names: NameValidation::Utf8,
                want: Err("invalid annotations: invalid name \"\""),
            },
        ];
        let now = t(NOW).with_timezone(&Utc);
        for c in cases {
            let got = prepare(c.input, now, TIMEOUT, c.names);
            match (got, c.want) {
                (Ok(a), Ok((s, e, timeout))) => {
                    assert_eq!((a.starts_at, a.ends_at, a.timeout), (s, e, timeout), "{}", c.name);
                    assert_eq!(a.starts_at.offset(), s.offset(), "{}: client offset kept", c.name);
                    assert_eq!(a.updated_at, t(NOW), "{}", c.name);
                    assert!(a.labels.iter().all(|(_, v)| !v.is_empty()), "{}", c.name);
                }
                (Err(e), Err(want)) => assert_eq!(e, want, "{}", c.name),
                (got, want) => panic!("{}: got {got:?}, want {want:?}", c.name),
            }
        }
    }

    #[test]
    fn absurd_timeout_saturates() {
        let now = t(NOW).with_timezone(&Utc);
        let a = prepare(
            IncomingAlert { labels: ls(&[("a", "b")]), ..Default::default() },
            now,
            Duration::MAX,
            NameValidation::Utf8,
        )
        .unwrap();
        assert!(a.ends_at > a.starts_at);
    }
}
