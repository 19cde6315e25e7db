//! Label sets and label-name validation.
//!
//! A [`LabelSet`] keeps its pairs sorted by name (a `BTreeMap`), which is the order every hash, key and rendering
//! in Alertmanager uses, so fingerprints and group keys need no extra sort on the ingest path.

use crate::fingerprint::Fingerprint;
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

/// A set of labels (or annotations) sorted by name.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct LabelSet(BTreeMap<String, String>);

impl LabelSet {
    pub fn new() -> Self {
        Self(BTreeMap::new())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value of `name`, or "" when absent: Alertmanager treats a missing label as the empty string.
    pub fn value(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.0.insert(name.into(), value.into())
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::from_sorted_pairs(self.iter())
    }

    /// Drops labels with an empty value, as Alertmanager does on ingest.
    pub fn remove_empty_values(&mut self) {
        self.0.retain(|_, v| !v.is_empty());
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
        let mut out = LabelSet::new();
        for n in names {
            if let Some(v) = self.0.get(n) {
                out.0.insert(n.to_owned(), v.clone());
            }
        }
        out
    }

    pub fn into_inner(self) -> BTreeMap<String, String> {
        self.0
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

impl From<BTreeMap<String, String>> for LabelSet {
    fn from(m: BTreeMap<String, String>) -> Self {
        Self(m)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for LabelSet {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
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
    fn display_is_prometheus_string() {
        let set = ls(&[("team", "b"), ("alertname", "B"), ("q", "a\"b\\c\nd")]);
        assert_eq!(set.to_string(), r#"{alertname="B", q="a\"b\\c\nd", team="b"}"#);
        assert_eq!(LabelSet::new().to_string(), "{}");
    }
}
