//! A hand-written JSON writer for `gettableAlert`, the body of `GET /api/v2/alerts`.
//!
//! A GET of 100k alerts is ~70 MB of JSON. Going through serde with [`crate::models::GettableAlert`] costs an
//! allocation per fingerprint, receiver list and timestamp; this writer appends straight into one buffer sized
//! up front, formats timestamps by hand (reusing the previous one: alerts of one batch share `startsAt` and
//! `updatedAt`), and escapes strings with serde_json's own escaper, so the bytes are exactly what serializing
//! `GettableAlert` produces (a test compares both).

use serde::Serializer as _;
use tocsin_model::labels::Text;
use tocsin_model::time::{format_millis, Timestamp};
use tocsin_model::{Alert, Fingerprint, LabelSet};

use chrono::{Datelike, Timelike};

/// Appends JSON to one buffer.
#[derive(Debug)]
pub struct JsonWriter {
    pub buf: Vec<u8>,
    /// The last timestamp written (instant and offset) and its rendering.
    last_ts: Option<(Timestamp, [u8; 32], usize)>,
}

/// What one alert of the list renders from.
#[derive(Debug)]
pub struct AlertView<'a> {
    pub fp: Fingerprint,
    pub alert: &'a Alert,
    pub receivers: &'a [String],
    pub inhibited_by: &'a [String],
    pub muted_by: &'a [String],
    pub silenced_by: &'a [String],
    pub state: &'static str,
}

impl JsonWriter {
    pub fn with_capacity(n: usize) -> Self {
        JsonWriter { buf: Vec::with_capacity(n), last_ts: None }
    }

    #[inline]
    fn raw(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// A JSON string, escaped exactly as serde_json does.
    #[inline]
    pub fn string(&mut self, s: &str) {
        if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            self.buf.reserve(s.len() + 2);
            self.buf.push(b'"');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.push(b'"');
        } else {
            // Writing into a Vec cannot fail.
            let _ = serde_json::Serializer::new(&mut self.buf).serialize_str(s);
        }
    }

    /// An annotation value as one JSON string, escaping piece by piece (pieces are whole `str`s, so escaping
    /// them separately gives the same bytes).
    fn text(&mut self, t: &Text<'_>) {
        if let Some(s) = t.as_plain() {
            return self.string(s);
        }
        self.buf.push(b'"');
        for piece in t.pieces() {
            if piece.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
                self.buf.extend_from_slice(piece.as_bytes());
            } else {
                let at = self.buf.len();
                let _ = serde_json::Serializer::new(&mut self.buf).serialize_str(piece);
                // Drop the quotes serde_json put around the piece.
                self.buf.pop();
                self.buf.remove(at);
            }
        }
        self.buf.push(b'"');
    }

    fn annotations(&mut self, a: &Alert) {
        self.buf.push(b'{');
        for (i, (k, v)) in a.annotations().iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.string(k);
            self.buf.push(b':');
            self.text(&v);
        }
        self.buf.push(b'}');
    }

    fn strings(&mut self, items: &[String]) {
        self.buf.push(b'[');
        for (i, s) in items.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.string(s);
        }
        self.buf.push(b']');
    }

    fn label_set(&mut self, ls: &LabelSet) {
        self.buf.push(b'{');
        for (i, (k, v)) in ls.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.string(k);
            self.buf.push(b':');
            self.string(v);
        }
        self.buf.push(b'}');
    }

    fn fingerprint(&mut self, fp: Fingerprint) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'"'; 18];
        for (i, slot) in out[1..17].iter_mut().enumerate() {
            *slot = HEX[((fp.0 >> (60 - 4 * i)) & 0xf) as usize];
        }
        self.buf.extend_from_slice(&out);
    }

    /// `2006-01-02T15:04:05.000Z07:00` as [`format_millis`] renders it, quoted.
    pub fn timestamp(&mut self, t: &Timestamp) {
        if let Some((last, bytes, n)) = &self.last_ts {
            if last == t && last.offset() == t.offset() {
                self.buf.extend_from_slice(&bytes[..*n]);
                return;
            }
        }
        let mut bytes = [0u8; 32];
        let n = match millis_fast(t, &mut bytes) {
            Some(n) => n,
            None => {
                let s = format!("\"{}\"", format_millis(t));
                self.buf.extend_from_slice(s.as_bytes());
                return;
            }
        };
        self.buf.extend_from_slice(&bytes[..n]);
        self.last_ts = Some((*t, bytes, n));
    }

    /// One `gettableAlert`, fields in go-swagger's order (see [`crate::models::GettableAlert`]).
    pub fn alert(&mut self, v: &AlertView<'_>) {
        let a = v.alert;
        self.raw("{\"annotations\":");
        self.annotations(a);
        self.raw(",\"endsAt\":");
        self.timestamp(&a.ends_at);
        self.raw(",\"fingerprint\":");
        self.fingerprint(v.fp);
        self.raw(",\"receivers\":[");
        for (i, r) in v.receivers.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.raw("{\"name\":");
            self.string(r);
            self.buf.push(b'}');
        }
        self.raw("],\"startsAt\":");
        self.timestamp(&a.starts_at);
        self.raw(",\"status\":{\"inhibitedBy\":");
        self.strings(v.inhibited_by);
        self.raw(",\"mutedBy\":");
        self.strings(v.muted_by);
        self.raw(",\"silencedBy\":");
        self.strings(v.silenced_by);
        self.raw(",\"state\":\"");
        self.raw(v.state);
        self.raw("\"},\"updatedAt\":");
        self.timestamp(&a.updated_at.fixed_offset());
        if !a.generator_url.is_empty() {
            self.raw(",\"generatorURL\":");
            self.string(&a.generator_url);
        }
        self.raw(",\"labels\":");
        self.label_set(&a.labels);
        self.buf.push(b'}');
    }
}

