//! The evaluator: walks a parsed tree over a [`Value`] as Go's `text/template/exec.go` does (variables and their
//! scopes, pipelines, `if`/`range`/`with`, `break`/`continue`, template calls, `missingkey=zero`), with errors worded
//! like Go's: `template: NAME:LINE:COL: executing "NAME" at <NODE>: message`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::ast::{Arg, ArgKind, Branch, Command, Node, Number, Pipe};
use crate::error::TemplateError;
use crate::funcs::{self, Ty};
use crate::methods;
use crate::parser::Tree;
use crate::value::Value;

/// How interpolated values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Text,
    /// HTML-escape every printed value except `safeHtml` ones (a simplification of html/template).
    Html,
}

/// Go bounds template recursion at 100000; Rust stacks are smaller (2 MiB on tokio workers), so we stop far
/// earlier with the same message. The budget is shared by `template` calls and nested `if`/`with`/`range`
/// bodies, since a recursive template can nest controls at every level (the parser bounds one template's nesting
/// at `MAX_NESTING`, not the sum along a call chain).
const MAX_DEPTH: usize = 200;

pub(crate) struct Exec<'a> {
    pub trees: &'a BTreeMap<String, Arc<Tree>>,
    pub mode: Mode,
    pub now: DateTime<Utc>,
    pub out: String,
    tree: Arc<Tree>,
    vars: Vec<(String, Value)>,
    depth: usize,
    /// The node errors point at: (byte position, Go's String() of the node).
    node: Option<(usize, String)>,
}

/// Control flow out of a list: `break`/`continue` travel up to the enclosing `range`.
enum Flow {
    Normal,
    Break,
    Continue,
}

type EResult<T> = Result<T, TemplateError>;

impl<'a> Exec<'a> {
    pub(crate) fn new(
        trees: &'a BTreeMap<String, Arc<Tree>>,
        tree: Arc<Tree>,
        mode: Mode,
        now: DateTime<Utc>,
    ) -> Self {
        Exec { trees, mode, now, out: String::new(), tree, vars: Vec::new(), depth: 0, node: None }
    }

    pub(crate) fn run(&mut self, dot: Value) -> EResult<()> {
        self.vars = vec![("$".into(), dot.clone())];
        let tree = self.tree.clone();
        self.walk_list(&dot, &tree.root)?;
        Ok(())
    }

    fn at(&mut self, pos: usize, ctx: String) {
        self.node = Some((pos, ctx));
    }

    pub(crate) fn errorf(&self, msg: impl Into<String>) -> TemplateError {
        let msg = msg.into();
        let name = &self.tree.name;
        TemplateError::Exec(match &self.node {
            None => format!("template: {name}: {msg}"),
            Some((pos, ctx)) => {
                format!("template: {}: executing {:?} at <{}>: {}", self.tree.location(*pos), name, ctx, msg)
            }
        })
    }

