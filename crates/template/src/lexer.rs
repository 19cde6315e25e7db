//! Tokenizer for Go's text/template syntax (a port of the item stream of Go's `text/template/parse/lex.go`).
//!
//! The whole input is tokenized up front; errors become an [`ItemKind::Error`] item as in Go, so the parser can
//! report them with the same wording (`unclosed action`, `unexpected right paren`, ...).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemKind {
    Error,
    Bool,
    Char,
    CharConstant,
    Declare,
    Assign,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    Dot,
    Nil,
    Comment,
    // Keywords.
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub kind: ItemKind,
    pub pos: usize,
    pub val: String,
    pub line: usize,
}

impl std::fmt::Display for Item {
    /// Mirrors Go's `item.String()`, used inside "unexpected X in Y" messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ItemKind::Eof => write!(f, "EOF"),
            ItemKind::Error => write!(f, "{}", self.val),
            k if k as u8 >= ItemKind::Block as u8 => write!(f, "<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let short: String = self.val.chars().take(10).collect();
                write!(f, "{}...", go_quote(&short))
            }
            _ => write!(f, "{}", go_quote(&self.val)),
        }
    }
}

/// Go's `%q` for a string (strconv.Quote), shared with the model crate's error messages.
pub(crate) use tocsin_model::labels::go_quote;

fn keyword(word: &str) -> Option<ItemKind> {
    Some(match word {
        "block" => ItemKind::Block,
        "break" => ItemKind::Break,
        "continue" => ItemKind::Continue,
        "define" => ItemKind::Define,
        "else" => ItemKind::Else,
        "end" => ItemKind::End,
        "if" => ItemKind::If,
        "range" => ItemKind::Range,
        "nil" => ItemKind::Nil,
        "template" => ItemKind::Template,
        "with" => ItemKind::With,
        _ => return None,
    })
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    items: Vec<Item>,
    paren_depth: i32,
    /// Line of `start`.
    start_line: usize,
}

