//! Label sets and label-name validation.
//!
//! A [`LabelSet`] keeps its pairs sorted by name, which is the order every hash, key and rendering in
//! Alertmanager uses, so fingerprints and group keys need no extra sort on the ingest path.

use crate::fingerprint::Fingerprint;

mod annotations;
mod symbols;
pub use annotations::{Annotations, Iter as AnnotationsIter, Pieces, Text};
use std::collections::BTreeMap;
use std::fmt;

/// How label names are validated: Alertmanager 0.27+ accepts any non-empty UTF-8 name unless `classic-mode` is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameValidation {
    /// Any non-empty UTF-8 string (0.27+ default and `utf8-strict-mode`).
    #[default]
    Utf8,
    /// `[a-zA-Z_][a-zA-Z0-9_]*` (0.25/0.26, and `classic-mode`).
    Classic,
}

impl NameValidation {
    pub fn is_valid(self, name: &str) -> bool {
        match self {
            NameValidation::Utf8 => !name.is_empty(),
            NameValidation::Classic => is_classic_label_name(name),
        }
    }
}

/// Prometheus' legacy label name rule `^[a-zA-Z_][a-zA-Z0-9_]*$`.
pub fn is_classic_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Label set errors, worded as Alertmanager's `model.LabelSet.Validate`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("invalid name \"{0}\"")]
    InvalidName(String),
    #[error("invalid value \"{0}\"")]
    InvalidValue(String),
}

/// A set of labels (or annotations) sorted by name, with unique names.
///
/// Stored as one packed string (`count, then name value …`, each preceded by a one-`char` header, see
/// `SYM_BASE`; known names are two-byte ids into a process-wide table, `symbols`) rather than a
/// `BTreeMap<String, String>`: an alert's label set is then a single allocation of about
/// the size of its text instead of a B-tree node (~540 bytes) plus one allocation per name and value. The store
/// holds every active alert, so this is most of tocsin's memory at 100k alerts. Reads walk the packed text (label
/// sets are small, a handful of pairs); writes rebuild it, which only the ingest path and tests do.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSet {
    /// The canonical encoding: sorted by name, unique names, shortest length encoding. Equal sets have equal
    /// buffers, so `PartialEq`/`Hash` can compare bytes.
    buf: Box<str>,
}

/// Field headers, each one `char` (so the buffer stays valid UTF-8 and needs no unsafe code to read):
/// below [`SYM_BASE`] a length (one byte: nearly every name and value); `SYM_BASE..LONG_BASE` an interned name's
/// id (two bytes, see [`symbols`]); `LONG_BASE..LEN_MARK` a length `c - LONG_BASE + SYM_BASE` (three bytes);
/// [`LEN_MARK`] followed by four 11-bit `char`s, a length up to 2^44. All are below the surrogate range.
const SYM_BASE: u32 = 0x80;
const LONG_BASE: u32 = 0x800;
const LEN_MARK: u32 = 0xD7FF;

fn push_code(out: &mut String, c: u32) {
    // Every code written is below 0xD800, so this never falls back.
    out.push(char::from_u32(c).unwrap_or('\0'));
}

/// Appends the header of a length.
fn put_len(out: &mut String, n: usize) {
    let n = n as u64;
    if n < u64::from(SYM_BASE) {
        push_code(out, n as u32);
    } else if n - u64::from(SYM_BASE) < u64::from(LEN_MARK - LONG_BASE) {
        push_code(out, (n - u64::from(SYM_BASE)) as u32 + LONG_BASE);
    } else {
        push_code(out, LEN_MARK);
        for shift in [33, 22, 11, 0] {
            push_code(out, ((n >> shift) & 0x7FF) as u32);
        }
    }
}

/// Bytes [`put_len`] writes for `n`.
fn len_of_len(n: usize) -> usize {
    if n < SYM_BASE as usize {
        1
    } else if n - (SYM_BASE as usize) < (LEN_MARK - LONG_BASE) as usize {
        3
    } else {
        // LEN_MARK, then four 11-bit `char`s of one or two bytes each.
        3 + [33, 22, 11, 0].iter().map(|s| if (n >> s) & 0x7FF < 0x80 { 1 } else { 2 }).sum::<usize>()
    }
}

/// Reads a length header (the pair count); `None` only on a corrupt buffer (never produced).
#[inline(always)]
fn take_len(s: &str) -> Option<(usize, &str)> {
    match s.as_bytes().first() {
        Some(&b) if b < 0x80 => Some((usize::from(b), s.get(1..)?)),
        _ => take_long_len(s),
    }
}

