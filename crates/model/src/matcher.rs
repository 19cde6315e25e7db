//! Label matchers (`pkg/labels` in Alertmanager): `=`, `!=`, `=~`, `!~` with fully anchored RE2-style regexes.
//!
//! Parsing lives in [`crate::matcher::parse`]; this file is the type, its semantics and its canonical rendering,
//! which is part of route keys and therefore of group keys, so it must match upstream byte for byte.

pub mod parse;

use crate::labels::LabelSet;
use regex::Regex;
use std::fmt;

/// Ordered as Alertmanager's `labels.MatchType` (used when sorting matchers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum MatchType {
    Equal,
    NotEqual,
    Regexp,
    NotRegexp,
}

impl MatchType {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }

    pub fn is_regex(self) -> bool {
        matches!(self, MatchType::Regexp | MatchType::NotRegexp)
    }

    pub fn is_equal(self) -> bool {
        matches!(self, MatchType::Equal | MatchType::Regexp)
    }

    /// From the API's `isRegex`/`isEqual` pair.
    pub fn from_flags(is_regex: bool, is_equal: bool) -> Self {
        match (is_regex, is_equal) {
            (false, true) => MatchType::Equal,
            (false, false) => MatchType::NotEqual,
            (true, true) => MatchType::Regexp,
            (true, false) => MatchType::NotRegexp,
        }
    }
}

impl fmt::Display for MatchType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    /// Worded like Go: `invalid regular expression "(": error parsing regexp: …`.
    #[error("invalid regular expression {pattern:?}: {reason}")]
    InvalidRegex { pattern: String, reason: String },
}

/// One label matcher. Regex matchers carry their compiled, anchored regex.
#[derive(Clone)]
pub struct Matcher {
    pub ty: MatchType,
    pub name: String,
    pub value: String,
    re: Option<Regex>,
}

impl Matcher {
    /// Builds a matcher, compiling `^(?:value)$` for regex types.
    pub fn new(
        ty: MatchType,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let value = value.into();
        let re = if ty.is_regex() { Some(compile_anchored(&value)?) } else { None };
        Ok(Self { ty, name: name.into(), value, re })
    }

    /// Whether `v` (the label's value, "" when absent) satisfies the matcher.
    pub fn matches(&self, v: &str) -> bool {
        match self.ty {
            MatchType::Equal => v == self.value,
            MatchType::NotEqual => v != self.value,
            MatchType::Regexp => self.re.as_ref().is_some_and(|re| re.is_match(v)),
            MatchType::NotRegexp => !self.re.as_ref().is_some_and(|re| re.is_match(v)),
        }
    }

    /// Applies the matcher to a label set, treating a missing label as "".
    pub fn matches_labels(&self, labels: &LabelSet) -> bool {
        self.matches(labels.value(&self.name))
    }
}

/// Compiles Alertmanager's anchored form of a user regex.
pub fn compile_anchored(pattern: &str) -> Result<Regex, MatcherError> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| MatcherError::InvalidRegex {
        pattern: pattern.to_owned(),
        reason: regex_error_reason(&e),
    })
}

fn regex_error_reason(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => {
            // regex renders a multi-line caret diagram; keep the last line, which names the problem.
            let last = s.lines().rev().find(|l| l.starts_with("error:")).unwrap_or(s);
            format!("error parsing regexp: {}", last.trim_start_matches("error: "))
        }
        other => format!("error parsing regexp: {other}"),
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.ty == other.ty && self.name == other.name && self.value == other.value
    }
}
impl Eq for Matcher {}

impl std::hash::Hash for Matcher {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.ty.hash(state);
        self.name.hash(state);
        self.value.hash(state);
    }
}

impl PartialOrd for Matcher {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Upstream's `Matchers.Less`: name, then value, then type.
impl Ord for Matcher {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.name, &self.value, self.ty).cmp(&(&other.name, &other.value, other.ty))
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Matcher({self})")
    }
}

/// `name="value"` with OpenMetrics escaping, or both Go-quoted when the name holds reserved characters (0.27+).
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.chars().any(parse::is_reserved) {
            let (n, v) = (crate::labels::go_quote(&self.name), crate::labels::go_quote(&self.value));
            write!(f, "{n}{}{v}", self.ty)
        } else {
            write!(f, "{}{}\"{}\"", self.name, self.ty, open_metrics_escape(&self.value))
        }
    }
}

fn open_metrics_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// A conjunction of matchers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Matchers(pub Vec<Matcher>);

impl Matchers {
    pub fn new(v: Vec<Matcher>) -> Self {
        Self(v)
    }

    /// True when every matcher matches (an empty list matches everything).
    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.0.iter().all(|m| m.matches_labels(labels))
    }

    pub fn sort(&mut self) {
        self.0.sort();
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Matcher> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `{a="1",b=~"x"}` (no spaces), the form inside route keys.
impl fmt::Display for Matchers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{m}")?;
        }
        f.write_str("}")
    }
}

impl FromIterator<Matcher> for Matchers {
    fn from_iter<I: IntoIterator<Item = Matcher>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_fully_anchored() {
        let m = Matcher::new(MatchType::Regexp, "a", "b|c").unwrap();
        assert!(m.matches("b"));
        assert!(m.matches("c"));
        assert!(!m.matches("bc"));
        assert!(!m.matches("xb"));
        let m = Matcher::new(MatchType::NotRegexp, "a", "b.*").unwrap();
        assert!(!m.matches("bob"));
        assert!(m.matches("ab"));
    }

    #[test]
    fn missing_label_is_empty() {
        let ls: LabelSet = [("x", "1")].into_iter().collect();
        assert!(Matcher::new(MatchType::NotEqual, "foo", "bar").unwrap().matches_labels(&ls));
        assert!(Matcher::new(MatchType::Equal, "foo", "").unwrap().matches_labels(&ls));
        assert!(!Matcher::new(MatchType::Equal, "x", "").unwrap().matches_labels(&ls));
    }

    #[test]
    fn display_escapes() {
        let m = Matcher::new(MatchType::Equal, "a", "x\"y\\z\nw").unwrap();
        assert_eq!(m.to_string(), r#"a="x\"y\\z\nw""#);
        let m = Matcher::new(MatchType::NotRegexp, "with space", "v").unwrap();
        assert_eq!(m.to_string(), r#""with space"!~"v""#);
        let ms = Matchers(vec![
            Matcher::new(MatchType::Equal, "team", "b").unwrap(),
            Matcher::new(MatchType::Regexp, "sev", "crit.*").unwrap(),
        ]);
        assert_eq!(ms.to_string(), r#"{team="b",sev=~"crit.*"}"#);
    }

    #[test]
    fn bad_regex_error_names_pattern() {
        let err = Matcher::new(MatchType::Regexp, "a", "(").unwrap_err();
        assert!(
            err.to_string().starts_with("invalid regular expression \"(\": error parsing regexp"),
            "{err}"
        );
    }
}
