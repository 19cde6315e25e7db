//! An alert's annotations, packed so that they can quote the alert's own label values.
//!
//! Prometheus renders annotations from rule templates such as `{{ $labels.instance }} is down`, so annotation
//! values mostly repeat label values: in realistic alerts about half of the annotation text is a copy of the
//! `instance` and `alertname` labels. The store keeps every active alert, so at 100k alerts those copies were about
//! a fifth of tocsin's memory. [`Annotations`] are packed like a [`LabelSet`], except that a value may be a list
//! of segments, each literal text or a two-byte reference to one of the alert's label values. Reading a value
//! therefore needs the alert's labels: every accessor takes them (or use `Alert::annotations`).
//!
//! Value encoding, after the (interned or inline) name:
//! - a length header and that many bytes: a plain value, exactly as in a [`LabelSet`];
//! - a code `SYM_BASE + n` (`1 <= n < LONG_BASE - SYM_BASE`): `n` segments follow, each either a length header and
//!   that many bytes, or a code `SYM_BASE + i`, the value of the labels' `i`-th pair.
//!
//! A value never starts with a symbol code in a [`LabelSet`], so every label set is also a valid plain
//! `Annotations` buffer and [`Annotations::from`] a set is free.

use super::{
    len_of_len, push_code, put_len, take_len, take_long_len, take_str, LabelSet, LONG_BASE, SYM_BASE,
};
use std::borrow::Cow;
use std::fmt;

/// Label values shorter than this are never quoted: a reference (two bytes) plus the header of the literal it
/// splits saves nothing on them.
const MIN_QUOTE: usize = 4;
/// Only the first labels can be quoted, so resolving a reference walks at most this many pairs.
const MAX_QUOTED_LABEL: usize = 32;
/// Segments per value (the count must fit one two-byte code).
const MAX_SEGMENTS: usize = (LONG_BASE - SYM_BASE - 1) as usize;

/// Annotations packed against their alert's labels; see the module documentation.
#[derive(Clone, Default)]
pub struct Annotations {
    buf: Box<str>,
}

/// Without the labels the values cannot be shown; `Alert`'s `Debug` shows them resolved.
impl fmt::Debug for Annotations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Annotations({} pairs, {} bytes packed)", self.len(), self.buf.len())
    }
}

impl From<LabelSet> for Annotations {
    /// The plain encoding, quoting nothing (a label set's buffer already is one).
    fn from(set: LabelSet) -> Self {
        Self { buf: set.buf }
    }
}

/// Plain annotations from pairs in any order (tests and hand-built alerts; ingest uses [`Annotations::quoting`]).
impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Annotations {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<LabelSet>())
    }
}

impl Annotations {
    /// Packs `set`, replacing every occurrence of one of `labels`' values (at least [`MIN_QUOTE`] bytes long,
    /// among its first [`MAX_QUOTED_LABEL`] pairs) with a reference, when that makes the buffer smaller. Reads
    /// with other labels than `labels` give wrong values: the alert keeps both together.
    pub fn quoting(set: LabelSet, labels: &LabelSet) -> Self {
        let mut quotable: [(&str, u32); MAX_QUOTED_LABEL] = [("", 0); MAX_QUOTED_LABEL];
        let mut n = 0;
        for (i, (_, v)) in labels.iter().enumerate().take(MAX_QUOTED_LABEL) {
            if v.len() >= MIN_QUOTE {
                quotable[n] = (v, i as u32);
                n += 1;
            }
        }
        let quotable = &quotable[..n];
        if quotable.is_empty() || !set.iter().any(|(_, v)| quotable.iter().any(|(q, _)| v.contains(q))) {
            return Self::from(set);
        }
        let Some((count, mut raw)) = take_len(&set.buf) else { return Self::from(set) };
        let mut out = String::with_capacity(set.buf.len());
        put_len(&mut out, count);
        for _ in 0..count {
            // Names are copied as encoded (interned id or inline text); values are re-encoded.
            let Some((_, after_name)) = take_str(raw) else { return Self::from(set) };
            out.push_str(&raw[..raw.len() - after_name.len()]);
            let Some((value, after_value)) = take_str(after_name) else { return Self::from(set) };
            encode_value(&mut out, value, quotable);
            raw = after_value;
        }
        if out.len() >= set.buf.len() {
            return Self::from(set);
        }
        Self { buf: out.into_boxed_str() }
    }

