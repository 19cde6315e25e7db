//! The UTF-8 matchers parser of Alertmanager 0.27+ (upstream `matcher/parse/parse.go`).
//!
//! Grammar: optional `{`, zero or more `name op value` separated by commas with one optional trailing comma,
//! then `}` if and only if the input opened with `{`. Names and values are either unquoted literals (runs of
//! non-reserved runes) or Go string literals. The state machine below follows upstream's states one to one so
//! that the error for any malformed input is the same text, positions included.

use super::lexer::{Lexer, Token, TokenKind};
use super::ParseError;
use crate::matcher::{MatchType, Matcher, MatcherError};
use std::fmt;

/// Parses zero or more matchers (`""` and `"{}"` give none).
pub fn parse_matchers(input: &str) -> Result<Vec<Matcher>, ParseError> {
    Parser { lexer: Lexer::new(input), matchers: Vec::new(), has_open_brace: false }
        .parse()
        .map_err(ParseError)
}

/// Parses exactly one matcher; braces are allowed here (the compat layer rejects them before calling this).
pub fn parse_matcher(input: &str) -> Result<Matcher, ParseError> {
    let mut ms = parse_matchers(input)?;
    match ms.len() {
        1 => Ok(ms.remove(0)),
        0 => Err(ParseError("no matchers".to_owned())),
        n => Err(ParseError(format!("expected 1 matcher, found {n}"))),
    }
}

/// Why a token was not what the grammar wanted; `Eof` prints as upstream's `errEOF`.
enum Fail {
    Eof,
    Msg(String),
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fail::Eof => f.write_str("end of input"),
            Fail::Msg(m) => f.write_str(m),
        }
    }
}

/// The states of upstream's automaton.
#[derive(Clone, Copy)]
enum State {
    OpenBrace,
    CloseBrace,
    Matcher,
    EndOfMatcher,
    Comma,
    Eof,
}

const NAME_OR_VALUE: &[TokenKind] = &[TokenKind::Quoted, TokenKind::Unquoted];
const OPERATORS: &[TokenKind] =
    &[TokenKind::Equals, TokenKind::NotEquals, TokenKind::Matches, TokenKind::NotMatches];

struct Parser<'a> {
    lexer: Lexer<'a>,
    matchers: Vec<Matcher>,
    has_open_brace: bool,
}

impl<'a> Parser<'a> {
    fn parse(mut self) -> Result<Vec<Matcher>, String> {
        let mut state = State::OpenBrace;
        loop {
            let next = match state {
                State::OpenBrace => self.open_brace()?,
                State::CloseBrace => self.close_brace()?,
                State::Matcher => self.matcher()?,
                State::EndOfMatcher => self.end_of_matcher()?,
                State::Comma => self.comma()?,
                State::Eof => self.eof()?,
            };
            match next {
                Some(s) => state = s,
                None => return Ok(self.matchers),
            }
        }
    }

    fn open_brace(&mut self) -> Result<Option<State>, String> {
        match self.accept(&[TokenKind::OpenBrace]) {
            Ok(open) => self.has_open_brace = open,
            Err(Fail::Eof) => return Ok(Some(State::Eof)),
            Err(Fail::Msg(m)) => return Err(m),
        }
        // `{` followed by nothing still goes to the close-brace state so the error names the missing brace.
        match self.accept_peek(&[TokenKind::CloseBrace]) {
            Ok(true) | Err(Fail::Eof) => Ok(Some(State::CloseBrace)),
            Ok(false) => Ok(Some(State::Matcher)),
            Err(Fail::Msg(m)) => Err(m),
        }
    }

    fn close_brace(&mut self) -> Result<Option<State>, String> {
        let closed = self.expect(&[TokenKind::CloseBrace]);
        let col = self.lexer.column_end();
        match (self.has_open_brace, closed) {
            (true, Err(e)) => Err(format!("0:{col}: {e}: expected close brace")),
            (false, Ok(_)) => Err(format!("0:{col}: }}: expected opening brace")),
            _ => Ok(Some(State::Eof)),
        }
    }

