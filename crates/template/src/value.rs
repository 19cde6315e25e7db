//! The dynamic values templates compute with, standing in for Go's `reflect.Value`: Go's basic kinds, lists and
//! maps, and Alertmanager's typed objects (Data, Alerts, Alert, KV, Pairs, Pair, time.Time, time.Duration) so that
//! methods, truthiness and `%v` printing behave as in Go.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::data::{pairs_string, sorted_pairs, Alert, Data, Kv};
use crate::gotime::{duration_string, GoTime, Loc};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An untyped nil / invalid value (a missing key of a generic map, `nil`).
    Nil,
    Bool(bool),
    Int(i64),
    /// A `uint8`, from indexing a string.
    Byte(u8),
    Float(f64),
    String(String),
    /// `html/template.HTML`, produced by `safeHtml`; not escaped again by `execute_html`.
    Html(String),
    /// `[]string` and other slices.
    List(Vec<Value>),
    /// A generic `map[string]interface{}`.
    Map(BTreeMap<String, Value>),
    Kv(Kv),
    Pairs(Vec<(String, String)>),
    Pair(String, String),
    Time(GoTime),
    /// `time.Duration` in nanoseconds.
    Duration(i64),
    Location(Loc),
    Data(Arc<Data>),
    /// `Alerts` when `typed` (has `.Firing`/`.Resolved`), `[]Alert` otherwise.
    Alerts {
        alerts: Vec<Alert>,
        typed: bool,
    },
    Alert(Box<Alert>),
}

/// Go's kinds that `eq`/`lt` know how to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BasicKind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    String,
    Other,
}

impl Value {
    /// Go's type name, as it appears in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Byte(_) => "uint8",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Html(_) => "template.HTML",
            Value::List(l) => {
                if l.iter().all(|v| matches!(v, Value::String(_))) {
                    "[]string"
                } else {
                    "[]interface {}"
                }
            }
            Value::Map(_) => "map[string]interface {}",
            Value::Kv(_) => "template.KV",
            Value::Pairs(_) => "template.Pairs",
            Value::Pair(..) => "template.Pair",
            Value::Time(_) => "time.Time",
            Value::Duration(_) => "time.Duration",
            Value::Location(_) => "*time.Location",
            Value::Data(_) => "*template.Data",
            Value::Alerts { typed: true, .. } => "template.Alerts",
            Value::Alerts { typed: false, .. } => "[]template.Alert",
            Value::Alert(_) => "template.Alert",
        }
    }

    pub(crate) fn basic_kind(&self) -> BasicKind {
        match self {
            Value::Nil => BasicKind::Invalid,
            Value::Bool(_) => BasicKind::Bool,
            Value::Int(_) | Value::Duration(_) => BasicKind::Int,
            Value::Byte(_) => BasicKind::Uint,
            Value::Float(_) => BasicKind::Float,
            Value::String(_) | Value::Html(_) => BasicKind::String,
            _ => BasicKind::Other,
        }
    }

    /// Go's `comparable` for the `==` fallback of `eq` on non-basic kinds.
    pub(crate) fn comparable(&self) -> bool {
        !matches!(
            self,
            Value::List(_)
                | Value::Map(_)
                | Value::Kv(_)
                | Value::Pairs(_)
                | Value::Alerts { .. }
                | Value::Alert(_)
        )
    }

    /// Go's template truth: false, 0, nil, and empty strings, slices and maps are false; structs are true.
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Duration(i) => *i != 0,
            Value::Byte(b) => *b != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) | Value::Html(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Kv(m) => !m.is_empty(),
            Value::Pairs(p) => !p.is_empty(),
            Value::Alerts { alerts, .. } => !alerts.is_empty(),
            Value::Pair(..) | Value::Time(_) | Value::Location(_) | Value::Data(_) | Value::Alert(_) => true,
        }
    }

    /// The string of a string-kinded value.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Html(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn string_list(list: Vec<String>) -> Value {
        Value::List(list.into_iter().map(Value::String).collect())
    }

    pub(crate) fn from_alert(a: &Alert) -> Value {
        Value::Alert(Box::new(a.clone()))
    }

    /// Go's `fmt.Sprint(v)` (`%v`), with `Stringer`s (KV, Pairs, time.Time, time.Duration) honoured.
    pub fn go_string(&self) -> String {
        let mut out = String::new();
        self.write_v(&mut out);
        out
    }

    pub(crate) fn write_v(&self, out: &mut String) {
        match self {
            Value::Nil => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Byte(b) => out.push_str(&b.to_string()),
            Value::Float(f) => out.push_str(&format_float_g(*f, None)),
            Value::String(s) | Value::Html(s) => out.push_str(s),
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.write_v(out);
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push_str("map[");
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_v(out);
                }
                out.push(']');
            }
            Value::Kv(kv) => out.push_str(&pairs_string(&sorted_pairs(kv))),
            Value::Pairs(p) => out.push_str(&pairs_string(p)),
            Value::Pair(n, v) => out.push_str(&format!("{{{n} {v}}}")),
            Value::Time(t) => out.push_str(&t.go_string()),
            Value::Duration(d) => out.push_str(&duration_string(*d)),
            Value::Location(l) => out.push_str(&loc_name(l)),
            Value::Data(d) => {
                // `*Data` is dereferenced before printing: {...}.
                out.push('{');
                out.push_str(&d.receiver);
                out.push(' ');
                out.push_str(&d.status);
                out.push(' ');
                write_alerts(out, &d.alerts);
                for kv in [&d.group_labels, &d.common_labels, &d.common_annotations] {
                    out.push(' ');
                    out.push_str(&pairs_string(&sorted_pairs(kv)));
                }
                out.push(' ');
                out.push_str(&d.external_url);
                out.push('}');
            }
            Value::Alerts { alerts, .. } => write_alerts(out, alerts),
            Value::Alert(a) => write_alert(out, a),
        }
    }
}

