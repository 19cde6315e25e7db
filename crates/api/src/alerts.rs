//! `GET/POST /api/v2/alerts` and `GET /api/v2/alerts/groups` (api/v2 `getAlertsHandler`, `postAlertsHandler`).

use crate::context::{invalid_labels, received_labels, Api};
use crate::decode;
use crate::error::{empty_response, json_bytes, json_response, ApiError};
use crate::models::{AlertGroup, AlertStatus, GettableAlert, Millis, Receiver};
use crate::query::Query;
use crate::render::{AlertView, JsonWriter};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use regex::Regex;
use std::collections::HashMap;
use std::sync::Arc;
use tocsin_model::matcher::compile_anchored;
use tocsin_model::matcher::parse::parse_matcher;
use tocsin_model::time::utc;
use tocsin_model::{Alert, Fingerprint, MatchType, Matcher};
use tocsin_state::{AlertState, IncomingAlert, Marker};
use warp::http::{Response, StatusCode};

/// The filters shared by `/alerts` and `/alerts/groups`.
struct AlertQuery {
    active: bool,
    silenced: bool,
    inhibited: bool,
    matchers: Vec<Matcher>,
    receiver: Option<Regex>,
}

impl AlertQuery {
    /// Parses the filters in upstream's order: matchers first, then the receiver regex.
    fn parse(api: &Api, q: &Query) -> Result<Self, ApiError> {
        let matchers = parse_filters(api, q)?;
        let receiver = match q.get("receiver") {
            Some(r) => Some(compile_anchored(r).map_err(|e| {
                let reason = e.to_string();
                let reason = reason.split_once(": ").map_or(reason.as_str(), |(_, r)| r);
                ApiError::bad_request(format!("failed to parse receiver param: {reason}: `^(?:{r})$`"))
            })?),
            None => None,
        };
        // `unprocessed` is accepted and ignored, as in every upstream version.
        Ok(AlertQuery {
            active: q.flag("active"),
            silenced: q.flag("silenced"),
            inhibited: q.flag("inhibited"),
            matchers,
            receiver,
        })
    }

    fn keeps_status(&self, m: &Marker) -> bool {
        (self.active || m.state != AlertState::Active)
            && (self.silenced || !m.is_silenced())
            && (self.inhibited || !m.is_inhibited())
    }
}

/// Each `filter` value as one matcher (braces rejected by the single-matcher parser); 400 with the parse error.
pub(crate) fn parse_filters(api: &Api, q: &Query) -> Result<Vec<Matcher>, ApiError> {
    q.all("filter")
        .map(|f| parse_matcher(f, api.options.parse_mode).map_err(|e| ApiError::bad_request(e.to_string())))
        .collect()
}

/// `matchFilterLabels` with its quirk: an empty-valued `=`/`=~` matcher is skipped when the label is absent, an
/// empty-valued `!=`/`!~` one when it is present.
fn matches_filter_labels(matchers: &[Matcher], alert: &Alert) -> bool {
    matchers.iter().all(|m| {
        let v = alert.labels.get(&m.name);
        let skip = m.value.is_empty()
            && match m.ty {
                MatchType::NotEqual | MatchType::NotRegexp => v.is_some(),
                MatchType::Equal | MatchType::Regexp => v.is_none(),
            };
        skip || m.matches(v.unwrap_or(""))
    })
}

/// Recomputes the silence part of an alert's status as upstream's API does before every read (`setAlertStatus`
/// → `Silencer.Mutes`), so `silencedBy` is right without a pipeline; writes the marker back when it changed.
fn refresh_silenced(
    api: &Api,
    version: u64,
    fp: Fingerprint,
    alert: &Alert,
    marker: &mut Marker,
    now: DateTime<Utc>,
) {
    let (active, pending) = if marker.silences_version == version && marker.state != AlertState::Unprocessed {
        // Cache hit: only the silences seen last time can match, but their states may have moved with time.
        if marker.silenced_by.is_empty() && marker.pending_silences.is_empty() {
            return;
        }
        let ids: Vec<String> = marker.silenced_by.iter().chain(&marker.pending_silences).cloned().collect();
        let active = api.silences.mutes_among(&ids, &alert.labels, now);
        let pending = marker.pending_silences.iter().filter(|id| !active.contains(id)).cloned().collect();
        (active, pending)
    } else {
        let m = api.silences.matching(&alert.labels, now);
        (m.active, m.pending)
    };
    if marker.state != AlertState::Unprocessed
        && marker.silences_version == version
        && marker.silenced_by == active
        && marker.pending_silences == pending
    {
        return;
    }
    api.alerts.set_silenced(fp, version, active.clone(), pending.clone());
    marker.set_silenced(version, active, pending);
}