/// Tokenizes `input`; the last item is always `Eof` or `Error`.
pub(crate) fn lex(input: &str) -> Vec<Item> {
    let mut l = Lexer { input, pos: 0, start: 0, items: Vec::new(), paren_depth: 0, start_line: 1 };
    l.run();
    l.items
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn emit(&mut self, kind: ItemKind) {
        let val = self.input[self.start..self.pos].to_string();
        let newlines = val.matches('\n').count();
        self.items.push(Item { kind, pos: self.start, val, line: self.start_line });
        self.start_line += newlines;
        self.start = self.pos;
    }

    fn ignore(&mut self) {
        self.start_line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
    }

    fn error(&mut self, msg: String) {
        let line = self.start_line + self.input[self.start..self.pos].matches('\n').count();
        self.items.push(Item { kind: ItemKind::Error, pos: self.start, val: msg, line });
    }

    fn run(&mut self) {
        loop {
            // Text state.
            let Some(idx) = self.rest().find(LEFT) else {
                self.pos = self.input.len();
                if self.pos > self.start {
                    self.emit(ItemKind::Text);
                }
                self.emit(ItemKind::Eof);
                return;
            };
            let delim_at = self.pos + idx;
            let after = &self.input[delim_at + LEFT.len()..];
            let trim = after.starts_with('-') && after[1..].starts_with(is_space);
            let mut text_end = delim_at;
            if trim {
                text_end = self.input[..delim_at].trim_end_matches(is_space).len().max(self.start);
            }
            self.pos = text_end;
            if self.pos > self.start {
                self.emit(ItemKind::Text);
            }
            self.pos = delim_at;
            self.ignore();
            if !self.left_delim(trim) {
                return;
            }
        }
    }

    /// Returns false when lexing stopped with an error.
    fn left_delim(&mut self, trim: bool) -> bool {
        self.pos += LEFT.len();
        let after_marker = if trim { 2 } else { 0 };
        if self.input[self.pos + after_marker..].starts_with("/*") {
            self.pos += after_marker;
            self.ignore();
            return self.comment();
        }
        self.emit(ItemKind::LeftDelim);
        self.pos += after_marker;
        self.ignore();
        self.paren_depth = 0;
        self.inside_action()
    }

    fn comment(&mut self) -> bool {
        let Some(end) = self.rest().find("*/") else {
            self.error("unclosed comment".into());
            return false;
        };
        self.pos += end + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            self.error("comment ends before closing delimiter".into());
            return false;
        }
        self.emit(ItemKind::Comment);
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT.len();
        if trim {
            self.pos += self.rest().len() - self.rest().trim_start_matches(is_space).len();
        }
        self.ignore();
        true
    }

    /// (at a right delimiter, with a trim marker).
    fn at_right_delim(&self) -> (bool, bool) {
        let r = self.rest();
        if r.starts_with(is_space) && r[1..].starts_with("-}}") {
            return (true, true);
        }
        (r.starts_with(RIGHT), false)
    }

    fn inside_action(&mut self) -> bool {
        loop {
            let (delim, trim) = self.at_right_delim();
            if delim && self.paren_depth == 0 {
                if trim {
                    self.pos += 2;
                    self.ignore();
                }
                self.pos += RIGHT.len();
                self.emit(ItemKind::RightDelim);
                if trim {
                    self.pos += self.rest().len() - self.rest().trim_start_matches(is_space).len();
                    self.ignore();
                }
                return true;
            }
            let Some(c) = self.next() else {
                self.error("unclosed action".into());
                return false;
            };
            match c {
                c if is_space(c) => {
                    // Stop before a trim marker so it is recognised.
                    while let Some(c) = self.peek() {
                        if !is_space(c) || self.at_right_delim().1 {
                            break;
                        }
                        self.next();
                    }
                    self.emit(ItemKind::Space);
                }
                '=' => self.emit(ItemKind::Assign),
                ':' => {
                    if self.next() != Some('=') {
                        self.error("expected :=".into());
                        return false;
                    }
                    self.emit(ItemKind::Declare);
                }
                '|' => self.emit(ItemKind::Pipe),
                '"' => {
                    if !self.quote() {
                        return false;
                    }
                }
                '`' => match self.rest().find('`') {
                    Some(i) => {
                        self.pos += i + 1;
                        self.emit(ItemKind::RawString);
                    }
                    None => {
                        self.error("unterminated raw quoted string".into());
                        return false;
                    }
                },
                '$' => {
                    self.eat_alnum();
                    self.emit(ItemKind::Variable);
                }
                '\'' => {
                    if !self.char_const() {
                        return false;
                    }
                }
                '.' => {
                    if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        self.pos -= 1;
                        if !self.number() {
                            return false;
                        }
                    } else {
                        self.eat_alnum();
                        if self.pos - self.start == 1 {
                            self.emit(ItemKind::Dot);
                        } else {
                            if !self.check_term() {
                                return false;
                            }
                            self.emit(ItemKind::Field);
                        }
                    }
                }
                '+' | '-' | '0'..='9' => {
                    self.pos -= 1;
                    if !self.number() {
                        return false;
                    }
                }
                c if is_alnum(c) => {
                    self.eat_alnum();
                    if !self.check_term() {
                        return false;
                    }
                    let word = &self.input[self.start..self.pos];
                    let kind = match keyword(word) {
                        Some(k) => k,
                        None if word == "true" || word == "false" => ItemKind::Bool,
                        None => ItemKind::Identifier,
                    };
                    self.emit(kind);
                }
                '(' => {
                    self.paren_depth += 1;
                    self.emit(ItemKind::LeftParen);
                }
                ')' => {
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        self.error(format!("unexpected right paren {}", unicode_fmt(c)));
                        return false;
                    }
                    self.emit(ItemKind::RightParen);
                }
                c if c.is_ascii() && !c.is_ascii_control() => self.emit(ItemKind::Char),
                c => {
                    self.error(format!("unrecognized character in action: {}", unicode_fmt(c)));
                    return false;
                }
            }
        }
    }

    fn eat_alnum(&mut self) {
        while self.peek().is_some_and(is_alnum) {
            self.next();
        }
    }

    /// Go's `atTerminator`: what may follow an identifier or field.
    fn check_term(&mut self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) || matches!(c, '.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) if self.rest().starts_with(RIGHT) => true,
            Some(c) => {
                self.error(format!("bad character {}", unicode_fmt(c)));
                false
            }
        }
    }

    fn quote(&mut self) -> bool {
        loop {
            match self.next() {
                Some('\\') => {
                    if matches!(self.next(), None | Some('\n')) {
                        self.error("unterminated quoted string".into());
                        return false;
                    }
                }
                None | Some('\n') => {
                    self.error("unterminated quoted string".into());
                    return false;
                }
                Some('"') => break,
                Some(_) => {}
            }
        }
        self.emit(ItemKind::String);
        true
    }

    fn char_const(&mut self) -> bool {
        loop {
            match self.next() {
                Some('\\') => {
                    if matches!(self.next(), None | Some('\n')) {
                        self.error("unterminated character constant".into());
                        return false;
                    }
                }
                None | Some('\n') => {
                    self.error("unterminated character constant".into());
                    return false;
                }
                Some('\'') => break,
                Some(_) => {}
            }
        }
        self.emit(ItemKind::CharConstant);
        true
    }

    /// Scans a number leniently (sign, digits, letters, dots, exponent signs); the parser validates it.
    fn number(&mut self) -> bool {
        if matches!(self.peek(), Some('+' | '-')) {
            self.next();
        }
        let mut prev = ' ';
        while let Some(c) = self.peek() {
            let ok = c.is_ascii_alphanumeric()
                || c == '_'
                || c == '.'
                || (matches!(c, '+' | '-') && matches!(prev, 'e' | 'E' | 'p' | 'P'));
            if !ok {
                break;
            }
            prev = c;
            self.next();
        }
        if self.peek().is_some_and(is_alnum) {
            self.next();
            let text = self.input[self.start..self.pos].to_string();
            self.error(format!("bad number syntax: {}", go_quote(&text)));
            return false;
        }
        self.emit(ItemKind::Number);
        true
    }
}

