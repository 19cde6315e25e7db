//! The function map: Go's text/template built-ins (`and or not len index slice eq ne lt le gt ge print printf
//! println html js urlquery call`) and Alertmanager's `DefaultFuncs` (`toUpper toLower title trimSpace join match
//! safeHtml reReplaceAll stringSlice date tz since humanizeDuration`).

use chrono::{DateTime, Utc};

use crate::gofmt::{sprint, sprintf, sprintln};
use crate::gotime::{GoTime, Loc};
use crate::value::{format_float_g, BasicKind, Value};

/// A parameter type, for Go's argument checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Any,
    Str,
    StrList,
    Time,
    Duration,
}

impl Ty {
    pub(crate) fn go_name(self) -> &'static str {
        match self {
            Ty::Any => "interface {}",
            Ty::Str => "string",
            Ty::StrList => "[]string",
            Ty::Time => "time.Time",
            Ty::Duration => "time.Duration",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Sig {
    pub params: &'static [Ty],
    pub variadic: Option<Ty>,
}

const fn sig(params: &'static [Ty], variadic: Option<Ty>) -> Sig {
    Sig { params, variadic }
}

/// Every function name templates may call (the parser rejects others: `function "x" not defined`).
pub(crate) fn is_function(name: &str) -> bool {
    name == "and" || name == "or" || signature(name).is_some()
}

pub(crate) fn signature(name: &str) -> Option<Sig> {
    use Ty::*;
    Some(match name {
        "not" | "len" => sig(&[Any], None),
        "index" | "slice" | "eq" | "call" => sig(&[Any], Some(Any)),
        "ne" | "lt" | "le" | "gt" | "ge" => sig(&[Any, Any], None),
        "print" | "println" | "html" | "js" | "urlquery" => sig(&[], Some(Any)),
        "printf" => sig(&[Str], Some(Any)),
        "toUpper" | "toLower" | "title" | "trimSpace" | "safeHtml" => sig(&[Str], None),
        "join" => sig(&[Str, StrList], None),
        "match" => sig(&[Str, Str], None),
        "reReplaceAll" => sig(&[Str, Str, Str], None),
        "stringSlice" => sig(&[], Some(Str)),
        "date" | "tz" => sig(&[Str, Time], None),
        "since" => sig(&[Time], None),
        "humanizeDuration" => sig(&[Any], None),
        _ => return None,
    })
}

impl Sig {
    /// The type of the i-th argument.
    pub(crate) fn param(&self, i: usize) -> Ty {
        self.params.get(i).copied().or(self.variadic).unwrap_or(Ty::Any)
    }
}

pub(crate) fn check_arity(name: &str, sig: &Sig, n: usize) -> Result<(), String> {
    let fixed = sig.params.len();
    match sig.variadic {
        Some(_) if n < fixed => {
            Err(format!("wrong number of args for {name}: want at least {fixed} got {n}"))
        }
        None if n != fixed => Err(format!("wrong number of args for {name}: want {fixed} got {n}")),
        _ => Ok(()),
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Calls a checked function; the error is the part after "error calling NAME: ".
pub(crate) fn call(name: &str, mut args: Vec<Value>, now: DateTime<Utc>) -> Result<Value, String> {
    Ok(match name {
        "not" => Value::Bool(!args[0].truth()),
        "len" => Value::Int(length(&args[0])?),
        "index" => {
            let item = args.remove(0);
            index(item, &args)?
        }
        "slice" => {
            let item = args.remove(0);
            slice(item, &args)?
        }
        "eq" => Value::Bool(eq(&args[0], &args[1..])?),
        "ne" => Value::Bool(!eq(&args[0], &args[1..])?),
        "lt" => Value::Bool(lt(&args[0], &args[1])?),
        "le" => Value::Bool(lt(&args[0], &args[1])? || eq(&args[0], &args[1..])?),
        "gt" => Value::Bool(!(lt(&args[0], &args[1])? || eq(&args[0], &args[1..])?)),
        "ge" => Value::Bool(!lt(&args[0], &args[1])?),
        "print" => Value::String(sprint(&args)),
        "println" => Value::String(sprintln(&args)),
        "printf" => {
            let f = args.remove(0);
            Value::String(sprintf(s(&f), &args))
        }
        // Already escaped: html/template drops its own escaper when an action ends in `html` (Go 1.9+), so in
        // HTML mode the result is printed as is, not escaped twice.
        "html" => Value::Html(html_escape(&eval_args(&args))),
        "js" => Value::String(js_escape(&eval_args(&args))),
        "urlquery" => Value::String(query_escape(&eval_args(&args))),
        "call" => return Err(format!("non-function of type {}", args[0].type_name())),
        "toUpper" => Value::String(s(&args[0]).to_uppercase()),
        "toLower" => Value::String(s(&args[0]).to_lowercase()),
        "title" => Value::String(title(s(&args[0]))),
        "trimSpace" => Value::String(s(&args[0]).trim().to_string()),
        "safeHtml" => Value::Html(s(&args[0]).to_string()),
        "join" => {
            let list = match &args[1] {
                Value::List(l) => l.iter().map(|v| s(v).to_string()).collect::<Vec<_>>(),
                _ => Vec::new(),
            };
            Value::String(list.join(s(&args[0])))
        }
        "match" => Value::Bool(compile(s(&args[0]))?.is_match(s(&args[1]))),
        "reReplaceAll" => {
            let pattern = s(&args[0]);
            let re =
                compile(pattern).map_err(|e| format!("regexp: Compile({}): {e}", go_backquote(pattern)))?;
            Value::String(re.replace_all(s(&args[2]), s(&args[1])).into_owned())
        }
        "stringSlice" => Value::List(args),
        "date" => match &args[1] {
            Value::Time(t) => Value::String(t.format(s(&args[0]))),
            _ => Value::Nil,
        },
        "tz" => match &args[1] {
            Value::Time(t) => Value::Time(t.in_loc(load_location(s(&args[0]))?)),
            _ => Value::Nil,
        },
        "since" => match &args[0] {
            Value::Time(t) => Value::Duration(GoTime { instant: now, loc: Loc::Utc }.sub(t)),
            _ => Value::Nil,
        },
        "humanizeDuration" => Value::String(humanize_duration(&args[0])?),
        other => return Err(format!("function {other:?} not defined")),
    })
}

fn go_backquote(s: &str) -> String {
    format!("`{s}`")
}

/// Go's `time.LoadLocation`.
pub(crate) fn load_location(name: &str) -> Result<Loc, String> {
    match name {
        "" | "UTC" => Ok(Loc::Utc),
        "Local" => Ok(Loc::Tz(crate::gotime::local_tz())),
        n => n.parse::<chrono_tz::Tz>().map(Loc::Tz).map_err(|_| format!("unknown time zone {n}")),
    }
}

fn compile(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| {
        let msg = e.to_string();
        let last =
            msg.lines().rev().find(|l| l.starts_with("error:")).unwrap_or("invalid pattern").to_string();
        format!("error parsing regexp: {}: `{pattern}`", last.trim_start_matches("error: "))
    })
}

/// Go's `evalArgs`: a single string as is, anything else through `fmt.Sprint`.
fn eval_args(args: &[Value]) -> String {
    match args {
        [Value::String(s)] => s.clone(),
        _ => {
            // printableValue: an invalid value prints as <no value> here (fmt would say <nil>).
            let args: Vec<Value> = args
                .iter()
                .map(|a| if let Value::Nil = a { Value::String("<no value>".into()) } else { a.clone() })
                .collect();
            sprint(&args)
        }
    }
}

fn length(v: &Value) -> Result<i64, String> {
    Ok(match v {
        Value::String(s) | Value::Html(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::Kv(m) => m.len(),
        Value::Pairs(p) => p.len(),
        Value::Alerts { alerts, .. } => alerts.len(),
        // What Go's reflect panics with for an invalid value (e.g. a missing key without missingkey=zero).
        Value::Nil => return Err("reflect: call of reflect.Value.Type on zero Value".into()),
        other => return Err(format!("len of type {}", other.type_name())),
    } as i64)
}

fn index_arg(v: &Value, cap: usize) -> Result<usize, String> {
    let x = match v {
        Value::Int(i) | Value::Duration(i) => *i,
        Value::Byte(b) => *b as i64,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => return Err(format!("cannot index slice/array with type {}", other.type_name())),
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(mut item: Value, indexes: &[Value]) -> Result<Value, String> {
    if let Value::Nil = item {
        return Err("index of untyped nil".into());
    }
    for ix in indexes {
        let len = match &item {
            Value::List(l) => l.len(),
            Value::String(s) | Value::Html(s) => s.len(),
            Value::Pairs(p) => p.len(),
            Value::Alerts { alerts, .. } => alerts.len(),
            _ => usize::MAX,
        };
        if len != usize::MAX {
            let x = index_arg(ix, len)?;
            if x == len {
                // Go's bounds check allows len, then reflect panics.
                let what = if item.as_str().is_some() { "string" } else { "slice" };
                return Err(format!("reflect: {what} index out of range"));
            }
            item = match item {
                Value::List(mut l) => l.swap_remove(x),
                Value::String(s) | Value::Html(s) => Value::Byte(s.as_bytes()[x]),
                Value::Pairs(mut p) => {
                    let (n, v) = p.swap_remove(x);
                    Value::Pair(n, v)
                }
                Value::Alerts { alerts, .. } => Value::from_alert(&alerts[x]),
                _ => Value::Nil,
            };
            continue;
        }
        item = match item {
            Value::Kv(kv) => match ix {
                Value::String(k) => Value::String(kv.get(k).cloned().unwrap_or_default()),
                Value::Nil => return Err("value is nil; should be of type string".into()),
                other => return Err(format!("value has type {}; should be string", other.type_name())),
            },
            Value::Map(m) => match ix {
                Value::String(k) => m.get(k).cloned().unwrap_or(Value::Nil),
                Value::Nil => return Err("value is nil; should be of type string".into()),
                other => return Err(format!("value has type {}; should be string", other.type_name())),
            },
            Value::Nil => return Err("index of nil pointer".into()),
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice(item: Value, indexes: &[Value]) -> Result<Value, String> {
    if let Value::Nil = item {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match &item {
        Value::String(s) | Value::Html(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        Value::Pairs(p) => p.len(),
        Value::Alerts { alerts, .. } => alerts.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut idx = [0, len, len];
    for (i, ix) in indexes.iter().enumerate() {
        idx[i] = index_arg(ix, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    let (a, b) = (idx[0], idx[1]);
    Ok(match item {
        Value::String(s) => match s.get(a..b) {
            Some(sub) => Value::String(sub.to_string()),
            None => Value::String(String::from_utf8_lossy(&s.as_bytes()[a..b]).into_owned()),
        },
        Value::Html(s) => Value::Html(String::from_utf8_lossy(&s.as_bytes()[a..b]).into_owned()),
        Value::List(l) => Value::List(l[a..b].to_vec()),
        Value::Pairs(p) => Value::Pairs(p[a..b].to_vec()),
        Value::Alerts { alerts, typed } => Value::Alerts { alerts: alerts[a..b].to_vec(), typed },
        _ => Value::Nil,
    })
}

const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";
const BAD_COMPARISON: &str = "incompatible types for comparison";

fn eq(a: &Value, rest: &[Value]) -> Result<bool, String> {
    if !matches!(a, Value::Nil) && !a.comparable() {
        return Err(BAD_COMPARISON_TYPE.into());
    }
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = a.basic_kind();
    for b in rest {
        let k2 = b.basic_kind();
        let truth = if k1 != k2 {
            match (a, b) {
                (Value::Int(x), Value::Byte(y)) | (Value::Byte(y), Value::Int(x)) => *x == *y as i64,
                _ if !matches!(a, Value::Nil) && !matches!(b, Value::Nil) => {
                    return Err(BAD_COMPARISON.into())
                }
                _ => false,
            }
        } else {
            match (a, b) {
                (Value::Nil, Value::Nil) => true,
                _ if k1 == BasicKind::String => a.as_str() == b.as_str(),
                (Value::Int(x) | Value::Duration(x), Value::Int(y) | Value::Duration(y)) => x == y,
                _ => {
                    if !b.comparable() {
                        return Err(format!("non-comparable type {}: {}", b.go_string(), b.type_name()));
                    }
                    if a.type_name() != b.type_name() {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            a.go_string(),
                            a.type_name(),
                            b.type_name(),
                            b.go_string()
                        ));
                    }
                    a == b
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (k1, k2) = (a.basic_kind(), b.basic_kind());
    if matches!(k1, BasicKind::Invalid | BasicKind::Other)
        || matches!(k2, BasicKind::Invalid | BasicKind::Other)
    {
        return Err(BAD_COMPARISON_TYPE.into());
    }
    if k1 != k2 {
        return match (a, b) {
            (Value::Int(x), Value::Byte(y)) => Ok(*x < *y as i64),
            (Value::Byte(x), Value::Int(y)) => Ok((*x as i64) < *y),
            _ => Err(BAD_COMPARISON.into()),
        };
    }
    Ok(match (a, b) {
        (Value::Bool(_), _) => return Err(BAD_COMPARISON_TYPE.into()),
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::Int(x) | Value::Duration(x), Value::Int(y) | Value::Duration(y)) => x < y,
        (Value::Byte(x), Value::Byte(y)) => x < y,
        _ => a.as_str().unwrap_or("") < b.as_str().unwrap_or(""),
    })
}

/// Go's `template.HTMLEscapeString`.
/// html/template's escaper for text nodes (`htmlEscaper`): [`html_escape`] plus `+` as `&#43;`, which
/// `html/template` escapes to defeat UTF-7 sniffing; the `html` *function* (text/template) does not.
pub(crate) fn html_autoescape(s: &str) -> String {
    if !s.contains('+') {
        return html_escape(s);
    }
    html_escape(s).replace('+', "&#43;")
}

pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go 1.19's `template.JSEscapeString`.
pub(crate) fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            // Go escapes non-printable runes (unicode.IsPrint); controls and non-ASCII spaces approximate it.
            c if !c.is_ascii() && (c.is_control() || c.is_whitespace()) => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `cases.Title(language.AmericanEnglish)`: each word's first letter upper-cased, the rest lower-cased.
pub(crate) fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        let word_char = c.is_alphanumeric() || c == '\'' || c == '_';
        if word_char && !in_word {
            out.extend(c.to_uppercase());
        } else if word_char {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        in_word = word_char;
    }
    out
}

fn to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Byte(b) => Ok(*b as f64),
        Value::Duration(d) => Ok(*d as f64 / 1e9),
        Value::String(s) => {
            s.trim().parse::<f64>().map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax"))
        }
        other => Err(format!("can't convert {} to float", other.type_name())),
    }
}

/// Prometheus' `humanizeDuration`: seconds as `1d 2h 3m 4s`, sub-second values with SI prefixes.
pub(crate) fn humanize_duration(v: &Value) -> Result<String, String> {
    let mut v = to_float(v)?;
    let g4 = |f: f64| format_float_g(f, Some(4));
    if v.is_nan() || v.is_infinite() {
        return Ok(g4(v));
    }
    if v == 0.0 {
        return Ok(format!("{}s", g4(v)));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        v = v.abs();
        let d = v as i64;
        let (secs, mins, hours, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        return Ok(if days != 0 {
            format!("{sign}{days}d {hours}h {mins}m {secs}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {mins}m {secs}s")
        } else if mins != 0 {
            format!("{sign}{mins}m {secs}s")
        } else {
            format!("{sign}{}s", g4(v))
        });
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    Ok(format!("{}{prefix}s", g4(v)))
}