/// One alert ready to render.
struct Entry {
    fp: Fingerprint,
    alert: Arc<Alert>,
    marker: Marker,
    receivers: Vec<String>,
}

/// The alerts a query selects, sorted by fingerprint.
fn select(api: &Api, q: &AlertQuery, now: DateTime<Utc>) -> Vec<Entry> {
    let mut out = Vec::new();
    each_selected(api, q, now, |e| out.push(e));
    out
}

/// An active alert as read from the store: fingerprint, alert, marker.
type Candidate = (Fingerprint, Arc<Alert>, Marker);

/// The active alerts, sorted by fingerprint. Read once: a silence created while a request runs is seen by the
/// next one, as with a snapshot.
fn candidates(api: &Api, now: DateTime<Utc>) -> Vec<Candidate> {
    let now_ts = utc(now);
    let mut candidates = Vec::with_capacity(api.alerts.len());
    api.alerts.for_each(|fp, a, m| {
        if a.ends_at >= now_ts {
            candidates.push(Some((fp, Arc::clone(a), m.clone())));
        }
    });
    // Sorting (fingerprint, index) pairs moves 16 bytes per swap instead of a whole marker.
    let mut order: Vec<(Fingerprint, usize)> =
        candidates.iter().enumerate().filter_map(|(i, c)| c.as_ref().map(|c| (c.0, i))).collect();
    order.sort_unstable();
    order.into_iter().filter_map(|(_, i)| candidates.get_mut(i).and_then(Option::take)).collect()
}

/// Calls `f` with each of `candidates` the query selects, in order. Each alert is routed, filtered and handed on
/// before the next is looked at, so its label set is read while it is still in cache.
fn each_of(
    api: &Api,
    q: &AlertQuery,
    now: DateTime<Utc>,
    version: u64,
    candidates: Vec<Candidate>,
    mut f: impl FnMut(Entry),
) {
    for (fp, alert, mut marker) in candidates {
        let receivers = api.router.receivers(&alert.labels);
        if let Some(re) = &q.receiver {
            if !receivers.iter().any(|r| re.is_match(r)) {
                continue;
            }
        }
        refresh_silenced(api, version, fp, &alert, &mut marker, now);
        if !q.keeps_status(&marker) || !matches_filter_labels(&q.matchers, &alert) {
            continue;
        }
        f(Entry { fp, alert, marker, receivers });
    }
}

/// Calls `f` with each alert the query selects, in fingerprint order.
fn each_selected(api: &Api, q: &AlertQuery, now: DateTime<Utc>, f: impl FnMut(Entry)) {
    let version = api.silences.version();
    each_of(api, q, now, version, candidates(api, now), f);
}

const NONE: &[String] = &[];

fn render<'a>(e: &'a Entry, muted_by: &'a [String]) -> GettableAlert<'a> {
    let a = &e.alert;
    let state = if muted_by.is_empty() { e.marker.state } else { AlertState::Suppressed };
    GettableAlert {
        annotations: a.annotations(),
        ends_at: Millis(a.ends_at),
        fingerprint: e.fp.to_string(),
        receivers: e.receivers.iter().map(|name| Receiver { name: name.clone() }).collect(),
        starts_at: Millis(a.starts_at),
        status: AlertStatus {
            inhibited_by: &e.marker.inhibited_by,
            muted_by,
            silenced_by: &e.marker.silenced_by,
            state: state.as_str(),
        },
        updated_at: Millis::from(a.updated_at),
        generator_url: &a.generator_url,
        labels: &a.labels,
    }
}

/// Below this many alerts one thread renders `GET /api/v2/alerts`; above, the list is cut into one slice per core.
const PARALLEL_FROM: usize = 20_000;

