//! The parse tree, shaped like Go's `text/template/parse` nodes. `Display` reproduces Go's `Node.String()`, which
//! execution errors quote (`executing "x" at <.Labels.foo>: ...`).

use std::fmt;

use crate::lexer::go_quote;

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Action { pos: usize, pipe: Pipe },
    If(Branch),
    Range(Branch),
    With(Branch),
    Template { pos: usize, name: String, pipe: Option<Pipe> },
    Break,
    Continue,
}

#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Pipe {
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

#[derive(Debug, Clone)]
pub(crate) struct Command {
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

#[derive(Debug, Clone)]
pub(crate) enum ArgKind {
    /// `.A.B`: field names without dots; empty never happens (that is `Dot`).
    Field(Vec<String>),
    /// `$x.A.B`: name (with `$`) and fields.
    Variable(String, Vec<String>),
    /// `(pipe).A`, `fn.A` (in Go only pipes and identifiers can be chained this way).
    Chain(Box<Arg>, Vec<String>),
    Identifier(String),
    Dot,
    Nil,
    Bool(bool),
    Number(Number, String),
    String(String, String),
    Pipe(Box<Pipe>),
}

#[derive(Debug, Clone)]
pub(crate) struct Arg {
    pub pos: usize,
    pub kind: ArgKind,
}

fn write_fields(f: &mut fmt::Formatter<'_>, fields: &[String]) -> fmt::Result {
    for field in fields {
        write!(f, ".{field}")?;
    }
    Ok(())
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ArgKind::Field(fields) => write_fields(f, fields),
            ArgKind::Variable(name, fields) => {
                write!(f, "{name}")?;
                write_fields(f, fields)
            }
            ArgKind::Chain(node, fields) => {
                if matches!(node.kind, ArgKind::Pipe(_)) {
                    write!(f, "({node})")?;
                } else {
                    write!(f, "{node}")?;
                }
                write_fields(f, fields)
            }
            ArgKind::Identifier(name) => write!(f, "{name}"),
            ArgKind::Dot => write!(f, "."),
            ArgKind::Nil => write!(f, "nil"),
            ArgKind::Bool(b) => write!(f, "{b}"),
            ArgKind::Number(_, text) | ArgKind::String(text, _) => write!(f, "{text}"),
            ArgKind::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            if let ArgKind::Pipe(_) = arg.kind {
                write!(f, "({arg})")?;
            } else {
                write!(f, "{arg}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            write!(f, "{}", self.decl.join(", "))?;
            write!(f, "{}", if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                write!(f, " | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl Node {
    /// Go's String() for the nodes an error can point at.
    pub(crate) fn describe(&self) -> String {
        match self {
            Node::Action { pipe, .. } => format!("{{{{{pipe}}}}}"),
            Node::Template { name, pipe, .. } => match pipe {
                Some(p) => format!("{{{{template {} {p}}}}}", go_quote(name)),
                None => format!("{{{{template {}}}}}", go_quote(name)),
            },
            Node::Text(t) => go_quote(t),
            _ => String::new(),
        }
    }
}
