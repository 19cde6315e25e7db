//! The tokenizer of the UTF-8 matchers grammar (upstream `matcher/parse/lexer.go` and `token.go`).
//!
//! Positions are reported exactly as upstream does, because they are part of the error text the API and the
//! config loader return: `columnStart:columnEnd` count runes (not bytes) from the start of the input, and the
//! error kinds (`invalid input`, `expected one of '…'`, `missing end "`) are worded the same way.

/// Token kinds, ordered as upstream's `tokenKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    Eof,
    OpenBrace,
    CloseBrace,
    Comma,
    Equals,
    NotEquals,
    Matches,
    NotMatches,
    Quoted,
    Unquoted,
}

/// A token: its kind, the input text it covers, and its rune columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub kind: TokenKind,
    pub value: &'a str,
    pub column_start: usize,
    pub column_end: usize,
}

impl Token<'_> {
    /// Upstream returns a zero token at the end of input: no text, columns 0:0.
    fn eof() -> Self {
        Token { kind: TokenKind::Eof, value: "", column_start: 0, column_end: 0 }
    }

    pub fn is_eof(&self) -> bool {
        self.kind == TokenKind::Eof
    }

    pub fn is_one_of(&self, kinds: &[TokenKind]) -> bool {
        kinds.contains(&self.kind)
    }

    /// The token's text: quoted tokens are unquoted with Go's `strconv.Unquote` rules and must yield valid UTF-8.
    pub fn unquote(&self) -> Option<String> {
        if self.kind == TokenKind::Quoted {
            super::unquote::go_unquote(self.value)
        } else {
            Some(self.value.to_owned())
        }
    }
}

/// Runes that cannot appear in an unquoted literal (upstream `isReserved`, also used by `Matcher`'s Display).
pub(crate) fn is_reserved(c: char) -> bool {
    // Rust's `char::is_whitespace` is the Unicode White_Space property, the same set as Go's `unicode.IsSpace`.
    c.is_whitespace() || matches!(c, '{' | '}' | '!' | '=' | '~' | ',' | '\\' | '"' | '\'' | '`')
}