/// Renders the selected alerts among `part` as comma-separated JSON objects after `prefix`. `expected` alerts
/// are planned for: the first part's buffer becomes the response, so it is sized for all of them.
fn render_part(
    api: &Api,
    q: &AlertQuery,
    (now, version): (DateTime<Utc>, u64),
    part: Vec<Candidate>,
    prefix: &[u8],
    expected: usize,
) -> Vec<u8> {
    // Sized from the first alerts' average, so the buffer is neither copied while growing nor far too large.
    const SAMPLE: usize = 64;
    let mut w = JsonWriter::with_capacity(SAMPLE * 1024);
    w.buf.extend_from_slice(prefix);
    let mut i = 0;
    let expected = expected.max(part.len());
    each_of(api, q, now, version, part, |e| {
        if i > 0 {
            w.buf.push(b',');
        }
        if i == SAMPLE {
            let avg = w.buf.len() / SAMPLE + 1;
            w.buf.reserve(expected.saturating_sub(SAMPLE) * avg * 21 / 20);
        }
        i += 1;
        w.alert(&AlertView {
            fp: e.fp,
            alert: &e.alert,
            receivers: &e.receivers,
            inhibited_by: &e.marker.inhibited_by,
            muted_by: NONE,
            silenced_by: &e.marker.silenced_by,
            state: e.marker.state.as_str(),
        });
    });
    w.buf
}

/// `GET /api/v2/alerts`, written by hand ([`crate::render`]). Large lists are rendered on one thread per core
/// (a dashboard polling 100k alerts would otherwise hold one core for the whole render) and the parts joined in
/// fingerprint order.
pub fn get_alerts(api: &Api, q: &Query) -> Result<Response<Bytes>, ApiError> {
    let query = AlertQuery::parse(api, q)?;
    let now = api.clock.now();
    let version = api.silences.version();
    let mut all = candidates(api, now);
    let threads = if all.len() < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    };
    let per = all.len().div_ceil(threads).max(1);
    let mut slices = Vec::with_capacity(threads);
    while all.len() > per {
        let rest = all.split_off(per);
        slices.push(std::mem::replace(&mut all, rest));
    }
    slices.push(all);
    let (query, at, total) = (&query, (now, version), slices.iter().map(Vec::len).sum::<usize>());
    let mut slices = slices.into_iter();
    let first = slices.next().unwrap_or_default();
    let (mut buf, rest): (Vec<u8>, Vec<Option<Vec<u8>>>) = std::thread::scope(|scope| {
        let handles: Vec<_> = slices
            .map(|p| {
                let n = p.len();
                scope.spawn(move || render_part(api, query, at, p, b"", n))
            })
            .collect();
        let first = render_part(api, query, at, first, b"[", total);
        (first, handles.into_iter().map(|h| h.join().ok()).collect())
    });
    // A rendering thread only panics on a bug: answer 500 rather than a list with alerts missing.
    let rest: Vec<Vec<u8>> = rest
        .into_iter()
        .collect::<Option<_>>()
        .ok_or_else(|| ApiError::internal("rendering the alerts failed"))?;
    for p in rest.iter().filter(|p| !p.is_empty()) {
        if buf.len() > 1 {
            buf.push(b',');
        }
        buf.extend_from_slice(p);
    }
    buf.push(b']');
    Ok(json_bytes(StatusCode::OK, buf))
}

