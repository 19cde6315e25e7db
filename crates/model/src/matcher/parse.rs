//! Matcher parsers: Alertmanager's classic parser (`pkg/labels/parse.go`), the 0.27+ UTF-8 parser
//! (`matcher/parse`), and the fallback mode that tries UTF-8 first and falls back to classic (`matcher/compat`).
//!
//! Every caller (config loader, API filters, silences) goes through [`parse_matchers`] / [`parse_matcher`] with the
//! process-wide [`ParseMode`], so the grammar accepted and the error texts returned are the same everywhere.

pub mod classic;
mod lexer;
mod unquote;
pub mod utf8;

#[cfg(test)]
mod tests;

use super::Matcher;
use crate::labels::NameValidation;

pub(crate) use lexer::is_reserved;

/// Which grammar to accept (`--enable-feature=classic-mode|utf8-strict-mode`; fallback is the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParseMode {
    #[default]
    Fallback,
    Utf8Strict,
    Classic,
}

impl ParseMode {
    /// The label-name rule that goes with the mode (upstream `compat.IsValidLabelName`): classic names in
    /// classic mode, any non-empty UTF-8 otherwise. Used for alert labels and silence matcher names.
    pub fn name_validation(self) -> NameValidation {
        match self {
            ParseMode::Classic => NameValidation::Classic,
            ParseMode::Fallback | ParseMode::Utf8Strict => NameValidation::Utf8,
        }
    }

    pub fn is_valid_label_name(self, name: &str) -> bool {
        self.name_validation().is_valid(name)
    }
}

/// A parse failure; its Display is exactly the text Alertmanager returns (API body, config error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// What the fallback mode did, so callers can log the warning upstream logs (the model crate does no I/O).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    /// The UTF-8 parser rejected the input, the classic parser accepted it; `suggestion` is the classic result
    /// rendered in the forward-compatible form (upstream logs both).
    Incompatible { utf8_error: String, suggestion: String },
    /// Both parsers accepted the input with different results; the classic result was used.
    Disagreement,
}

/// Parsed matchers plus the fallback taken, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    pub value: T,
    pub fallback: Option<Fallback>,
}

/// Parses a matcher list such as `{a="1", b=~"x"}` or `a=1,b!=2`.
pub fn parse_matchers(input: &str, mode: ParseMode) -> Result<Vec<Matcher>, ParseError> {
    parse_matchers_detailed(input, mode).map(|p| p.value)
}

/// Parses exactly one matcher without braces (API filters, `amtool` arguments).
pub fn parse_matcher(input: &str, mode: ParseMode) -> Result<Matcher, ParseError> {
    parse_matcher_detailed(input, mode).map(|p| p.value)
}

/// [`parse_matchers`], also reporting whether the fallback mode fell back to the classic parser.
pub fn parse_matchers_detailed(input: &str, mode: ParseMode) -> Result<Parsed<Vec<Matcher>>, ParseError> {
    match mode {
        ParseMode::Classic => classic::parse_matchers(input).map(plain),
        ParseMode::Utf8Strict => utf8::parse_matchers(input).map(plain),
        ParseMode::Fallback => {
            fallback(utf8::parse_matchers(input), classic::parse_matchers(input), |ms: &Vec<Matcher>| {
                ms.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
            })
        }
    }
}

/// [`parse_matcher`], also reporting whether the fallback mode fell back to the classic parser.
pub fn parse_matcher_detailed(input: &str, mode: ParseMode) -> Result<Parsed<Matcher>, ParseError> {
    let rejects_braces = mode != ParseMode::Classic && (input.starts_with('{') || input.ends_with('}'));
    if rejects_braces {
        return Err(ParseError(format!("unexpected open or close brace: {input}")));
    }
    match mode {
        ParseMode::Classic => classic::parse_matcher(input).map(plain),
        ParseMode::Utf8Strict => utf8::parse_matcher(input).map(plain),
        ParseMode::Fallback => {
            fallback(utf8::parse_matcher(input), classic::parse_matcher(input), |m: &Matcher| m.to_string())
        }
    }
}

fn plain<T>(value: T) -> Parsed<T> {
    Parsed { value, fallback: None }
}

/// Upstream's decision table: UTF-8 result when both agree; classic when only classic succeeds or when they
/// disagree; classic's error when both fail.
fn fallback<T: PartialEq>(
    utf8: Result<T, ParseError>,
    classic: Result<T, ParseError>,
    render: impl Fn(&T) -> String,
) -> Result<Parsed<T>, ParseError> {
    match (utf8, classic) {
        (Ok(n), Ok(c)) if n == c => Ok(plain(n)),
        (Ok(_), Ok(c)) => Ok(Parsed { value: c, fallback: Some(Fallback::Disagreement) }),
        (Err(e), Ok(c)) => {
            let suggestion = render(&c);
            Ok(Parsed { value: c, fallback: Some(Fallback::Incompatible { utf8_error: e.0, suggestion }) })
        }
        (Ok(n), Err(_)) => Ok(plain(n)),
        (Err(_), Err(e)) => Err(e),
    }
}
