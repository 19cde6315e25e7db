//! The classic matchers parser (upstream `pkg/labels/parse.go`, `matcher/oldparse` in 0.27+): the only grammar
//! of Alertmanager 0.25/0.26, and still what `classic-mode` and the fallback mode use.
//!
//! A matcher is `^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$` where `\s` is Go RE2's ASCII
//! class `[\t\n\f\r ]`. The regex is applied by hand below (it is deterministic: the name class cannot contain an
//! operator character, `=~` wins over `=`, and the lazy value takes everything up to trailing whitespace).

use super::ParseError;
use crate::matcher::{MatchType, Matcher, MatcherError};

/// Parses a comma-separated list; a leading `{` and a trailing `}` are each optional, commas inside double
/// quotes do not split, and a trailing comma (plus whitespace) is ignored.
pub fn parse_matchers(input: &str) -> Result<Vec<Matcher>, ParseError> {
    let s = input.strip_prefix('{').unwrap_or(input);
    let s = s.strip_suffix('}').unwrap_or(s);

    let mut inside_quotes = false;
    let mut escaped = false;
    let mut token = String::new();
    let mut tokens = Vec::new();
    for c in s.chars() {
        match c {
            // Upstream leaves `escaped` alone on commas, inside quotes or not.
            ',' if !inside_quotes => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            ',' => {}
            '"' if escaped => escaped = false,
            '"' => inside_quotes = !inside_quotes,
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    // Only the last piece is trimmed (Go `strings.TrimSpace`, Unicode White_Space): a trailing comma leaves an
    // empty or blank last piece, which is dropped. Earlier blank pieces fail as `bad matcher format`.
    let last = token.trim();
    if !last.is_empty() {
        tokens.push(last.to_owned());
    }
    tokens.iter().map(|t| parse_matcher(t)).collect()
}

/// Parses one matcher. There is no brace handling here, so `{a="b"}` is a `bad matcher format`.
pub fn parse_matcher(input: &str) -> Result<Matcher, ParseError> {
    let bad_format = || ParseError(format!("bad matcher format: {input}"));
    let rest = trim_re_space_start(input);
    let name_len = rest
        .bytes()
        .enumerate()
        .take_while(|&(i, b)| {
            b.is_ascii_alphabetic() || b == b'_' || b == b':' || (i > 0 && b.is_ascii_digit())
        })
        .count();
    if name_len == 0 {
        return Err(bad_format());
    }
    let (name, rest) = rest.split_at(name_len);
    let rest = trim_re_space_start(rest);
    let (ty, rest) = if let Some(r) = rest.strip_prefix("=~") {
        (MatchType::Regexp, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (MatchType::Equal, r)
    } else if let Some(r) = rest.strip_prefix("!=") {
        (MatchType::NotEqual, r)
    } else if let Some(r) = rest.strip_prefix("!~") {
        (MatchType::NotRegexp, r)
    } else {
        return Err(bad_format());
    };
    let raw = trim_re_space_start(rest).trim_end_matches(is_re_space);
    let value = unescape_value(raw)?;
    Matcher::new(ty, name, value).map_err(|e| match e {
        MatcherError::InvalidRegex { reason, .. } => ParseError(reason),
    })
}

/// The value rules: optional surrounding double quotes; `\"`, `\n` and `\\` are escapes; any other backslash
/// is literal; an unescaped `"` anywhere but as the closing quote is an error.
fn unescape_value(raw: &str) -> Result<String, ParseError> {
    let unescaped_quote = || ParseError(format!("matcher value contains unescaped double quote: {raw}"));
    let (body, mut expect_trailing_quote) = match raw.strip_prefix('"') {
        Some(b) => (b, true),
        None => (raw, false),
    };
    let mut value = String::with_capacity(body.len());
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        // Upstream compares byte offsets with the byte length, so "last" means the final byte.
        let is_last = i + c.len_utf8() == body.len();
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                _ => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            '\\' if !is_last => escaped = true,
            '\\' => value.push('\\'),
            '"' => {
                if !expect_trailing_quote || !is_last {
                    return Err(unescaped_quote());
                }
                expect_trailing_quote = false;
            }
            c => value.push(c),
        }
    }
    if expect_trailing_quote {
        return Err(unescaped_quote());
    }
    Ok(value)
}

/// Go RE2's `\s`: ASCII only, and without `\v`.
fn is_re_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

fn trim_re_space_start(s: &str) -> &str {
    s.trim_start_matches(is_re_space)
}