/// `GET /api/v2/alerts/groups`: the router's groups, each with its alerts that pass the filters; groups left
/// empty are dropped. Until the dispatcher exists (issue 3) the router reports no groups.
pub fn get_alert_groups(api: &Api, q: &Query) -> Result<Response<Bytes>, ApiError> {
    let query = AlertQuery::parse(api, q)?;
    let groups = api.router.groups();
    if groups.is_empty() {
        return Ok(json_response(StatusCode::OK, &Vec::<AlertGroup<'_>>::new()));
    }
    let entries = select(api, &AlertQuery { receiver: None, ..query }, api.clock.now());
    let by_fp: HashMap<Fingerprint, &Entry> = entries.iter().map(|e| (e.fp, e)).collect();
    let receiver_re = q.get("receiver").and_then(|r| compile_anchored(r).ok());
    let mut out = Vec::new();
    for g in &groups {
        if receiver_re.as_ref().is_some_and(|re| !re.is_match(&g.receiver)) {
            continue;
        }
        let alerts: Vec<GettableAlert<'_>> =
            g.alerts.iter().filter_map(|fp| by_fp.get(fp)).map(|e| render(e, &e.marker.muted_by)).collect();
        if alerts.is_empty() {
            continue;
        }
        out.push(AlertGroup {
            alerts,
            labels: g.labels.clone(),
            receiver: Receiver { name: g.receiver.clone() },
        });
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// `POST /api/v2/alerts`: every valid alert is stored even when others in the batch are invalid; then 400 with
/// all errors joined by `; `, else an empty 200.
pub fn post_alerts(api: &Api, body: &[u8]) -> Result<Response<Bytes>, ApiError> {
    let posted = decode::postable_alerts(body)?;
    let now = api.clock.now();
    let now_ts = utc(now);
    let config = api.config();
    let resolve_timeout = config.global.resolve_timeout.0;
    let names = api.name_validation();
    let (mut firing, mut resolved) = (0u64, 0u64);
    let mut errors = Vec::new();
    let mut valid = Vec::with_capacity(posted.len());
    for p in posted {
        // Counted before validation, as upstream: resolved iff a (non-zero) end was sent and has passed.
        let is_resolved = p.ends_at.is_some_and(|e| e <= now_ts && e.timestamp() != GO_ZERO_UNIX);
        if is_resolved {
            resolved += 1;
        } else {
            firing += 1;
        }
        let incoming = IncomingAlert {
            labels: p.labels,
            annotations: p.annotations,
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            generator_url: p.generator_url,
        };
        match tocsin_state::prepare(incoming, now, resolve_timeout, names) {
            Ok(a) => valid.push(a),
            Err(e) => errors.push(e),
        }
    }
    api.metrics.received.get_or_create(&received_labels("firing")).inc_by(firing);
    api.metrics.received.get_or_create(&received_labels("resolved")).inc_by(resolved);
    if !errors.is_empty() {
        api.metrics.invalid.get_or_create(&invalid_labels()).inc_by(errors.len() as u64);
    }
    for a in valid {
        api.alerts.put_at(a, now);
    }
    if errors.is_empty() {
        Ok(empty_response(StatusCode::OK))
    } else {
        Err(ApiError::bad_request(errors.join("; ")))
    }
}

/// Go's zero time (`0001-01-01T00:00:00Z`) in Unix seconds: "not sent".
const GO_ZERO_UNIX: i64 = -62_135_596_800;

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_model::LabelSet;

    #[test]
    fn filter_quirk_table() {
        struct Case {
            name: &'static str,
            matcher: (MatchType, &'static str, &'static str),
            labels: &'static [(&'static str, &'static str)],
            want: bool,
        }
        let cases = [
            Case {
                name: "eq empty, absent: skipped",
                matcher: (MatchType::Equal, "x", ""),
                labels: &[],
                want: true,
            },
            Case {
                name: "eq empty, present: evaluated",
                matcher: (MatchType::Equal, "x", ""),
                labels: &[("x", "1")],
                want: false,
            },
            Case {
                name: "neq empty, present: skipped",
                matcher: (MatchType::NotEqual, "x", ""),
                labels: &[("x", "1")],
                want: true,
            },
            Case {
                name: "neq empty, absent: evaluated",
                matcher: (MatchType::NotEqual, "x", ""),
                labels: &[],
                want: false,
            },
            Case {
                name: "regex anchored",
                matcher: (MatchType::Regexp, "a", "b"),
                labels: &[("a", "abc")],
                want: false,
            },
            Case { name: "nre absent", matcher: (MatchType::NotRegexp, "a", "b.*"), labels: &[], want: true },
        ];
        for c in cases {
            let (ty, n, v) = c.matcher;
            let m = Matcher::new(ty, n, v).unwrap();
            let labels: LabelSet = c.labels.iter().copied().collect();
            let alert = Alert {
                labels,
                annotations: Default::default(),
                starts_at: utc(DateTime::<Utc>::UNIX_EPOCH),
                ends_at: utc(DateTime::<Utc>::UNIX_EPOCH),
                generator_url: "".into(),
                updated_at: DateTime::<Utc>::UNIX_EPOCH,
                timeout: false,
            };
            assert_eq!(matches_filter_labels(&[m], &alert), c.want, "{}", c.name);
        }
    }
}