    fn walk_list(&mut self, dot: &Value, list: &[Node]) -> EResult<Flow> {
        for n in list {
            match self.walk(dot, n)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &Node) -> EResult<Flow> {
        if !matches!(node, Node::If(_) | Node::With(_) | Node::Range(_)) {
            return self.walk_node(dot, node);
        }
        if self.depth >= MAX_DEPTH {
            return Err(self.errorf(format!("exceeded maximum template depth ({MAX_DEPTH})")));
        }
        self.depth += 1;
        let r = self.walk_node(dot, node);
        self.depth -= 1;
        r
    }

    fn walk_node(&mut self, dot: &Value, node: &Node) -> EResult<Flow> {
        match node {
            Node::Text(t) => self.out.push_str(t),
            Node::Action { pos, pipe } => {
                self.at(*pos, node.describe());
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at(*pos, node.describe());
                    self.print(&v)?;
                }
            }
            Node::If(b) | Node::With(b) => {
                let mark = self.vars.len();
                let v = self.eval_pipeline(dot, &b.pipe)?;
                let flow = if v.truth() {
                    let d = if matches!(node, Node::With(_)) { v } else { dot.clone() };
                    self.walk_list(&d, &b.list)?
                } else if let Some(e) = &b.else_list {
                    self.walk_list(dot, e)?
                } else {
                    Flow::Normal
                };
                self.vars.truncate(mark);
                return Ok(flow);
            }
            Node::Range(b) => {
                let mark = self.vars.len();
                let flow = self.walk_range(dot, b)?;
                self.vars.truncate(mark);
                return Ok(flow);
            }
            Node::Template { pos, name, pipe } => {
                self.at(*pos, node.describe());
                let Some(tree) = self.trees.get(name).cloned() else {
                    return Err(self.errorf(format!("template {name:?} not defined")));
                };
                let new_dot = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => Value::Nil,
                };
                if self.depth >= MAX_DEPTH {
                    return Err(self.errorf(format!("exceeded maximum template depth ({MAX_DEPTH})")));
                }
                let saved_vars = std::mem::replace(&mut self.vars, vec![("$".into(), new_dot.clone())]);
                let saved_tree = std::mem::replace(&mut self.tree, tree.clone());
                let saved_node = self.node.take();
                self.depth += 1;
                let r = self.walk_list(&new_dot, &tree.root);
                self.depth -= 1;
                self.vars = saved_vars;
                self.tree = saved_tree;
                self.node = saved_node;
                r?;
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_range(&mut self, dot: &Value, b: &Branch) -> EResult<Flow> {
        self.at(b.pos, format!("{{{{range {}}}}}", b.pipe));
        let val = self.eval_pipeline_no_decl(dot, &b.pipe)?;
        let items: Vec<(Value, Value)> = match val {
            Value::Nil => Vec::new(),
            Value::List(l) => l.into_iter().enumerate().map(|(i, v)| (Value::Int(i as i64), v)).collect(),
            Value::Alerts { alerts, .. } => {
                alerts.iter().enumerate().map(|(i, a)| (Value::Int(i as i64), Value::from_alert(a))).collect()
            }
            Value::Pairs(p) => p
                .into_iter()
                .enumerate()
                .map(|(i, (n, v))| (Value::Int(i as i64), Value::Pair(n, v)))
                .collect(),
            Value::Kv(kv) => kv.into_iter().map(|(k, v)| (Value::String(k), Value::String(v))).collect(),
            Value::Map(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            other => {
                return Err(self.errorf(format!("range can't iterate over {}", other.go_string())));
            }
        };
        if items.is_empty() {
            if let Some(e) = &b.else_list {
                return self.walk_list(dot, e);
            }
            return Ok(Flow::Normal);
        }
        for (k, v) in items {
            let mark = self.vars.len();
            match b.pipe.decl.len() {
                0 => {}
                1 => self.vars.push((b.pipe.decl[0].clone(), v.clone())),
                _ => {
                    self.vars.push((b.pipe.decl[0].clone(), k));
                    self.vars.push((b.pipe.decl[1].clone(), v.clone()));
                }
            }
            let flow = self.walk_list(&v, &b.list)?;
            self.vars.truncate(mark);
            if let Flow::Break = flow {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    fn print(&mut self, v: &Value) -> EResult<()> {
        let s = match v {
            Value::Nil => "<no value>".to_string(),
            v => v.go_string(),
        };
        match (self.mode, v) {
            (Mode::Html, Value::Html(_)) | (Mode::Text, _) => self.out.push_str(&s),
            (Mode::Html, _) => self.out.push_str(&funcs::html_autoescape(&s)),
        }
        Ok(())
    }

    fn eval_pipeline_no_decl(&mut self, dot: &Value, pipe: &Pipe) -> EResult<Value> {
        let mut value: Option<Value> = None;
        for c in &pipe.cmds {
            value = Some(self.eval_command(dot, c, value)?);
        }
        Ok(value.unwrap_or(Value::Nil))
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &Pipe) -> EResult<Value> {
        let value = self.eval_pipeline_no_decl(dot, pipe)?;
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn set_var(&mut self, name: &str, v: Value) -> EResult<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => Err(self.errorf(format!("undefined variable: {name}"))),
        }
    }

    fn var(&self, name: &str) -> EResult<Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.errorf(format!("undefined variable: {name}"))),
        }
    }

    fn eval_command(&mut self, dot: &Value, cmd: &Command, fin: Option<Value>) -> EResult<Value> {
        let first = &cmd.args[0];
        match &first.kind {
            ArgKind::Field(fields) => {
                return self.eval_field_chain(dot, dot.clone(), first, fields, cmd, fin)
            }
            ArgKind::Chain(node, fields) => {
                let recv = self.eval_arg(dot, node)?;
                return self.eval_field_chain(dot, recv, first, fields, cmd, fin);
            }
            ArgKind::Identifier(name) => return self.eval_function(dot, name, first, cmd, fin),
            ArgKind::Variable(name, fields) => {
                self.at(first.pos, first.to_string());
                let v = self.var(name)?;
                if fields.is_empty() {
                    self.not_a_function(cmd, &fin)?;
                    return Ok(v);
                }
                return self.eval_field_chain(dot, v, first, fields, cmd, fin);
            }
            ArgKind::Pipe(p) => {
                self.not_a_function(cmd, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            _ => {}
        }
        self.at(first.pos, first.to_string());
        self.not_a_function(cmd, &fin)?;
        match &first.kind {
            ArgKind::Nil => Err(self.errorf("nil is not a command")),
            _ => self.eval_arg(dot, first),
        }
    }

    fn not_a_function(&self, cmd: &Command, fin: &Option<Value>) -> EResult<()> {
        if cmd.args.len() > 1 || fin.is_some() {
            return Err(self.errorf(format!("can't give argument to non-function {}", cmd.args[0])));
        }
        Ok(())
    }

    /// Evaluates one argument (not in command position).
    fn eval_arg(&mut self, dot: &Value, arg: &Arg) -> EResult<Value> {
        self.at(arg.pos, arg.to_string());
        Ok(match &arg.kind {
            ArgKind::Dot => dot.clone(),
            ArgKind::Nil => Value::Nil,
            ArgKind::Bool(b) => Value::Bool(*b),
            ArgKind::Number(Number::Int(i), _) => Value::Int(*i),
            ArgKind::Number(Number::Float(f), _) => Value::Float(*f),
            ArgKind::String(_, s) => Value::String(s.clone()),
            ArgKind::Variable(name, fields) => {
                let mut v = self.var(name)?;
                for f in fields {
                    v = self.eval_field(v, f, Vec::new(), false)?;
                }
                v
            }
            ArgKind::Field(fields) => {
                let mut v = dot.clone();
                for f in fields {
                    v = self.eval_field(v, f, Vec::new(), false)?;
                }
                v
            }
            ArgKind::Pipe(p) => self.eval_pipeline(dot, p)?,
            ArgKind::Identifier(name) => {
                let cmd = Command { args: vec![arg.clone()] };
                self.eval_function(dot, name, arg, &cmd, None)?
            }
            ArgKind::Chain(node, fields) => {
                let mut v = self.eval_arg(dot, node)?;
                self.at(arg.pos, arg.to_string());
                for f in fields {
                    v = self.eval_field(v, f, Vec::new(), false)?;
                }
                v
            }
        })
    }

    fn eval_args(&mut self, dot: &Value, args: &[Arg]) -> EResult<Vec<Value>> {
        args.iter().map(|a| self.eval_arg(dot, a)).collect()
    }

    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut recv: Value,
        node: &Arg,
        fields: &[String],
        cmd: &Command,
        fin: Option<Value>,
    ) -> EResult<Value> {
        let n = fields.len();
        for f in &fields[..n - 1] {
            self.at(node.pos, node.to_string());
            recv = self.eval_field(recv, f, Vec::new(), false)?;
        }
        let mut args = self.eval_args(dot, &cmd.args[1..])?;
        let has_args = !args.is_empty() || fin.is_some();
        args.extend(fin);
        self.at(node.pos, node.to_string());
        self.eval_field(recv, &fields[n - 1], args, has_args)
    }

    fn eval_field(&mut self, recv: Value, name: &str, args: Vec<Value>, has_args: bool) -> EResult<Value> {
        if let Value::Nil = recv {
            return Ok(Value::Nil);
        }
        if let Some(r) = methods::call_method(&recv, name, args, self.now) {
            return r.map_err(|e| self.errorf(e));
        }
        let type_name = recv.type_name();
        let field = match recv {
            Value::Data(d) => match name {
                "Receiver" => Some(Value::String(d.receiver.clone())),
                "Status" => Some(Value::String(d.status.clone())),
                "Alerts" => Some(Value::Alerts { alerts: d.alerts.clone(), typed: true }),
                "GroupLabels" => Some(Value::Kv(d.group_labels.clone())),
                "CommonLabels" => Some(Value::Kv(d.common_labels.clone())),
                "CommonAnnotations" => Some(Value::Kv(d.common_annotations.clone())),
                "ExternalURL" => Some(Value::String(d.external_url.clone())),
                _ => None,
            },
            Value::Alert(a) => match name {
                "Status" => Some(Value::String(a.status.clone())),
                "Labels" => Some(Value::Kv(a.labels.clone())),
                "Annotations" => Some(Value::Kv(a.annotations.clone())),
                "StartsAt" => Some(Value::Time(a.starts_at)),
                "EndsAt" => Some(Value::Time(a.ends_at)),
                "GeneratorURL" => Some(Value::String(a.generator_url.clone())),
                "Fingerprint" => Some(Value::String(a.fingerprint.clone())),
                _ => None,
            },
            Value::Pair(n, v) => match name {
                "Name" => Some(Value::String(n)),
                "Value" => Some(Value::String(v)),
                _ => None,
            },
            Value::Kv(kv) => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                return Ok(match kv.get(name) {
                    Some(v) => Value::String(v.clone()),
                    None if self.tree.missing_zero => Value::String(String::new()),
                    None => Value::Nil,
                });
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                return Ok(m.get(name).cloned().unwrap_or(Value::Nil));
            }
            _ => None,
        };
        match field {
            Some(_) if has_args => {
                Err(self.errorf(format!("{name} has arguments but cannot be invoked as function")))
            }
            Some(v) => Ok(v),
            None => Err(self.errorf(format!("can't evaluate field {name} in type {type_name}"))),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        name: &str,
        node: &Arg,
        cmd: &Command,
        fin: Option<Value>,
    ) -> EResult<Value> {
        self.at(node.pos, node.to_string());
        let args = &cmd.args[1..];
        if name == "and" || name == "or" {
            let total = args.len() + usize::from(fin.is_some());
            if total < 1 {
                self.at(node.pos, cmd.to_string());
                return Err(self.errorf(format!("wrong number of args for {name}: want at least 1 got 0")));
            }
            let mut last = Value::Nil;
            for a in args {
                let v = self.eval_arg(dot, a)?;
                let t = v.truth();
                last = v;
                if (name == "and" && !t) || (name == "or" && t) {
                    return Ok(last);
                }
            }
            if let Some(f) = fin {
                last = f;
            }
            return Ok(last);
        }
        let Some(sig) = funcs::signature(name) else {
            return Err(self.errorf(format!("{name:?} is not a defined function")));
        };
        let mut vals = self.eval_args(dot, args)?;
        vals.extend(fin);
        self.at(node.pos, node.to_string());
        funcs::check_arity(name, &sig, vals.len()).map_err(|e| self.errorf(e))?;
        for (i, v) in vals.iter().enumerate() {
            if let Err(e) = check_type(v, sig.param(i)) {
                // Go points at the offending argument (the identifier for a piped final value).
                if let Some(a) = args.get(i) {
                    self.at(a.pos, a.to_string());
                }
                return Err(self.errorf(e));
            }
        }
        // Go reports errors of the call itself at the whole command.
        self.at(node.pos, cmd.to_string());
        funcs::call(name, vals, self.now).map_err(|e| self.errorf(format!("error calling {name}: {e}")))
    }
}

/// Converts a value for a typed parameter, or Go's error text.
pub(crate) fn check_type(v: &Value, ty: Ty) -> Result<(), String> {
    let ok = match ty {
        Ty::Any => true,
        Ty::Str => matches!(v, Value::String(_)),
        Ty::StrList => match v {
            Value::List(l) => l.iter().all(|x| matches!(x, Value::String(_))),
            _ => false,
        },
        Ty::Time => matches!(v, Value::Time(_)),
        // Go accepts an untyped constant such as `28800e9` for an integer parameter when it is integral.
        Ty::Duration => match v {
            Value::Duration(_) | Value::Int(_) => true,
            Value::Float(f) => f.fract() == 0.0 && f.abs() < 9.2e18,
            _ => false,
        },
    };
    if ok {
        return Ok(());
    }
    if let Value::Nil = v {
        return Err(format!("invalid value; expected {}", ty.go_name()));
    }
    Err(format!("wrong type for value; expected {}; got {}", ty.go_name(), v.type_name()))
}
