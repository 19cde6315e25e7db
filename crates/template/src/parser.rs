//! Parser for Go's text/template, a port of `text/template/parse/parse.go`: same grammar, same scoping of variables,
//! same error wording (`template: NAME:LINE: ...`) so operators see the messages they know from Alertmanager.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ast::{Arg, ArgKind, Branch, Command, Node, Number, Pipe};
use crate::error::TemplateError;
use crate::lexer::{lex, Item, ItemKind};

/// One named template: the body of a `define`/`block` or the top level of a file.
#[derive(Debug, Clone)]
pub(crate) struct Tree {
    pub name: String,
    /// The file (or parse unit) name that errors mention.
    pub parse_name: String,
    /// The whole source text, to turn byte offsets into line:column in execution errors.
    pub text: Arc<str>,
    pub root: Vec<Node>,
    /// `missingkey=zero`: a missing map key yields the element's zero value (`""` for KV) instead of an invalid
    /// value printed as `<no value>`. Go keeps this option per template and `New` does not inherit it, so in
    /// Alertmanager only the top level of a rendered config string has it, never a `define`d template.
    pub missing_zero: bool,
}

impl Tree {
    /// Go's `IsEmptyTree`: only whitespace text (and comments), so a re-definition would not replace a real one.
    pub(crate) fn is_empty(&self) -> bool {
        self.root.iter().all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
    }

    /// Go's `ErrorContext` location: `name:line:col` with a 0-based byte column.
    pub(crate) fn location(&self, pos: usize) -> String {
        let pos = pos.min(self.text.len());
        let before = &self.text[..pos];
        let col = match before.rfind('\n') {
            Some(nl) => pos - (nl + 1),
            None => pos,
        };
        let line = 1 + before.matches('\n').count();
        format!("{}:{}:{}", self.parse_name, line, col)
    }
}

type PResult<T> = Result<T, TemplateError>;

/// How deeply parentheses, `if`/`range`/`with`/`block` and `else if` chains may nest. Go bounds parentheses at
/// 10000 and relies on growable stacks for the rest; our parser and executor recurse on the thread's stack
/// (2 MiB on tokio workers), so untrusted templates are bounded well below what would overflow it. Real templates
/// nest a handful of levels.
pub(crate) const MAX_NESTING: usize = 100;

struct Parser<'f> {
    items: Vec<Item>,
    idx: usize,
    parse_name: String,
    text: Arc<str>,
    vars: Vec<String>,
    range_depth: usize,
    /// Current nesting of parentheses and control structures, bounded by [`MAX_NESTING`].
    nesting: usize,
    action_line: usize,
    /// Line of the last token read, as Go's `t.token[0].line` in errors.
    last_line: usize,
    trees: Vec<Tree>,
    is_func: &'f dyn Fn(&str) -> bool,
}

/// Parses `text` (named `name`, e.g. the file's base name) into its trees: the top-level one named `name` and one
/// per `define`/`block`, in definition order.
pub(crate) fn parse(name: &str, text: &str, is_func: &dyn Fn(&str) -> bool) -> PResult<Vec<Tree>> {
    let text: Arc<str> = Arc::from(text);
    let mut p = Parser {
        items: lex(&text),
        idx: 0,
        parse_name: name.to_string(),
        text: text.clone(),
        vars: vec!["$".into()],
        range_depth: 0,
        nesting: 0,
        action_line: 0,
        last_line: 1,
        trees: Vec::new(),
        is_func,
    };
    let mut root = Vec::new();
    while p.peek().kind != ItemKind::Eof {
        if p.peek().kind == ItemKind::LeftDelim {
            let save = p.idx;
            p.next();
            if p.next_non_space().kind == ItemKind::Define {
                p.parse_definition()?;
                continue;
            }
            p.idx = save;
        }
        let n = p.text_or_action()?;
        match n {
            Parsed::End | Parsed::Else(_) => return Err(p.errorf(format!("unexpected {}", n.describe()))),
            Parsed::Node(Some(n)) => root.push(n),
            Parsed::Node(None) => {}
        }
    }
    let mut trees =
        vec![Tree { name: name.to_string(), parse_name: name.to_string(), text, root, missing_zero: false }];
    trees.append(&mut p.trees);
    Ok(trees)
}

