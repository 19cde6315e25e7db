//! Silences (`silence.Silence`) and their states at an instant.

use crate::labels::{go_quote, LabelSet};
use crate::matcher::parse::ParseMode;
use crate::matcher::{MatchType, Matcher};
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    /// A UUID v4 chosen by the node that created the silence.
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
}

/// Why a silence is invalid, worded as upstream's `validateSilence`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    #[error("ID missing")]
    IdMissing,
    #[error("at least one matcher required")]
    NoMatchers,
    #[error("invalid label matcher {0}: {1}")]
    InvalidMatcher(usize, String),
    #[error("at least one matcher must not match the empty string")]
    AllMatchEmpty,
    #[error("invalid zero start timestamp")]
    ZeroStart,
    #[error("invalid zero end timestamp")]
    ZeroEnd,
    #[error("end time must not be before start time")]
    EndBeforeStart,
    #[error("invalid zero update timestamp")]
    ZeroUpdate,
}

/// Upstream `matchesEmpty`: only `=` and `=~` count; `!=`/`!~` never do, even when they would match "".
fn matches_empty(m: &Matcher) -> bool {
    match m.ty {
        MatchType::Equal | MatchType::Regexp => m.matches(""),
        MatchType::NotEqual | MatchType::NotRegexp => false,
    }
}

/// Go's zero `time.Time` (0001-01-01T00:00:00Z), which upstream treats as "unset".
pub fn go_zero_time() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SilenceState {
    Active,
    Pending,
    Expired,
}

impl SilenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
            SilenceState::Expired => "expired",
        }
    }
}

impl Silence {
    /// `types.CalcSilenceState`: pending before start, active while `now < end`, expired from `end` on.
    pub fn state_at(&self, now: DateTime<Utc>) -> SilenceState {
        if now < self.starts_at {
            SilenceState::Pending
        } else if now < self.ends_at {
            SilenceState::Active
        } else {
            SilenceState::Expired
        }
    }

    /// Upstream `validateSilence`, in its order and wording. The caller adds upstream's prefix
    /// (`silence invalid` in 0.28, `invalid silence` before). Label names follow `mode` (classic names only in
    /// classic mode). Regexes need no check here: a [`Matcher`] cannot hold an invalid one.
    pub fn validate(&self, mode: ParseMode) -> Result<(), SilenceError> {
        if self.id.is_empty() {
            return Err(SilenceError::IdMissing);
        }
        if self.matchers.is_empty() {
            return Err(SilenceError::NoMatchers);
        }
        for (i, m) in self.matchers.iter().enumerate() {
            if !mode.is_valid_label_name(&m.name) {
                return Err(SilenceError::InvalidMatcher(
                    i,
                    format!("invalid label name {}", go_quote(&m.name)),
                ));
            }
        }
        if self.matchers.iter().all(matches_empty) {
            return Err(SilenceError::AllMatchEmpty);
        }
        let zero = go_zero_time();
        if self.starts_at == zero {
            return Err(SilenceError::ZeroStart);
        }
        if self.ends_at == zero {
            return Err(SilenceError::ZeroEnd);
        }
        if self.ends_at < self.starts_at {
            return Err(SilenceError::EndBeforeStart);
        }
        if self.updated_at == zero {
            return Err(SilenceError::ZeroUpdate);
        }
        Ok(())
    }

    /// True when every matcher matches `labels` (missing labels count as "").
    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.matchers.iter().all(|m| m.matches_labels(labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn silence(matchers: &[(MatchType, &str, &str)]) -> Silence {
        let t = |h| Utc.with_ymd_and_hms(2024, 1, 1, h, 0, 0).unwrap();
        Silence {
            id: "id".into(),
            matchers: matchers.iter().map(|(ty, n, v)| Matcher::new(*ty, *n, *v).unwrap()).collect(),
            starts_at: t(1),
            ends_at: t(2),
            updated_at: t(1),
            created_by: "me".into(),
            comment: "c".into(),
        }
    }

    #[test]
    fn validate_like_upstream() {
        use MatchType::*;
        struct Case {
            name: &'static str,
            matchers: &'static [(MatchType, &'static str, &'static str)],
            mode: ParseMode,
            want: Result<(), &'static str>,
        }
        let cases = [
            Case { name: "ok", matchers: &[(Equal, "a", "b")], mode: ParseMode::Fallback, want: Ok(()) },
            Case {
                name: "none",
                matchers: &[],
                mode: ParseMode::Fallback,
                want: Err("at least one matcher required"),
            },
            Case {
                name: "all empty",
                matchers: &[(Equal, "a", ""), (Regexp, "b", "x*")],
                mode: ParseMode::Fallback,
                want: Err("at least one matcher must not match the empty string"),
            },
            Case {
                name: "not-equal counts",
                matchers: &[(NotEqual, "a", "")],
                mode: ParseMode::Fallback,
                want: Ok(()),
            },
            Case {
                name: "utf8 name in fallback",
                matchers: &[(Equal, "bad-name", "x")],
                mode: ParseMode::Fallback,
                want: Ok(()),
            },
            Case {
                name: "classic name rule",
                matchers: &[(Equal, "ok", "x"), (Equal, "bad-name", "x")],
                mode: ParseMode::Classic,
                want: Err("invalid label matcher 1: invalid label name \"bad-name\""),
            },
            Case {
                name: "empty name",
                matchers: &[(Equal, "", "x")],
                mode: ParseMode::Utf8Strict,
                want: Err("invalid label matcher 0: invalid label name \"\""),
            },
        ];
        for c in cases {
            let got = silence(c.matchers).validate(c.mode).map_err(|e| e.to_string());
            assert_eq!(got, c.want.map_err(str::to_owned), "{}", c.name);
        }
    }

    #[test]
    fn validate_times_and_id() {
        let mut s = silence(&[(MatchType::Equal, "a", "b")]);
        s.ends_at = s.starts_at - chrono::Duration::seconds(1);
        assert_eq!(s.validate(ParseMode::Fallback), Err(SilenceError::EndBeforeStart));
        s.ends_at = s.starts_at;
        assert_eq!(s.validate(ParseMode::Fallback), Ok(()));
        s.updated_at = go_zero_time();
        assert_eq!(s.validate(ParseMode::Fallback), Err(SilenceError::ZeroUpdate));
        s.starts_at = go_zero_time();
        assert_eq!(s.validate(ParseMode::Fallback), Err(SilenceError::ZeroStart));
        s.id.clear();
        assert_eq!(s.validate(ParseMode::Fallback).map_err(|e| e.to_string()), Err("ID missing".to_owned()));
        assert_eq!(go_zero_time().to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "0001-01-01T00:00:00Z");
    }
}