/// Go's `Location.String()`.
pub(crate) fn loc_name(l: &Loc) -> String {
    match l {
        Loc::Utc => "UTC".into(),
        Loc::Fixed(_) => String::new(),
        Loc::Tz(tz) => tz.name().to_string(),
    }
}

fn write_alerts(out: &mut String, alerts: &[Alert]) {
    out.push('[');
    for (i, a) in alerts.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_alert(out, a);
    }
    out.push(']');
}

fn write_alert(out: &mut String, a: &Alert) {
    out.push_str(&format!(
        "{{{} {} {} {} {} {} {}}}",
        a.status,
        pairs_string(&sorted_pairs(&a.labels)),
        pairs_string(&sorted_pairs(&a.annotations)),
        a.starts_at.go_string(),
        a.ends_at.go_string(),
        a.generator_url,
        a.fingerprint
    ));
}

/// Go's `%g`/`%v` for float64: shortest representation (`prec` None) or `prec` significant digits, with an
/// exponent when it is < -4 or >= the precision (6 for the shortest form, as strconv does).
pub(crate) fn format_float_g(f: f64, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Scientific form gives the significant digits and the decimal exponent.
    let sci = match prec {
        None => format!("{f:e}"),
        Some(p) => format!("{:.*e}", p.max(1) - 1, f),
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let mut digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    if prec.is_some() {
        // %g removes trailing zeros.
        let trimmed = digits.trim_end_matches('0');
        digits = if trimmed.is_empty() { "0".into() } else { trimmed.to_string() };
    }
    let eprec = match prec {
        None => 6,
        Some(p) => p.max(1) as i32,
    };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= eprec {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if exp < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exp - 1) as usize));
        out.push_str(&digits);
    } else {
        let int_len = (exp + 1) as usize;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.push_str(&"0".repeat(int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_go() {
        let cases: [(f64, Option<usize>, &str); 9] = [
            (1.5, None, "1.5"),
            (1000000.0, None, "1e+06"),
            (100000.0, None, "100000"),
            (0.0001, None, "0.0001"),
            (0.00001, None, "1e-05"),
            (3.0, None, "3"),
            (1.234567, Some(4), "1.235"),
            (12345.0, Some(4), "1.234e+04"),
            (-2.5, None, "-2.5"),
        ];
        for (f, p, want) in cases {
            assert_eq!(format_float_g(f, p), want, "{f} {p:?}");
        }
    }

    #[test]
    fn printing() {
        let m: BTreeMap<String, Value> =
            [("b".to_string(), Value::Int(1)), ("a".to_string(), Value::String("x".into()))]
                .into_iter()
                .collect();
        assert_eq!(Value::Map(m).go_string(), "map[a:x b:1]");
        assert_eq!(Value::List(vec![Value::Nil, Value::Bool(true)]).go_string(), "[<nil> true]");
        assert!(!Value::String(String::new()).truth());
        assert!(Value::Pair("a".into(), "b".into()).truth());
    }
}