#[cold]
#[inline(never)]
fn take_long_len(s: &str) -> Option<(usize, &str)> {
    let mut chars = s.chars();
    let c = chars.next()? as u32;
    let n = match c {
        c if c < SYM_BASE => c as usize,
        c if c < LONG_BASE => return None,
        c if c < LEN_MARK => (c - LONG_BASE + SYM_BASE) as usize,
        _ => {
            let mut n = 0usize;
            for _ in 0..4 {
                n = (n << 11) | chars.next()? as usize;
            }
            n
        }
    };
    Some((n, chars.as_str()))
}

/// Reads one name or value: an interned name, or a length and that many bytes.
#[inline(always)]
fn take_str(s: &str) -> Option<(&str, &str)> {
    match s.as_bytes().first() {
        Some(&b) if b < 0x80 => s.get(1..)?.split_at_checked(usize::from(b)),
        _ => take_str_slow(s),
    }
}

#[inline(never)]
fn take_str_slow(s: &str) -> Option<(&str, &str)> {
    let mut chars = s.chars();
    let c = chars.next()? as u32;
    if (SYM_BASE..LONG_BASE).contains(&c) {
        return Some((symbols::name((c - SYM_BASE) as usize)?, chars.as_str()));
    }
    let (n, rest) = take_long_len(s)?;
    rest.split_at_checked(n)
}

/// Encodes pairs already sorted by name with unique names.
fn encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Box<str> {
    if pairs.is_empty() {
        return Box::default();
    }
    let mut stack = [None::<u16>; 32];
    let mut heap = Vec::new();
    let ids: &mut [Option<u16>] = match stack.get_mut(..pairs.len()) {
        Some(s) => s,
        None => {
            heap.resize(pairs.len(), None);
            &mut heap
        }
    };
    for (id, (k, _)) in ids.iter_mut().zip(pairs) {
        *id = symbols::id(k.as_ref());
    }
    let size = len_of_len(pairs.len())
        + pairs
            .iter()
            .zip(ids.iter())
            .map(|((k, v), id)| {
                let (k, v) = (k.as_ref().len(), v.as_ref().len());
                let name = if id.is_some() { 2 } else { len_of_len(k) + k };
                name + len_of_len(v) + v
            })
            .sum::<usize>();
    let mut out = String::with_capacity(size);
    put_len(&mut out, pairs.len());
    for ((k, v), id) in pairs.iter().zip(ids.iter()) {
        match id {
            Some(id) => push_code(&mut out, SYM_BASE + u32::from(*id)),
            None => {
                put_len(&mut out, k.as_ref().len());
                out.push_str(k.as_ref());
            }
        }
        put_len(&mut out, v.as_ref().len());
        out.push_str(v.as_ref());
    }
    // Exact, so the set is one allocation of its size (no shrinking copy).
    debug_assert_eq!(out.len(), size);
    out.into_boxed_str()
}

/// Sorts by name (stable) and keeps the last value of a repeated name, as inserting into a map one by one does.
fn canonicalise<K: AsRef<str>, V>(pairs: &mut Vec<(K, V)>) {
    if !pairs.windows(2).all(|w| w[0].0.as_ref() < w[1].0.as_ref()) {
        pairs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        // `dedup_by` keeps the first of a run; reversing runs' order is simpler done by hand.
        let mut out: Vec<(K, V)> = Vec::with_capacity(pairs.len());
        for p in pairs.drain(..) {
            match out.last_mut() {
                Some(last) if last.0.as_ref() == p.0.as_ref() => *last = p,
                _ => out.push(p),
            }
        }
        *pairs = out;
    }
}