/// What `textOrAction` yields: a node (None for comments), or the `end`/`else` that closes a list.
enum Parsed {
    Node(Option<Node>),
    End,
    /// `else`; true when it is immediately followed by `if` (the "else if" form).
    Else(bool),
}

impl Parsed {
    fn describe(&self) -> &'static str {
        match self {
            Parsed::End => "{{end}}",
            Parsed::Else(_) => "{{else}}",
            Parsed::Node(_) => "node",
        }
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Item {
        &self.items[self.idx.min(self.items.len() - 1)]
    }

    fn next(&mut self) -> Item {
        let it = self.items[self.idx.min(self.items.len() - 1)].clone();
        self.idx += 1;
        self.last_line = it.line;
        it
    }

    fn backup(&mut self) {
        self.idx -= 1;
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let it = self.next();
            if it.kind != ItemKind::Space {
                return it;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let it = self.next_non_space();
        self.backup();
        it
    }

    fn errorf(&self, msg: String) -> TemplateError {
        TemplateError::Parse(format!("template: {}:{}: {}", self.parse_name, self.last_line, msg))
    }

    fn unexpected(&self, item: &Item, context: &str) -> TemplateError {
        if item.kind == ItemKind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != item.line {
                extra = format!(" in action started at {}:{}", self.parse_name, self.action_line);
                if item.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{}{}", item.val, extra));
        }
        self.errorf(format!("unexpected {item} in {context}"))
    }

    fn expect(&mut self, kind: ItemKind, context: &str) -> PResult<Item> {
        let it = self.next_non_space();
        if it.kind != kind {
            return Err(self.unexpected(&it, context));
        }
        Ok(it)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let name_item = self.next_non_space();
        if !matches!(name_item.kind, ItemKind::String | ItemKind::RawString) {
            return Err(self.unexpected(&name_item, context));
        }
        let name = self.unquote(&name_item.val)?;
        self.expect(ItemKind::RightDelim, context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (root, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, Parsed::End) {
            return Err(self.errorf(format!("unexpected {} in {context}", end.describe())));
        }
        self.trees.push(Tree {
            name,
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root,
            missing_zero: false,
        });
        Ok(())
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, Parsed)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != ItemKind::Eof {
            match self.text_or_action()? {
                Parsed::Node(Some(n)) => list.push(n),
                Parsed::Node(None) => {}
                other => return Ok((list, other)),
            }
        }
        Err(self.errorf("unexpected EOF".into()))
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let tok = self.next_non_space();
        match tok.kind {
            ItemKind::Text => Ok(Parsed::Node(Some(Node::Text(tok.val)))),
            ItemKind::LeftDelim => {
                self.action_line = tok.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            ItemKind::Comment => Ok(Parsed::Node(None)),
            _ => Err(self.unexpected(&tok, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let tok = self.next_non_space();
        let node = match tok.kind {
            ItemKind::Block => self.block_control()?,
            ItemKind::Break | ItemKind::Continue => {
                let word = if tok.kind == ItemKind::Break { "break" } else { "continue" };
                if self.range_depth == 0 {
                    return Err(self.errorf(format!("{{{{{word}}}}} outside {{{{range}}}}")));
                }
                self.expect(ItemKind::RightDelim, &format!("{{{{{word}}}}}"))?;
                if tok.kind == ItemKind::Break {
                    Node::Break
                } else {
                    Node::Continue
                }
            }
            ItemKind::Else => {
                if self.peek_non_space().kind == ItemKind::If {
                    return Ok(Parsed::Else(true));
                }
                self.expect(ItemKind::RightDelim, "else")?;
                return Ok(Parsed::Else(false));
            }
            ItemKind::End => {
                self.expect(ItemKind::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            ItemKind::If => Node::If(self.parse_control(true, "if")?),
            ItemKind::Range => Node::Range(self.parse_control(false, "range")?),
            ItemKind::With => Node::With(self.parse_control(false, "with")?),
            ItemKind::Template => self.template_control()?,
            _ => {
                self.backup();
                let pos = self.peek().pos;
                let pipe = self.pipeline("command", ItemKind::RightDelim)?;
                Node::Action { pos, pipe }
            }
        };
        Ok(Parsed::Node(Some(node)))
    }

    /// Enters one level of nesting, failing with Go's message beyond [`MAX_NESTING`]; the caller leaves it.
    fn enter(&mut self) -> PResult<()> {
        if self.nesting >= MAX_NESTING {
            return Err(self.errorf("max expression depth exceeded".into()));
        }
        self.nesting += 1;
        Ok(())
    }

    fn parse_control(&mut self, allow_else_if: bool, context: &str) -> PResult<Branch> {
        self.enter()?;
        let r = self.parse_control_nested(allow_else_if, context);
        self.nesting -= 1;
        r
    }

    fn parse_control_nested(&mut self, allow_else_if: bool, context: &str) -> PResult<Branch> {
        let nvars = self.vars.len();
        let pos = self.peek_non_space().pos;
        let pipe = self.pipeline(context, ItemKind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        match next {
            Parsed::Else(else_if) => {
                if allow_else_if && else_if {
                    self.next_non_space(); // consume "if"
                    let inner = self.parse_control(true, "if")?;
                    else_list = Some(vec![Node::If(inner)]);
                } else {
                    if else_if {
                        // `{{else if}}` where not allowed: "if" is read as part of the else clause.
                        let tok = self.next_non_space();
                        return Err(self.unexpected(&tok, "else"));
                    }
                    let (l, end) = self.item_list()?;
                    if !matches!(end, Parsed::End) {
                        return Err(self.errorf(format!("expected end; found {}", end.describe())));
                    }
                    else_list = Some(l);
                }
            }
            Parsed::End => {}
            Parsed::Node(_) => {}
        }
        self.vars.truncate(nvars);
        Ok(Branch { pos, pipe, list, else_list })
    }

    fn template_name(&mut self, tok: &Item, context: &str) -> PResult<String> {
        match tok.kind {
            ItemKind::String | ItemKind::RawString => self.unquote(&tok.val),
            _ => Err(self.unexpected(tok, context)),
        }
    }

    fn template_control(&mut self) -> PResult<Node> {
        let context = "template clause";
        let tok = self.next_non_space();
        let name = self.template_name(&tok, context)?;
        let pipe = if self.next_non_space().kind != ItemKind::RightDelim {
            self.backup();
            Some(self.pipeline(context, ItemKind::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template { pos: tok.pos, name, pipe })
    }

    fn block_control(&mut self) -> PResult<Node> {
        let context = "block clause";
        let tok = self.next_non_space();
        let name = self.template_name(&tok, context)?;
        let pipe = self.pipeline(context, ItemKind::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        self.enter()?;
        let listed = self.item_list();
        self.nesting -= 1;
        let (root, end) = listed?;
        self.vars = saved_vars;
        self.range_depth = saved_depth;
        if !matches!(end, Parsed::End) {
            return Err(self.errorf(format!("unexpected {} in {context}", end.describe())));
        }
        self.trees.push(Tree {
            name: name.clone(),
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root,
            missing_zero: false,
        });
        Ok(Node::Template { pos: tok.pos, name, pipe: Some(pipe) })
    }

    fn pipeline(&mut self, context: &str, end: ItemKind) -> PResult<Pipe> {
        let mut pipe = Pipe { is_assign: false, decl: Vec::new(), cmds: Vec::new() };
        'decls: loop {
            let v = self.peek_non_space();
            if v.kind != ItemKind::Variable {
                break;
            }
            let v = self.next_non_space();
            let var_idx = self.idx - 1;
            let nxt = self.peek_non_space();
            match nxt.kind {
                ItemKind::Assign | ItemKind::Declare => {
                    pipe.is_assign = nxt.kind == ItemKind::Assign;
                    self.next_non_space();
                    if pipe.is_assign && !self.vars.contains(&v.val) {
                        return Err(self.errorf(format!("undefined variable {:?}", v.val)));
                    }
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                }
                ItemKind::Char if nxt.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            ItemKind::Variable | ItemKind::RightDelim | ItemKind::RightParen => {
                                continue 'decls
                            }
                            _ => return Err(self.errorf("range can only initialize variables".into())),
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => {
                    // Not a declaration: put the variable back (the space after it matters to the command).
                    self.idx = var_idx;
                }
            }
            break;
        }
        loop {
            let tok = self.next_non_space();
            match tok.kind {
                k if k == end => {
                    if pipe.cmds.is_empty() {
                        return Err(self.errorf(format!("missing value for {context}")));
                    }
                    for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                        if matches!(
                            c.args[0].kind,
                            ArgKind::Bool(_)
                                | ArgKind::Dot
                                | ArgKind::Nil
                                | ArgKind::Number(..)
                                | ArgKind::String(..)
                        ) {
                            return Err(
                                self.errorf(format!("non executable command in pipeline stage {}", i + 1))
                            );
                        }
                    }
                    return Ok(pipe);
                }
                ItemKind::Bool
                | ItemKind::CharConstant
                | ItemKind::Dot
                | ItemKind::Field
                | ItemKind::Identifier
                | ItemKind::Number
                | ItemKind::Nil
                | ItemKind::RawString
                | ItemKind::String
                | ItemKind::Variable
                | ItemKind::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return Err(self.unexpected(&tok, context)),
            }
        }
    }

    fn command(&mut self) -> PResult<Command> {
        self.peek_non_space();
        let mut cmd = Command { args: Vec::new() };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let tok = self.next();
            match tok.kind {
                ItemKind::Space => continue,
                ItemKind::RightDelim | ItemKind::RightParen => self.backup(),
                ItemKind::Pipe => {}
                _ => return Err(self.unexpected(&tok, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command".into()));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != ItemKind::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == ItemKind::Field {
            fields.push(self.next().val[1..].to_string());
        }
        let kind = match node.kind {
            ArgKind::Field(mut f) => {
                f.extend(fields);
                ArgKind::Field(f)
            }
            ArgKind::Variable(name, mut f) => {
                f.extend(fields);
                ArgKind::Variable(name, f)
            }
            ArgKind::Bool(_) | ArgKind::String(..) | ArgKind::Number(..) | ArgKind::Nil | ArgKind::Dot => {
                return Err(self.errorf(format!("unexpected . after term {:?}", node.to_string())));
            }
            _ => ArgKind::Chain(Box::new(node), fields),
        };
        Ok(Some(Arg { pos: chain_pos, kind }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let tok = self.next_non_space();
        let pos = tok.pos;
        let kind = match tok.kind {
            ItemKind::Identifier => {
                if !(self.is_func)(&tok.val) {
                    return Err(self.errorf(format!("function {:?} not defined", tok.val)));
                }
                ArgKind::Identifier(tok.val)
            }
            ItemKind::Dot => ArgKind::Dot,
            ItemKind::Nil => ArgKind::Nil,
            ItemKind::Variable => {
                let mut parts = tok.val.split('.');
                let name = parts.next().unwrap_or("$").to_string();
                if !self.vars.contains(&name) {
                    return Err(self.errorf(format!("undefined variable {:?}", name)));
                }
                ArgKind::Variable(name, Vec::new())
            }
            ItemKind::Field => ArgKind::Field(vec![tok.val[1..].to_string()]),
            ItemKind::Bool => ArgKind::Bool(tok.val == "true"),
            ItemKind::CharConstant | ItemKind::Number => {
                let n = self.number(&tok)?;
                ArgKind::Number(n, tok.val)
            }
            ItemKind::LeftParen => {
                self.enter()?;
                let p = self.pipeline("parenthesized pipeline", ItemKind::RightParen);
                self.nesting -= 1;
                ArgKind::Pipe(Box::new(p?))
            }
            ItemKind::String | ItemKind::RawString => {
                let s = self.unquote(&tok.val)?;
                ArgKind::String(tok.val, s)
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(Arg { pos, kind }))
    }

    fn number(&self, tok: &Item) -> PResult<Number> {
        if tok.kind == ItemKind::CharConstant {
            let inner = &tok.val[1..tok.val.len() - 1];
            let s = unquote_chars(inner, '\'')
                .map_err(|_| self.errorf(format!("malformed character constant: {}", tok.val)))?;
            let mut it = s.chars();
            return match (it.next(), it.next()) {
                (Some(c), None) => Ok(Number::Int(c as i64)),
                _ => Err(self.errorf(format!("malformed character constant: {}", tok.val))),
            };
        }
        parse_go_number(&tok.val).ok_or_else(|| self.errorf(format!("illegal number syntax: {:?}", tok.val)))
    }

    fn unquote(&self, quoted: &str) -> PResult<String> {
        if let Some(raw) = quoted.strip_prefix('`') {
            return Ok(raw.trim_end_matches('`').replace('\r', ""));
        }
        let inner = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or("");
        unquote_chars(inner, '"').map_err(|_| self.errorf("invalid syntax".into()))
    }
}

/// Go's integer/float literal rules (underscores, 0x/0o/0b prefixes, leading-zero octal, exponents).
pub(crate) fn parse_go_number(text: &str) -> Option<Number> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') {
        return None;
    }
    let clean = body.replace('_', "");
    let lower = clean.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        if h.contains(['.', 'p']) {
            None
        } else {
            i64::from_str_radix(h, 16).ok()
        }
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit()) {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else if lower.bytes().all(|b| b.is_ascii_digit()) {
        lower.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Some(Number::Int(if neg { -i } else { i }));
    }
    if lower.starts_with("0x")
        || !lower.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    let f: f64 = lower.parse().ok()?;
    let f = if neg { -f } else { f };
    // Go keeps a float literal with an exact integer value as a float (`1e3` prints 1000).
    Some(Number::Float(f))
}

/// Interprets Go escape sequences in the body of a quoted string or char literal.
pub(crate) fn unquote_chars(s: &str, quote: char) -> Result<String, ()> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == quote || c == '\n' {
            return Err(());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or(())?;
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '\'' if quote == '\'' => out.push('\''),
            '"' if quote == '"' => out.push('"'),
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(n).collect();
                if hex.len() != n {
                    return Err(());
                }
                let v = u32::from_str_radix(&hex, 16).map_err(|_| ())?;
                if e == 'x' {
                    // A byte; only valid UTF-8 sequences survive in a Rust string.
                    out.push(char::from_u32(v).ok_or(())?);
                } else {
                    out.push(char::from_u32(v).ok_or(())?);
                }
            }
            '0'..='7' => {
                let rest: String = chars.by_ref().take(2).collect();
                let v = u32::from_str_radix(&format!("{e}{rest}"), 8).map_err(|_| ())?;
                if rest.len() != 2 || v > 255 {
                    return Err(());
                }
                out.push(char::from_u32(v).ok_or(())?);
            }
            _ => return Err(()),
        }
    }
    Ok(out)
}

/// All trees of a parse, by name, later ones winning unless they are empty (Go's `associate`).
pub(crate) fn merge_trees(into: &mut BTreeMap<String, Arc<Tree>>, trees: Vec<Tree>) {
    for t in trees {
        if t.is_empty() && into.contains_key(&t.name) {
            continue;
        }
        into.insert(t.name.clone(), Arc::new(t));
    }
}