    pub fn len(&self) -> usize {
        take_len(&self.buf).map_or(0, |(n, _)| n)
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The pairs in name order, values resolved against `labels` (the alert's labels these were packed with).
    pub fn iter<'a>(&'a self, labels: &'a LabelSet) -> Iter<'a> {
        match take_len(&self.buf) {
            Some((remaining, rest)) => Iter { rest, remaining, labels },
            None => Iter { rest: "", remaining: 0, labels },
        }
    }

    pub fn get<'a>(&'a self, name: &str, labels: &'a LabelSet) -> Option<Text<'a>> {
        self.iter(labels).find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The annotations as a plain label set (allocates; templates and tests use it).
    pub fn to_set(&self, labels: &LabelSet) -> LabelSet {
        LabelSet::from_pairs(self.iter(labels).map(|(k, v)| (k, v.to_cow())))
    }

    /// Bytes of the packed buffer, for tests that check the packing pays.
    pub fn packed_len(&self) -> usize {
        self.buf.len()
    }
}

/// Appends `value`, as segments if it quotes any of `quotable` and that is shorter, else plain.
fn encode_value(out: &mut String, value: &str, quotable: &[(&str, u32)]) {
    let mut segments: Vec<Segment> = Vec::new();
    let mut pos = 0;
    while pos < value.len() && segments.len() + 3 <= MAX_SEGMENTS {
        // The earliest occurrence of any quotable value; the longest one on a tie.
        let next = quotable
            .iter()
            .filter_map(|&(q, i)| value[pos..].find(q).map(|at| (pos + at, q.len(), i)))
            .min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let Some((at, len, label)) = next else { break };
        if at > pos {
            segments.push(Segment::Text(&value[pos..at]));
        }
        segments.push(Segment::Label(label));
        pos = at + len;
    }
    if segments.is_empty() {
        put_len(out, value.len());
        out.push_str(value);
        return;
    }
    if pos < value.len() {
        segments.push(Segment::Text(&value[pos..]));
    }
    let packed: usize = 2 + segments
        .iter()
        .map(|s| match s {
            Segment::Text(t) => len_of_len(t.len()) + t.len(),
            Segment::Label(_) => 2,
        })
        .sum::<usize>();
    if packed >= len_of_len(value.len()) + value.len() {
        put_len(out, value.len());
        out.push_str(value);
        return;
    }
    push_code(out, SYM_BASE + segments.len() as u32);
    for s in segments {
        match s {
            Segment::Text(t) => {
                put_len(out, t.len());
                out.push_str(t);
            }
            Segment::Label(i) => push_code(out, SYM_BASE + i),
        }
    }
}

enum Segment<'a> {
    Text(&'a str),
    Label(u32),
}

/// The code of a two-byte header in `SYM_BASE..LONG_BASE` at the start of `s`, if there is one.
fn sym_code(s: &str) -> Option<(u32, &str)> {
    let mut chars = s.chars();
    let c = chars.next()? as u32;
    (SYM_BASE..LONG_BASE).contains(&c).then(|| (c - SYM_BASE, chars.as_str()))
}

/// Reads one value: `(value, rest)`.
fn take_value(s: &str) -> Option<(Repr<'_>, &str)> {
    if let Some((n, mut rest)) = sym_code(s) {
        let start = rest;
        for _ in 0..n {
            rest = match sym_code(rest) {
                Some((_, r)) => r,
                None => {
                    let (len, r) = take_len(rest)?;
                    r.get(len..)?
                }
            };
        }
        let segments = start.get(..start.len() - rest.len())?;
        return Some((Repr::Segments { segments, n: n as usize }, rest));
    }
    let (len, rest) = match s.as_bytes().first() {
        Some(&b) if b < 0x80 => (usize::from(b), s.get(1..)?),
        _ => take_long_len(s)?,
    };
    let (v, rest) = rest.split_at_checked(len)?;
    Some((Repr::Plain(v), rest))
}

#[derive(Debug, Clone, Copy)]
enum Repr<'a> {
    Plain(&'a str),
    Segments { segments: &'a str, n: usize },
}

/// Iterator over annotations with their values resolved.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    rest: &'a str,
    remaining: usize,
    labels: &'a LabelSet,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, Text<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let (k, rest) = take_str(self.rest)?;
        let (repr, rest) = take_value(rest)?;
        self.rest = rest;
        self.remaining -= 1;
        Some((k, Text { repr, labels: self.labels }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

/// One annotation value: borrowed text, or pieces of text and label values to be joined.
#[derive(Clone, Copy)]
pub struct Text<'a> {
    repr: Repr<'a>,
    labels: &'a LabelSet,
}

impl<'a> Text<'a> {
    /// The value when it is stored as one piece (no allocation needed).
    pub fn as_plain(&self) -> Option<&'a str> {
        match self.repr {
            Repr::Plain(s) => Some(s),
            Repr::Segments { .. } => None,
        }
    }

    /// The pieces whose concatenation is the value, for writers that escape as they go.
    pub fn pieces(&self) -> Pieces<'a> {
        match self.repr {
            Repr::Plain(s) => Pieces { rest: s, remaining: 1, plain: true, labels: self.labels },
            Repr::Segments { segments, n } => {
                Pieces { rest: segments, remaining: n, plain: false, labels: self.labels }
            }
        }
    }

    pub fn to_cow(&self) -> Cow<'a, str> {
        match self.repr {
            Repr::Plain(s) => Cow::Borrowed(s),
            Repr::Segments { .. } => Cow::Owned(self.pieces().collect()),
        }
    }

    pub fn len(&self) -> usize {
        self.pieces().map(str::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces().all(str::is_empty)
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces().try_for_each(|p| f.write_str(p))
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.to_cow(), f)
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.pieces().flat_map(str::bytes).eq(other.pieces().flat_map(str::bytes))
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        self.pieces().flat_map(str::bytes).eq(other.bytes())
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl serde::Serialize for Text<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_cow())
    }
}

/// The pieces of a [`Text`].
#[derive(Debug)]
pub struct Pieces<'a> {
    rest: &'a str,
    remaining: usize,
    plain: bool,
    labels: &'a LabelSet,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        if self.plain {
            return Some(std::mem::take(&mut self.rest));
        }
        if let Some((i, rest)) = sym_code(self.rest) {
            self.rest = rest;
            // A reference to a label the set does not have only comes from reading with the wrong labels.
            return Some(self.labels.iter().nth(i as usize).map_or("", |(_, v)| v));
        }
        let (len, rest) = take_len(self.rest)?;
        let (piece, rest) = rest.split_at_checked(len)?;
        self.rest = rest;
        Some(piece)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        LabelSet::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn round_trips_and_packs() {
        let labels = ls(&[
            ("alertname", "HighCPULoad"),
            ("instance", "node-000123.dc0.example.net:9100"),
            ("job", "node"),
            ("le", "0.5"),
            ("severity", "critical"),
        ]);
        struct Case {
            name: &'static str,
            annotations: Vec<(&'static str, String)>,
            packs: bool,
        }
        let long = "x".repeat(5000);
        let cases = [
            Case { name: "empty", annotations: vec![], packs: false },
            Case {
                name: "too short to quote",
                annotations: vec![("q", "0.5 0.5 0.5 0.5".into())],
                packs: false,
            },
            Case { name: "no quote", annotations: vec![("summary", "disk full".into())], packs: false },
            Case {
                name: "summary and description",
                annotations: vec![
                    ("summary", "HighCPULoad on node-000123.dc0.example.net:9100".into()),
                    (
                        "description",
                        "HighCPULoad has been firing on node-000123.dc0.example.net:9100 for 5m (value 1.2)."
                            .into(),
                    ),
                ],
                packs: true,
            },
            Case {
                name: "whole value",
                annotations: vec![("x", "node-000123.dc0.example.net:9100".into())],
                packs: true,
            },
            Case {
                name: "parts of label values",
                annotations: vec![("p", "node-000123 critica".into())],
                packs: false,
            },
            Case {
                name: "short label values",
                annotations: vec![("j", "node node node".into())],
                packs: true,
            },
            Case {
                name: "repeated and adjacent",
                annotations: vec![("r", "criticalcriticalHighCPULoad critical".into())],
                packs: true,
            },
            Case {
                name: "long literal around a quote",
                annotations: vec![("l", format!("{long}HighCPULoad{long}"))],
                packs: true,
            },
            Case {
                name: "unicode around", annotations: vec![("u", "é HighCPULoad ✓".into())], packs: true
            },
            Case {
                name: "empty value",
                annotations: vec![("e", String::new()), ("f", "critical".into())],
                packs: true,
            },
        ];
        for c in cases {
            let set = LabelSet::from_pairs(c.annotations.iter().map(|(k, v)| (*k, v.as_str())));
            let packed = Annotations::quoting(set.clone(), &labels);
            assert_eq!(packed.to_set(&labels), set, "{}", c.name);
            assert_eq!(packed.len(), set.len(), "{}", c.name);
            for (k, v) in set.iter() {
                let got = packed.get(k, &labels).expect(c.name);
                assert_eq!(got, v, "{}: {k}", c.name);
                assert_eq!(got.len(), v.len(), "{}: {k}", c.name);
                assert_eq!(got.to_string(), v, "{}: {k}", c.name);
            }
            assert_eq!(packed.packed_len() < set.buf.len(), c.packs, "{}: packs", c.name);
        }
    }

    #[test]
    fn plain_sets_read_without_labels() {
        let set = ls(&[("a", "1"), ("summary", "s")]);
        let plain = Annotations::from(set.clone());
        let none = LabelSet::new();
        assert_eq!(plain.to_set(&none), set);
        assert!(plain.iter(&none).all(|(_, v)| v.as_plain().is_some()));
    }

    #[test]
    fn many_labels_only_first_are_quoted() {
        let labels: LabelSet = (0..100).map(|i| (format!("l{i:03}"), format!("value-{i:03}"))).collect();
        let text: String = (0..100).map(|i| format!("value-{i:03} ")).collect();
        let set = ls(&[("d", &text)]);
        let packed = Annotations::quoting(set.clone(), &labels);
        assert_eq!(packed.to_set(&labels), set);
        assert!(packed.packed_len() < set.buf.len());
    }
}