/// Iterator over the pairs of a [`LabelSet`], in name order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    rest: &'a str,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let (k, rest) = take_str(self.rest)?;
        let (v, rest) = take_str(rest)?;
        self.rest = rest;
        self.remaining -= 1;
        Some((k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl LabelSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a set from pairs in any order; for a repeated name the last value wins (as map inserts do).
    /// One allocation, no per-string copies beyond the packed text: the ingest path builds sets with this.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut pairs: Vec<(K, V)> = pairs.into_iter().collect();
        canonicalise(&mut pairs);
        Self { buf: encode(&pairs) }
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.iter().collect()
    }

    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        for (k, v) in self.iter() {
            match k.cmp(name) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Some(v),
                std::cmp::Ordering::Greater => return None,
            }
        }
        None
    }

    /// The value of `name`, or "" when absent: Alertmanager treats a missing label as the empty string.
    pub fn value(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Sets `name` to `value`; returns the previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let (name, value) = (name.into(), value.into());
        let mut pairs = self.pairs();
        let old = match pairs.binary_search_by(|(k, _)| (*k).cmp(name.as_str())) {
            Ok(i) => Some(std::mem::replace(&mut pairs[i].1, value.as_str()).to_owned()),
            Err(i) => {
                pairs.insert(i, (name.as_str(), value.as_str()));
                None
            }
        };
        let buf = encode(&pairs);
        self.buf = buf;
        old
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        let mut pairs = self.pairs();
        let i = pairs.binary_search_by(|(k, _)| (*k).cmp(name)).ok()?;
        let (_, old) = pairs.remove(i);
        let old = old.to_owned();
        let buf = encode(&pairs);
        self.buf = buf;
        Some(old)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn len(&self) -> usize {
        take_len(&self.buf).map_or(0, |(n, _)| n)
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        match take_len(&self.buf) {
            Some((remaining, rest)) => Iter { rest, remaining },
            None => Iter { rest: "", remaining: 0 },
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(k, _)| k)
    }

    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::from_sorted_pairs(self.iter())
    }

    /// A fast 64-bit hash of the set (xxh3 over the canonical encoding), for tables that only need to find a
    /// set again: the fingerprint's FNV-1a, fixed by Prometheus, is a serial byte-by-byte loop, several times
    /// slower. Equal sets hash equally; the value is not stable across versions and must not leave the process.
    pub fn fast_hash(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(self.buf.as_bytes())
    }

    /// Drops labels with an empty value, as Alertmanager does on ingest.
    pub fn remove_empty_values(&mut self) {
        if self.iter().all(|(_, v)| !v.is_empty()) {
            return;
        }
        let pairs: Vec<(&str, &str)> = self.iter().filter(|(_, v)| !v.is_empty()).collect();
        let buf = encode(&pairs);
        self.buf = buf;
    }

    /// Validates names (per `mode`) and values, like `model.LabelSet.Validate`.
    pub fn validate(&self, mode: NameValidation) -> Result<(), LabelError> {
        for (k, _) in self.iter() {
            if !mode.is_valid(k) {
                return Err(LabelError::InvalidName(k.to_owned()));
            }
        }
        Ok(())
    }

    /// The subset of labels named in `names`; absent names are skipped.
    pub fn project<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> LabelSet {
        LabelSet::from_pairs(names.into_iter().filter_map(|n| self.get(n).map(|v| (n, v))))
    }

    pub fn into_inner(self) -> BTreeMap<String, String> {
        self.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    }
}

