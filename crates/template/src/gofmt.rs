//! Go's `fmt.Sprintf`, `Sprint` and `Sprintln` over template values: the verbs, flags, width and precision that
//! notification templates use, and Go's `%!verb(type=value)` markers for mismatches.

use crate::lexer::go_quote;
use crate::value::{format_float_g, Value};

#[derive(Debug, Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Go's `fmt.Sprint`: spaces between operands when neither side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = a.as_str().is_some();
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        out.push_str(&a.go_string());
        prev_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: always spaces, and a newline.
pub fn sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(Value::go_string).collect();
    format!("{}\n", parts.join(" "))
}

/// Go's `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argi = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = read_num(&mut chars, args, &mut argi, &mut spec.minus);
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut dummy = false;
            spec.prec = Some(read_num(&mut chars, args, &mut argi, &mut dummy).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(argi) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        argi += 1;
        out.push_str(&format_one(verb, &spec, arg));
    }
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[argi..]
            .iter()
            .map(|a| match a {
                Value::Nil => "<nil>".to_string(),
                a => format!("{}={}", a.type_name(), a.go_string()),
            })
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

fn read_num(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    args: &[Value],
    argi: &mut usize,
    minus: &mut bool,
) -> Option<usize> {
    if chars.peek() == Some(&'*') {
        chars.next();
        let v = match args.get(*argi) {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        };
        *argi += 1;
        let v = v?;
        if v < 0 {
            *minus = true;
        }
        return Some(v.unsigned_abs().min(1 << 20) as usize);
    }
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        chars.next();
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize).min(1 << 20));
    }
    n
}

fn bad_verb(verb: char, v: &Value) -> String {
    match v {
        Value::Nil => format!("%!{verb}(<nil>)"),
        v => format!("%!{verb}({}={})", v.type_name(), v.go_string()),
    }
}

fn pad(s: String, spec: &Spec, numeric: bool) -> String {
    let Some(w) = spec.width else { return s };
    let len = s.chars().count();
    if len >= w {
        return s;
    }
    let fill = w - len;
    if spec.minus {
        return format!("{s}{}", " ".repeat(fill));
    }
    if spec.zero && numeric {
        let (sign, rest) = match s.chars().next() {
            Some(c @ ('+' | '-' | ' ')) => (c.to_string(), s[1..].to_string()),
            _ => (String::new(), s.clone()),
        };
        return format!("{sign}{}{rest}", "0".repeat(fill));
    }
    if spec.zero && !numeric {
        return format!("{}{s}", "0".repeat(fill));
    }
    format!("{}{s}", " ".repeat(fill))
}