/// Go's `%#U`: `U+0023 '#'`.
fn unicode_fmt(c: char) -> String {
    format!("U+{:04X} '{}'", c as u32, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(ItemKind, String)> {
        lex(s).into_iter().map(|i| (i.kind, i.val)).collect()
    }

    #[test]
    fn trims_and_fields() {
        let k = kinds("a  {{- .A.B -}}  b");
        assert_eq!(k[0], (ItemKind::Text, "a".into()));
        assert_eq!(k[2], (ItemKind::Field, ".A".into()));
        assert_eq!(k[3], (ItemKind::Field, ".B".into()));
        assert_eq!(k[4].0, ItemKind::RightDelim);
        assert_eq!(k[5], (ItemKind::Text, "b".into()));
    }

    #[test]
    fn comment_is_dropped_and_trims() {
        let k = kinds("x \n{{- /* c */ -}}\n y");
        assert_eq!(k[0], (ItemKind::Text, "x".into()));
        assert_eq!(k[1].0, ItemKind::Comment);
        assert_eq!(k[2], (ItemKind::Text, "y".into()));
    }

    #[test]
    fn unclosed_action_is_error() {
        let k = kinds("{{ .A ");
        assert_eq!(k.last().unwrap(), &(ItemKind::Error, "unclosed action".to_string()));
    }

    #[test]
    fn lines_are_counted() {
        let items = lex("a\nb{{ .X }}\n{{ .Y }}");
        let y = items.iter().find(|i| i.val == ".Y").unwrap();
        assert_eq!(y.line, 3);
    }
}