/// Scanner state; mirrors upstream's fields so positions come out identical.
#[derive(Debug, Clone)]
pub(super) struct Lexer<'a> {
    input: &'a str,
    /// Sticky: once the input is found invalid, every further scan returns this message.
    err: Option<String>,
    /// Byte offset of the current token.
    start: usize,
    /// Byte offset of the cursor.
    pos: usize,
    /// Width in bytes of the last rune read (0 at end of input).
    width: usize,
    /// Rune column of the current token.
    column: usize,
    /// Runes read so far.
    cols: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(input: &'a str) -> Self {
        Lexer { input, err: None, start: 0, pos: 0, width: 0, column: 0, cols: 0 }
    }

    /// The rune column of the cursor (`position().columnEnd` upstream).
    pub fn column_end(&self) -> usize {
        self.cols
    }

    /// Scans the next token; at the end of input it keeps returning an EOF token.
    pub fn scan(&mut self) -> Result<Token<'a>, String> {
        if let Some(err) = &self.err {
            return Err(err.clone());
        }
        while let Some(c) = self.next() {
            let result = match c {
                '{' => Ok(self.emit(TokenKind::OpenBrace)),
                '}' => Ok(self.emit(TokenKind::CloseBrace)),
                ',' => Ok(self.emit(TokenKind::Comma)),
                '=' | '!' => {
                    self.rewind();
                    self.scan_operator()
                }
                '"' => {
                    self.rewind();
                    self.scan_quoted()
                }
                c if !is_reserved(c) => {
                    self.rewind();
                    Ok(self.scan_unquoted())
                }
                c if c.is_whitespace() => {
                    self.skip();
                    continue;
                }
                _ => Err(self.invalid_input()),
            };
            if let Err(e) = &result {
                self.err = Some(e.clone());
            }
            return result;
        }
        Ok(Token::eof())
    }

    /// The next token without consuming it. A lexing error stays recorded, as upstream.
    pub fn peek(&mut self) -> Result<Token<'a>, String> {
        let saved = (self.start, self.pos, self.width, self.column, self.cols);
        let result = self.scan();
        (self.start, self.pos, self.width, self.column, self.cols) = saved;
        result
    }

    fn scan_operator(&mut self) -> Result<Token<'a>, String> {
        if self.accept("!") {
            if self.accept("=") {
                return Ok(self.emit(TokenKind::NotEquals));
            }
            if self.accept("~") {
                return Ok(self.emit(TokenKind::NotMatches));
            }
            return Err(self.expected("=~"));
        }
        if self.accept("=") {
            if self.accept("~") {
                return Ok(self.emit(TokenKind::Matches));
            }
            return Ok(self.emit(TokenKind::Equals));
        }
        Err(self.expected("!="))
    }

    fn scan_quoted(&mut self) -> Result<Token<'a>, String> {
        self.expect("\"")?;
        let mut escaped = false;
        while let Some(c) = self.next() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                self.rewind();
                break;
            }
        }
        if self.expect("\"").is_err() {
            let (cs, ce) = (self.column, self.cols);
            return Err(format!("{cs}:{ce}: {}: missing end \"", self.current_text()));
        }
        Ok(self.emit(TokenKind::Quoted))
    }

    fn scan_unquoted(&mut self) -> Token<'a> {
        while let Some(c) = self.next() {
            if is_reserved(c) {
                self.rewind();
                break;
            }
        }
        self.emit(TokenKind::Unquoted)
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.rewind();
                false
            }
        }
    }

    fn expect(&mut self, valid: &str) -> Result<(), String> {
        if self.accept(valid) {
            Ok(())
        } else {
            Err(self.expected(valid))
        }
    }

    /// Upstream `expectedError`.
    fn expected(&self, valid: &str) -> String {
        let (cs, ce) = (self.column, self.cols);
        if self.pos >= self.input.len() {
            format!("{cs}:{ce}: unexpected end of input, expected one of '{valid}'")
        } else {
            format!("{cs}:{ce}: {}: expected one of '{valid}'", self.current_text())
        }
    }

    /// Upstream `invalidInputError`.
    fn invalid_input(&self) -> String {
        format!("{}:{}: {}: invalid input", self.column, self.cols, self.current_text())
    }

    fn current_text(&self) -> &'a str {
        self.input.get(self.start..self.pos).unwrap_or("")
    }

    fn emit(&mut self, kind: TokenKind) -> Token<'a> {
        let t = Token { kind, value: self.current_text(), column_start: self.column, column_end: self.cols };
        self.start = self.pos;
        self.column = self.cols;
        t
    }

    fn next(&mut self) -> Option<char> {
        match self.input.get(self.pos..).and_then(|rest| rest.chars().next()) {
            Some(c) => {
                self.width = c.len_utf8();
                self.pos += self.width;
                self.cols += 1;
                Some(c)
            }
            None => {
                self.width = 0;
                None
            }
        }
    }

    /// Steps back over the last rune; a no-op after reading the end of input.
    fn rewind(&mut self) {
        self.pos -= self.width;
        if self.width > 0 {
            self.cols -= 1;
        }
    }

    fn skip(&mut self) {
        self.start = self.pos;
        self.column = self.cols;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: &str) -> Result<Vec<(TokenKind, &str, usize, usize)>, String> {
        let mut l = Lexer::new(input);
        let mut out = Vec::new();
        loop {
            let t = l.scan()?;
            if t.is_eof() {
                return Ok(out);
            }
            out.push((t.kind, t.value, t.column_start, t.column_end));
        }
    }

    #[test]
    fn scans_tokens_with_rune_columns() {
        use TokenKind::*;
        assert_eq!(
            tokens(r#"{ foo!="🙂", bar=~b}"#).unwrap(),
            vec![
                (OpenBrace, "{", 0, 1),
                (Unquoted, "foo", 2, 5),
                (NotEquals, "!=", 5, 7),
                (Quoted, "\"🙂\"", 7, 10),
                (Comma, ",", 10, 11),
                (Unquoted, "bar", 12, 15),
                (Matches, "=~", 15, 17),
                (Unquoted, "b", 17, 18),
                (CloseBrace, "}", 18, 19),
            ]
        );
        assert_eq!(tokens("a!~b").unwrap()[1], (NotMatches, "!~", 1, 3));
        assert_eq!(tokens("  ").unwrap(), vec![]);
    }

    #[test]
    fn lexing_errors() {
        let cases = [
            ("foo!bar", "3:4: !: expected one of '=~'"),
            ("foo!", "3:4: unexpected end of input, expected one of '=~'"),
            (r#"foo="bar"#, "4:8: \"bar: missing end \""),
            (r#"foo="bar\""#, "4:10: \"bar\\\": missing end \""),
            ("foo=bar\\n", "7:8: \\: invalid input"),
            ("a~b", "1:2: ~: invalid input"),
            ("'a'", "0:1: ': invalid input"),
        ];
        for (input, want) in cases {
            assert_eq!(tokens(input).unwrap_err(), want, "{input}");
        }
    }

    #[test]
    fn errors_are_sticky() {
        let mut l = Lexer::new("~a");
        assert!(l.peek().is_err());
        assert!(l.scan().is_err());
        assert_eq!(l.scan().unwrap_err(), "0:1: ~: invalid input");
    }
}