fn sign(neg: bool, spec: &Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn fmt_int(verb: char, i: i128, spec: &Spec) -> Option<String> {
    let neg = i < 0;
    let u = i.unsigned_abs();
    let body = match verb {
        'd' | 'v' => u.to_string(),
        'x' => format!("{}{u:x}", if spec.sharp { "0x" } else { "" }),
        'X' => format!("{}{u:X}", if spec.sharp { "0X" } else { "" }),
        'o' => format!("{}{u:o}", if spec.sharp { "0" } else { "" }),
        'O' => format!("0o{u:o}"),
        'b' => format!("{u:b}"),
        'c' => return Some(char::from_u32(i as u32).unwrap_or('\u{FFFD}').to_string()),
        'q' => {
            let c = char::from_u32(i as u32).unwrap_or('\u{FFFD}');
            return Some(format!("'{}'", go_quote(&c.to_string()).trim_matches('"').replace("\\\"", "\"")));
        }
        'U' => return Some(format!("U+{u:04X}")),
        _ => return None,
    };
    let body = match spec.prec {
        Some(p) if body.len() < p => format!("{}{body}", "0".repeat(p - body.len())),
        _ => body,
    };
    Some(format!("{}{body}", sign(neg, spec)))
}

fn fmt_float(verb: char, f: f64, spec: &Spec) -> Option<String> {
    let s = match verb {
        'v' | 'g' | 'G' => format_float_g(f, if verb == 'v' { None } else { spec.prec }),
        'f' | 'F' => format!("{:.*}", spec.prec.unwrap_or(6), f),
        'e' | 'E' => {
            let s = format!("{:.*e}", spec.prec.unwrap_or(6), f);
            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
            let e: i32 = e.parse().unwrap_or(0);
            format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
        }
        _ => return None,
    };
    let s = if verb == 'E' || verb == 'G' { s.to_uppercase() } else { s };
    if f.is_infinite() || f.is_nan() {
        return Some(s);
    }
    Some(if s.starts_with('-') { s } else { format!("{}{s}", sign(false, spec)) })
}

fn fmt_string(verb: char, s: &str, spec: &Spec) -> Option<String> {
    let s: String = match spec.prec {
        Some(p) if verb != 'x' && verb != 'X' => s.chars().take(p).collect(),
        _ => s.to_string(),
    };
    Some(match verb {
        's' | 'v' => s,
        'q' => {
            if spec.sharp && !s.contains('`') {
                format!("`{s}`")
            } else {
                go_quote(&s)
            }
        }
        'x' | 'X' => {
            let bytes = match spec.prec {
                Some(p) => &s.as_bytes()[..p.min(s.len())],
                None => s.as_bytes(),
            };
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            if verb == 'X' {
                hex.to_uppercase()
            } else {
                hex
            }
        }
        _ => return None,
    })
}

fn format_one(verb: char, spec: &Spec, v: &Value) -> String {
    if verb == 'T' {
        return pad(v.type_name().to_string(), spec, false);
    }
    let numeric = matches!(v, Value::Int(_) | Value::Byte(_) | Value::Float(_)) && verb != 'v' || verb == 'd';
    let res = match v {
        Value::Nil => match verb {
            'v' => Some("<nil>".to_string()),
            _ => None,
        },
        Value::Bool(b) => match verb {
            'v' | 't' => Some(b.to_string()),
            _ => None,
        },
        Value::Int(i) => fmt_int(verb, *i as i128, spec),
        Value::Byte(b) => fmt_int(verb, *b as i128, spec),
        Value::Duration(d) => match verb {
            'v' | 's' => Some(v.go_string()),
            _ => fmt_int(verb, *d as i128, spec),
        },
        Value::Float(f) => fmt_float(verb, *f, spec),
        Value::String(s) | Value::Html(s) => fmt_string(verb, s, spec),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(|i| format_one(verb, &Spec::default(), i)).collect();
            Some(format!("[{}]", parts.join(" ")))
        }
        // Stringers: %v, %s and %q use String().
        Value::Kv(_) | Value::Pairs(_) | Value::Time(_) | Value::Location(_) => {
            fmt_string(verb, &v.go_string(), spec)
        }
        _ => match verb {
            'v' | 's' => Some(v.go_string()),
            _ => None,
        },
    };
    match res {
        Some(s) => pad(s, spec, numeric),
        None => bad_verb(verb, v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn verbs() {
        struct Case {
            format: &'static str,
            args: Vec<Value>,
            want: &'static str,
        }
        let cases = [
            Case { format: "%s=%d", args: vec![s("a"), Value::Int(3)], want: "a=3" },
            Case { format: "%5s|%-5s|", args: vec![s("ab"), s("cd")], want: "   ab|cd   |" },
            Case {
                format: "%.2f %f",
                args: vec![Value::Float(3.14659), Value::Float(1.0)],
                want: "3.15 1.000000",
            },
            Case { format: "%q", args: vec![s("a\"b")], want: "\"a\\\"b\"" },
            Case {
                format: "%x %X %o %b",
                args: vec![Value::Int(255), Value::Int(255), Value::Int(8), Value::Int(5)],
                want: "ff FF 10 101",
            },
            Case { format: "%t %v", args: vec![Value::Bool(true), Value::Float(2.5)], want: "true 2.5" },
            Case {
                format: "%05d|%+d|%3d",
                args: vec![Value::Int(-42), Value::Int(7), Value::Int(1)],
                want: "-0042|+7|  1",
            },
            Case { format: "%d", args: vec![s("x")], want: "%!d(string=x)" },
            Case { format: "%s %s", args: vec![s("x")], want: "x %!s(MISSING)" },
            Case { format: "%s", args: vec![s("x"), Value::Int(1)], want: "x%!(EXTRA int=1)" },
            Case { format: "%x", args: vec![s("hi")], want: "6869" },
            Case { format: "%.3s|%c|%%", args: vec![s("abcdef"), Value::Int(65)], want: "abc|A|%" },
            Case { format: "%v", args: vec![Value::List(vec![s("a"), s("b")])], want: "[a b]" },
            Case { format: "%e", args: vec![Value::Float(12345.678)], want: "1.234568e+04" },
            Case { format: "%T", args: vec![Value::Int(1)], want: "int" },
        ];
        for c in cases {
            assert_eq!(sprintf(c.format, &c.args), c.want, "{}", c.format);
        }
    }

    #[test]
    fn sprint_spacing() {
        assert_eq!(sprint(&[s("a"), s("b")]), "ab");
        assert_eq!(sprint(&[Value::Int(1), Value::Int(2)]), "1 2");
        assert_eq!(sprint(&[s("a"), Value::Int(1), Value::Int(2), s("b")]), "a1 2b");
        assert_eq!(sprintln(&[s("a"), Value::Int(1)]), "a 1\n");
    }
}