impl<'a> IntoIterator for &'a LabelSet {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The order of the `BTreeMap` this type replaced: pairs compared lexicographically, name then value.
impl PartialOrd for LabelSet {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for LabelSet {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl From<BTreeMap<String, String>> for LabelSet {
    fn from(m: BTreeMap<String, String>) -> Self {
        let pairs: Vec<(&String, &String)> = m.iter().collect();
        Self { buf: encode(&pairs) }
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for LabelSet {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        LabelSet::from_pairs(iter.into_iter().map(|(k, v)| (k.into(), v.into())))
    }
}

/// A JSON object / YAML mapping of strings, as `BTreeMap<String, String>` serialises.
impl serde::Serialize for LabelSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> serde::Deserialize<'de> for LabelSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = LabelSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<LabelSet, A::Error> {
                let mut pairs: Vec<(String, String)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(LabelSet::from_pairs(pairs))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// Prometheus' `LabelSet.String()`: `{a="1", b="2"}` with Go-quoted values, used in group keys.
impl fmt::Display for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={}", go_quote(v))?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Go's `strconv.Quote`: printable runes kept, `"` and `\` escaped, control characters as `\n`, `\x00`, `\u0085`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    // Unicode "other" categories that Go refuses: format characters, private use, surrogates, unassigned.
    let u = c as u32;
    !matches!(u, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x200b..=0x200f | 0x202a..=0x202e
        | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb | 0xe000..=0xf8ff | 0xf0000..=0x10ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs.iter().copied().collect()
    }

    #[test]
    fn fingerprints_match_alertmanager() {
        // Vectors printed by Alertmanager 0.25's API (`fingerprint` of GET /api/v2/alerts) for the same label sets.
        let cases = [
            (
                ls(&[
                    ("alertname", "Payload_750f06_13"),
                    ("instance", "host1:9100"),
                    ("job", "node"),
                    ("severity", "warning"),
                ]),
                "dbc0afb520cf4360",
            ),
            (ls(&[]), "cbf29ce484222325"),
        ];
        for (set, want) in cases {
            assert_eq!(set.fingerprint().to_string(), want, "{set}");
        }
    }

    #[test]
    fn classic_names() {
        let cases = [
            ("a", true),
            ("_a1", true),
            ("A_b_9", true),
            ("", false),
            ("1a", false),
            ("bad-name", false),
            ("a.b", false),
            ("a:b", false),
            ("ünicode", false),
        ];
        for (name, want) in cases {
            assert_eq!(is_classic_label_name(name), want, "{name}");
            assert_eq!(NameValidation::Classic.is_valid(name), want, "{name}");
        }
        assert!(NameValidation::Utf8.is_valid("bad-name"));
        assert!(NameValidation::Utf8.is_valid("ünicode"));
        assert!(!NameValidation::Utf8.is_valid(""));
    }

    #[test]
    fn packed_encoding_round_trips() {
        let long = "x".repeat(70_000);
        let mid = "é".repeat(600);
        let mut set = ls(&[("b", "2"), ("a", ""), ("long", &long), ("mid", &mid), ("ü", "\u{0}\u{ffff}")]);
        assert_eq!(set.len(), 5);
        assert_eq!(set.get("long"), Some(long.as_str()));
        assert_eq!(set.get("mid"), Some(mid.as_str()));
        assert_eq!(set.get("a"), Some(""));
        assert_eq!(set.get("zz"), None);
        assert_eq!(set.names().collect::<Vec<_>>(), ["a", "b", "long", "mid", "ü"]);
        assert_eq!(set.insert("b", "3"), Some("2".to_owned()));
        assert_eq!(set.insert("c", "4"), None);
        assert_eq!(set.remove("long"), Some(long.clone()));
        assert_eq!(set.remove("long"), None);
        set.remove_empty_values();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [("b", "3"), ("c", "4"), ("mid", mid.as_str()), ("ü", "\u{0}\u{ffff}")]
        );
        assert_eq!(set.iter().len(), 4);
        let json = serde_json::to_string(&set).unwrap();
        let back: LabelSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, set);
        assert_eq!(set.clone().into_inner().len(), 4);
        assert!(LabelSet::new().is_empty());
        assert_eq!(LabelSet::new().iter().count(), 0);
    }

    #[test]
    fn interned_and_inline_names_read_back() {
        // More distinct names than the symbol table holds, and names too long to intern: every set still reads
        // back, and equal sets built in different orders are equal (one encoding per set).
        let long = "n".repeat(100);
        for i in 0..symbols::MAX_SYMBOLS + 200 {
            let name = format!("name_{i}");
            let a = LabelSet::from_pairs([(name.as_str(), "v"), ("alertname", "A"), (long.as_str(), "w")]);
            let b: LabelSet =
                [(long.as_str(), "w"), (name.as_str(), "v"), ("alertname", "A")].into_iter().collect();
            assert_eq!(a, b, "{name}");
            assert_eq!(a.get(&name), Some("v"));
            assert_eq!(a.get(&long), Some("w"));
            assert_eq!(a.len(), 3);
        }
    }

    #[test]
    fn builds_like_a_map() {
        // Last value of a repeated name wins, order of input does not matter, equality and hashing follow.
        let a: LabelSet = [("b", "1"), ("a", "x"), ("b", "2")].into_iter().collect();
        let b = LabelSet::from_pairs([("a", "x"), ("b", "2")]);
        assert_eq!(a, b);
        let mut c = LabelSet::new();
        c.insert("b", "2");
        c.insert("a", "x");
        assert_eq!(a, c);
        let map: BTreeMap<String, String> = [("a".into(), "x".into()), ("b".into(), "2".into())].into();
        assert_eq!(LabelSet::from(map), a);
        let d: LabelSet = serde_json::from_str(r#"{"b":"1","a":"x","b":"2"}"#).unwrap();
        assert_eq!(d, a);
        // Ordering as BTreeMap's: pairs compared lexicographically.
        assert!(ls(&[("a", "1")]) < ls(&[("a", "2")]));
        assert!(ls(&[("a", "1"), ("b", "1")]) > ls(&[("a", "1")]));
        assert!(ls(&[("a", "9")]) < ls(&[("b", "1")]));
        assert_eq!(a.project(["b", "zz"]), ls(&[("b", "2")]));
    }

    #[test]
    fn display_is_prometheus_string() {
        let set = ls(&[("team", "b"), ("alertname", "B"), ("q", "a\"b\\c\nd")]);
        assert_eq!(set.to_string(), r#"{alertname="B", q="a\"b\\c\nd", team="b"}"#);
        assert_eq!(LabelSet::new().to_string(), "{}");
    }
}