/// Renders the common case (years 0-9999, whole-minute offsets) into `out` with quotes; `None` for the rest,
/// which chrono formats.
fn millis_fast(t: &Timestamp, out: &mut [u8; 32]) -> Option<usize> {
    let off = t.offset().local_minus_utc();
    let l = t.naive_local();
    let year = l.year();
    if !(0..=9999).contains(&year) || off % 60 != 0 || l.nanosecond() >= 1_000_000_000 {
        return None;
    }
    let mut w = Cursor { out, n: 0 };
    w.push(b'"');
    w.num(year as u32, 4);
    w.push(b'-');
    w.num(l.month(), 2);
    w.push(b'-');
    w.num(l.day(), 2);
    w.push(b'T');
    w.num(l.hour(), 2);
    w.push(b':');
    w.num(l.minute(), 2);
    w.push(b':');
    w.num(l.second(), 2);
    w.push(b'.');
    w.num(l.nanosecond() / 1_000_000, 3);
    if off == 0 {
        w.push(b'Z');
    } else {
        w.push(if off < 0 { b'-' } else { b'+' });
        let m = off.unsigned_abs() / 60;
        w.num(m / 60, 2);
        w.push(b':');
        w.num(m % 60, 2);
    }
    w.push(b'"');
    Some(w.n)
}

struct Cursor<'a> {
    out: &'a mut [u8; 32],
    n: usize,
}

impl Cursor<'_> {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.out.get_mut(self.n) {
            *slot = b;
            self.n += 1;
        }
    }
    fn num(&mut self, mut v: u32, width: usize) {
        let mut digits = [b'0'; 4];
        for d in digits[..width].iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        for &d in &digits[..width] {
            self.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{AlertStatus, GettableAlert, Millis, Receiver};
    use tocsin_model::time::parse_rfc3339;
    use tocsin_model::Annotations;

    fn ts(s: &str) -> Timestamp {
        parse_rfc3339(s).unwrap()
    }

    /// The writer's bytes equal serde's rendering of the `GettableAlert` model.
    #[test]
    fn matches_serde_rendering() {
        let times = [
            "2026-01-01T10:00:00Z",
            "2026-01-01T10:00:00.123456789+02:00",
            "2026-11-26T23:59:59.999-05:30",
            "0001-01-01T00:00:00Z",
            "1970-01-01T00:00:00.5Z",
            "9999-12-31T23:59:59.001+14:00",
        ];
        let labels: LabelSet =
            [("alertname", "A"), ("q", "a\"b\\c\nd\u{1}\u{7f}é"), ("x", "\t")].into_iter().collect();
        // The second annotation quotes label `q` (escapes inside a quoted piece) when the alert has it.
        let annotations: LabelSet =
            [("summary", "<b>&amp;</b> \u{2028}"), ("why", "before a\"b\\c\nd\u{1}\u{7f}é after\u{1}")]
                .into_iter()
                .collect();
        let ids = vec!["s1".to_owned(), "s\"2".to_owned()];
        let receivers = vec!["default".to_owned(), "team \"b\"".to_owned()];
        for (i, t) in times.iter().enumerate() {
            let labels = if i % 2 == 0 { labels.clone() } else { LabelSet::new() };
            let alert = Alert {
                annotations: Annotations::quoting(annotations.clone(), &labels),
                labels,
                starts_at: ts(t),
                ends_at: ts(times[(i + 1) % times.len()]),
                generator_url: if i % 3 == 0 { "".into() } else { "http://x/\"y".into() },
                updated_at: ts(t).to_utc(),
                timeout: false,
            };
            let fp = alert.fingerprint();
            let (inhibited, muted, silenced): (&[String], &[String], &[String]) =
                if i % 2 == 0 { (&ids, &[], &ids[..1]) } else { (&[], &ids, &[]) };
            let recv: &[String] = if i == 1 { &[] } else { &receivers };
            let model = GettableAlert {
                annotations: alert.annotations(),
                ends_at: Millis(alert.ends_at),
                fingerprint: fp.to_string(),
                receivers: recv.iter().map(|n| Receiver { name: n.clone() }).collect(),
                starts_at: Millis(alert.starts_at),
                status: AlertStatus {
                    inhibited_by: inhibited,
                    muted_by: muted,
                    silenced_by: silenced,
                    state: "active",
                },
                updated_at: Millis::from(alert.updated_at),
                generator_url: &alert.generator_url,
                labels: &alert.labels,
            };
            let mut w = JsonWriter::with_capacity(0);
            // Twice, so the timestamp cache is exercised too.
            for _ in 0..2 {
                w.buf.clear();
                w.alert(&AlertView {
                    fp,
                    alert: &alert,
                    receivers: recv,
                    inhibited_by: inhibited,
                    muted_by: muted,
                    silenced_by: silenced,
                    state: "active",
                });
                assert_eq!(
                    String::from_utf8(w.buf.clone()).unwrap(),
                    serde_json::to_string(&model).unwrap(),
                    "{t}"
                );
            }
        }
    }
}