    fn matcher(&mut self) -> Result<Option<State>, String> {
        let t = self.expect(NAME_OR_VALUE).map_err(|e| format!("{e}: expected label name"))?;
        let name = t.unquote().ok_or_else(|| invalid_input(&t))?;
        let t = self
            .expect(OPERATORS)
            .map_err(|e| format!("{e}: expected an operator such as '=', '!=', '=~' or '!~'"))?;
        let ty = match t.kind {
            TokenKind::NotEquals => MatchType::NotEqual,
            TokenKind::Matches => MatchType::Regexp,
            TokenKind::NotMatches => MatchType::NotRegexp,
            _ => MatchType::Equal,
        };
        let t = self.expect(NAME_OR_VALUE).map_err(|e| format!("{e}: expected label value"))?;
        let value = t.unquote().ok_or_else(|| invalid_input(&t))?;
        let m = Matcher::new(ty, name, value).map_err(|e| match e {
            MatcherError::InvalidRegex { reason, .. } => format!("failed to create matcher: {reason}"),
        })?;
        self.matchers.push(m);
        Ok(Some(State::EndOfMatcher))
    }

    fn end_of_matcher(&mut self) -> Result<Option<State>, String> {
        match self.expect_peek(&[TokenKind::Comma, TokenKind::CloseBrace]) {
            Err(Fail::Eof) => Ok(Some(State::CloseBrace)),
            Err(e) => Err(format!("{e}: expected a comma or close brace")),
            Ok(t) if t.kind == TokenKind::Comma => Ok(Some(State::Comma)),
            Ok(_) => Ok(Some(State::CloseBrace)),
        }
    }

    fn comma(&mut self) -> Result<Option<State>, String> {
        self.expect(&[TokenKind::Comma]).map_err(|e| format!("{e}: expected a comma"))?;
        match self.expect_peek(&[TokenKind::CloseBrace, TokenKind::Unquoted, TokenKind::Quoted]) {
            Err(Fail::Eof) => Ok(Some(State::CloseBrace)),
            Err(e) => Err(format!("{e}: expected a matcher or close brace after comma")),
            Ok(t) if t.kind == TokenKind::CloseBrace => Ok(Some(State::CloseBrace)),
            Ok(_) => Ok(Some(State::Matcher)),
        }
    }

    fn eof(&mut self) -> Result<Option<State>, String> {
        let t = self.lexer.scan().map_err(|e| format!("{e}: expected end of input"))?;
        if !t.is_eof() {
            return Err(format!("{}:{}: {}: expected end of input", t.column_start, t.column_end, t.value));
        }
        Ok(None)
    }

    /// Consumes the next token if it is one of `kinds`.
    fn accept(&mut self, kinds: &[TokenKind]) -> Result<bool, Fail> {
        let ok = self.accept_peek(kinds)?;
        if ok {
            self.lexer.scan().map_err(Fail::Msg)?;
        }
        Ok(ok)
    }

    fn accept_peek(&mut self, kinds: &[TokenKind]) -> Result<bool, Fail> {
        let t = self.lexer.peek().map_err(Fail::Msg)?;
        if t.is_eof() {
            return Err(Fail::Eof);
        }
        Ok(t.is_one_of(kinds))
    }

    fn expect(&mut self, kinds: &[TokenKind]) -> Result<Token<'a>, Fail> {
        let t = self.expect_peek(kinds)?;
        self.lexer.scan().map_err(Fail::Msg)?;
        Ok(t)
    }

    fn expect_peek(&mut self, kinds: &[TokenKind]) -> Result<Token<'a>, Fail> {
        let t = self.lexer.peek().map_err(Fail::Msg)?;
        if t.is_eof() {
            return Err(Fail::Eof);
        }
        if !t.is_one_of(kinds) {
            return Err(Fail::Msg(format!("{}:{}: unexpected {}", t.column_start, t.column_end, t.value)));
        }
        Ok(t)
    }
}

fn invalid_input(t: &Token<'_>) -> String {
    format!("{}:{}: {}: invalid input", t.column_start, t.column_end, t.value)
}
