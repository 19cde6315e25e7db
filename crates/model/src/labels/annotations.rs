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
/// splits save little on them, and the shortest quotable value bounds how far the scan can jump.
const MIN_QUOTE: usize = 8;
/// Longer label values are never quoted: real annotations quote short identifiers, and this bounds one check.
const MAX_QUOTE: usize = 255;
/// Only the first labels can be quoted, so resolving a reference walks at most this many pairs.
const MAX_QUOTED_LABEL: usize = 32;
/// Quotes per alert: bounds the encoder's scratch space (on the stack) and each value's segment count (which
/// must fit one two-byte code); occurrences beyond it stay text.
const MAX_QUOTES: usize = 32;

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
    /// Packs `set`, replacing occurrences of `labels`' values (at least `MIN_QUOTE` bytes long, among its first
    /// `MAX_QUOTED_LABEL` pairs; up to `MAX_QUOTES` of them) with references, in each value where that makes
    /// it shorter. Reads with other labels than `labels` give wrong values: the alert keeps both together.
    ///
    /// Ingest packs every posted alert, so this is one scan of the text (the quotes found are kept on the stack)
    /// and one allocation of exactly the packed size.
    pub fn quoting(set: LabelSet, labels: &LabelSet) -> Self {
        let q = Quotable::of(labels);
        if q.n == 0 {
            return Self::from(set);
        }
        let Some(plan) = Plan::of(&set.buf, &q) else { return Self::from(set) };
        if plan.n == 0 || plan.size >= set.buf.len() {
            return Self::from(set);
        }
        match plan.write(&set.buf) {
            Some(buf) => Self { buf },
            None => Self::from(set),
        }
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

/// The label values an alert's annotations may quote, and a Horspool shift table over the first `m` bytes of
/// each (`m` the shortest value's length): the scan looks at one byte per window and usually jumps `m` bytes, so
/// packing costs a fraction of a byte comparison per byte of annotation text.
struct Quotable<'a> {
    values: [(&'a [u8], u32); MAX_QUOTED_LABEL],
    n: usize,
    m: usize,
    shift: [u8; 256],
}

impl<'a> Quotable<'a> {
    fn of(labels: &'a LabelSet) -> Self {
        let mut q =
            Quotable { values: [(&[][..], 0); MAX_QUOTED_LABEL], n: 0, m: usize::MAX, shift: [0; 256] };
        for (i, (_, v)) in labels.iter().enumerate().take(MAX_QUOTED_LABEL) {
            if (MIN_QUOTE..=MAX_QUOTE).contains(&v.len()) {
                q.values[q.n] = (v.as_bytes(), i as u32);
                q.n += 1;
                q.m = q.m.min(v.len());
            }
        }
        q.m = q.m.min(MAX_QUOTE);
        q.shift = [q.m as u8; 256];
        for (v, _) in &q.values[..q.n] {
            for (j, &b) in v[..q.m].iter().enumerate() {
                let s = &mut q.shift[usize::from(b)];
                *s = (*s).min((q.m - 1 - j) as u8);
            }
        }
        q
    }

    /// The first occurrence at or after `from` of any value (the longest where several start there):
    /// `(at, len, label index)`. Values are whole UTF-8 strings, so a match starts and ends on char boundaries.
    ///
    /// Each check of the values at a candidate start is charged to `budget` (the bytes it may compare): a
    /// crafted near miss (labels `aaa…ab`, an annotation `aaa…a`) would otherwise cost the annotation's length
    /// times the labels' total length. Once the budget is spent the value keeps the quotes found so far.
    fn next(&self, text: &str, from: usize, budget: &mut usize) -> Option<(usize, usize, u32)> {
        let bytes = text.as_bytes();
        let mut at = from;
        // A value starting at `at` has its first `m` bytes in the window `at..at + m`; the window's last byte
        // says how far the next possible start is (0: one of the values' prefixes may end here, check them).
        while let Some(&last) = bytes.get(at + self.m - 1) {
            match self.shift[usize::from(last)] {
                0 => {
                    let rest = &bytes[at..];
                    let mut best: Option<(usize, u32)> = None;
                    for (v, i) in &self.values[..self.n] {
                        if v[0] != rest[0] {
                            continue;
                        }
                        *budget = budget.checked_sub(v.len())?;
                        if rest.starts_with(v) && best.is_none_or(|(len, _)| v.len() > len) {
                            best = Some((v.len(), *i));
                        }
                    }
                    if let Some((len, i)) = best {
                        return Some((at, len, i));
                    }
                    at += 1;
                }
                s => at += usize::from(s),
            }
        }
        None
    }
}

/// One quote found by [`Plan::of`]: in value number `value`, bytes `at..at + len` are label `label`'s value.
#[derive(Clone, Copy, Default)]
struct Quote {
    value: u32,
    at: u32,
    len: u32,
    label: u32,
}

/// The quotes worth making and the packed size they give.
struct Plan {
    quotes: [Quote; MAX_QUOTES],
    n: usize,
    size: usize,
    /// Bytes the scan may still compare (see [`Quotable::next`]): linear in the alert's own text, four times the
    /// annotations plus twice the quotable label values, so a body costs at most a few passes over itself.
    budget: usize,
}

impl Plan {
    /// Scans the values of the plain buffer `buf` once; `None` only on a corrupt buffer (never produced).
    fn of(buf: &str, q: &Quotable<'_>) -> Option<Plan> {
        let labels_len: usize = q.values[..q.n].iter().map(|(v, _)| v.len()).sum();
        let budget = 4 * buf.len() + 2 * labels_len;
        let mut plan = Plan { quotes: [Quote::default(); MAX_QUOTES], n: 0, size: 0, budget };
        let (count, mut raw) = take_len(buf)?;
        plan.size = buf.len() - raw.len();
        for vi in 0..count {
            let (_, after_name) = take_str(raw)?;
            let (value, after_value) = take_str(after_name)?;
            plan.size += raw.len() - after_value.len();
            plan.value(vi as u32, value, after_name.len() - after_value.len(), q);
            raw = after_value;
        }
        Some(plan)
    }

    /// Records the quotes of one value if its segments are shorter than its plain encoding (`plain` bytes).
    fn value(&mut self, vi: u32, value: &str, plain: usize, q: &Quotable<'_>) {
        let first = self.n;
        // The segment count header, and the trailing text's length header if there is one.
        let (mut packed, mut pos) = (2, 0);
        while self.n < MAX_QUOTES {
            let Some((at, len, label)) = q.next(value, pos, &mut self.budget) else { break };
            if at > pos {
                packed += len_of_len(at - pos) + (at - pos);
            }
            packed += 2;
            self.quotes[self.n] = Quote { value: vi, at: at as u32, len: len as u32, label };
            self.n += 1;
            pos = at + len;
        }
        if self.n == first {
            return;
        }
        if pos < value.len() {
            packed += len_of_len(value.len() - pos) + (value.len() - pos);
        }
        if packed < plain {
            self.size = self.size + packed - plain;
        } else {
            self.n = first;
        }
    }

    /// Writes the packed buffer: names and unquoted values copied as encoded, quoted values as segments.
    fn write(&self, buf: &str) -> Option<Box<str>> {
        let mut out = String::with_capacity(self.size);
        let (count, mut raw) = take_len(buf)?;
        out.push_str(&buf[..buf.len() - raw.len()]);
        let mut quotes = self.quotes[..self.n].iter().peekable();
        for vi in 0..count as u32 {
            let (_, after_name) = take_str(raw)?;
            let (value, after_value) = take_str(after_name)?;
            if quotes.peek().is_none_or(|q| q.value != vi) {
                out.push_str(&raw[..raw.len() - after_value.len()]);
                raw = after_value;
                continue;
            }
            out.push_str(&raw[..raw.len() - after_name.len()]);
            let mine = || self.quotes[..self.n].iter().filter(move |q| q.value == vi);
            let segments = mine().fold((0, 0), |(n, pos), q| {
                let at = q.at as usize;
                (n + 1 + usize::from(at > pos), at + q.len as usize)
            });
            let trailing = usize::from(segments.1 < value.len());
            push_code(&mut out, SYM_BASE + (segments.0 + trailing) as u32);
            let mut pos = 0;
            while let Some(q) = quotes.next_if(|q| q.value == vi) {
                let at = q.at as usize;
                if at > pos {
                    put_len(&mut out, at - pos);
                    out.push_str(value.get(pos..at)?);
                }
                push_code(&mut out, SYM_BASE + q.label);
                pos = at + q.len as usize;
            }
            if pos < value.len() {
                put_len(&mut out, value.len() - pos);
                out.push_str(value.get(pos..)?);
            }
            raw = after_value;
        }
        debug_assert_eq!(out.len(), self.size);
        Some(out.into_boxed_str())
    }
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
                packs: false,
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
    fn earliest_then_longest_quote_wins() {
        let labels = ls(&[("a", "abcdefgh"), ("b", "abcdefghij"), ("c", "ghijklmnop")]);
        let cases = [
            ("xxabcdefghijyy", vec!["xx", "abcdefghij", "yy"]),
            ("abcdefgh", vec!["abcdefgh"]),
            ("abcdefghijklmnop", vec!["abcdefghij", "klmnop"]),
            ("aabcdefghabcdefgh", vec!["a", "abcdefgh", "abcdefgh"]),
            ("ghijklmnopabcdefgh!", vec!["ghijklmnop", "abcdefgh", "!"]),
            ("abcdefg", vec!["abcdefg"]),
        ];
        for (text, want) in cases {
            let packed = Annotations::quoting(ls(&[("x", text)]), &labels);
            let got: Vec<&str> = packed.get("x", &labels).expect(text).pieces().collect();
            assert_eq!(got, want, "{text}");
        }
    }

    /// Random label sets and annotations assembled from pieces of their values, multi-byte characters and
    /// near-misses: every packing reads back exactly (xorshift, fixed seed, 3000 cases).
    #[test]
    fn random_annotations_round_trip() {
        struct Rng(u64);
        impl Rng {
            fn below(&mut self, n: usize) -> usize {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 % n.max(1) as u64) as usize
            }
            fn word(&mut self, len: usize) -> String {
                const ALPHABET: [&str; 10] = ["a", "b", "é", "✓", ":", "-", "node", "0", "\"", "\n"];
                (0..len).map(|_| ALPHABET[self.below(ALPHABET.len())]).collect()
            }
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut packed_cases = 0;
        for case in 0..3000 {
            let n = 1 + rng.below(6);
            let labels: LabelSet = (0..n)
                .map(|i| {
                    let len = rng.below(14);
                    (format!("l{i}"), rng.word(len))
                })
                .collect();
            let values: Vec<String> = labels.iter().map(|(_, v)| v.to_owned()).collect();
            let mut annotations = Vec::new();
            for a in 0..rng.below(4) {
                let mut text = String::new();
                for _ in 0..rng.below(8) {
                    match rng.below(3) {
                        0 => text.push_str(&values[rng.below(values.len())]),
                        // A prefix of a label value: a near miss for the scan.
                        1 => {
                            let v = &values[rng.below(values.len())];
                            let cut = rng.below(v.chars().count() + 1);
                            text.extend(v.chars().take(cut));
                        }
                        _ => {
                            let len = rng.below(5);
                            text.push_str(&rng.word(len));
                        }
                    }
                }
                annotations.push((format!("a{a}"), text));
            }
            let set: LabelSet = annotations.into_iter().collect();
            let packed = Annotations::quoting(set.clone(), &labels);
            assert_eq!(packed.to_set(&labels), set, "case {case}: {labels:?}");
            assert!(packed.packed_len() <= set.buf.len(), "case {case}: packing never grows");
            packed_cases += usize::from(packed.packed_len() < set.buf.len());
        }
        assert!(packed_cases > 500, "quoting exercised in only {packed_cases} cases");
    }

    /// A near miss at every position (32 labels `a…ab` of different lengths, an annotation of 100k `a`s) costs
    /// a bounded number of comparisons: unbounded, such input took seconds per alert in a release build.
    #[test]
    fn near_misses_stay_linear() {
        let labels: LabelSet =
            (0..32).map(|i| (format!("l{i:02}"), format!("{}b", "a".repeat(200 + i)))).collect();
        let first = labels.get("l00").expect("l00").to_owned();
        let set = ls(&[("d", &"a".repeat(100_000)), ("e", &format!("x{first}y"))]);
        let packed = Annotations::quoting(set.clone(), &labels);
        assert_eq!(packed.to_set(&labels), set);
        // Every window of `d` is a candidate start for 31 values of ~200 bytes each (~600 MB of comparisons, and
        // ~25 s for a 64 MiB body): the scan stopped when the budget, a few passes over the alert, ran out.
        let plan = Plan::of(&set.buf, &Quotable::of(&labels)).expect("plan");
        assert!(plan.budget <= MAX_QUOTE, "budget left: {}", plan.budget);
        // Alone, the same quote is found: the budget only stops runaway scans.
        let e = ls(&[("e", &format!("x{first}y"))]);
        let packed = Annotations::quoting(e.clone(), &labels);
        assert_eq!(packed.get("e", &labels).map(|t| t.pieces().count()), Some(3));
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
