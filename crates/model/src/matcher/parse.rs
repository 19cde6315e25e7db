//! Matcher parsers: Alertmanager's classic parser (`pkg/labels/parse.go`), the 0.27+ UTF-8 parser
//! (`matcher/parse`), and the fallback mode that tries UTF-8 first and falls back to classic.

use super::Matcher;

/// Which grammar to accept (`--enable-feature=classic-mode|utf8-strict-mode`; fallback is the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParseMode {
    #[default]
    Fallback,
    Utf8Strict,
    Classic,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Parses a matcher list such as `{a="1", b=~"x"}` or `a=1,b!=2`.
pub fn parse_matchers(input: &str, mode: ParseMode) -> Result<Vec<Matcher>, ParseError> {
    let _ = mode;
    Err(ParseError(format!("bad matcher format: {input}")))
}

/// Parses exactly one matcher without braces (API filters, silence matchers from amtool).
pub fn parse_matcher(input: &str, mode: ParseMode) -> Result<Matcher, ParseError> {
    let _ = mode;
    Err(ParseError(format!("bad matcher format: {input}")))
}
