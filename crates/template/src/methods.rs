//! Methods templates call on values: Alertmanager's `KV`, `Pairs` and `Alerts` methods, and the `time.Time` and
//! `time.Duration` methods user templates commonly use (`.StartsAt.Format "..."`, `.Unix`, `.Sub`, ...).

use chrono::{DateTime, Utc};

use crate::data::sorted_pairs;
use crate::exec::check_type;
use crate::funcs::Ty;
use crate::gotime::{local_tz, month_name, GoTime, Loc};
use crate::value::{loc_name, Value};

/// A method: its parameter types and its body.
type Method<'a, R> = (&'static [Ty], Box<dyn Fn(&[Value]) -> R + 'a>);

fn arity(name: &str, args: &[Value], want: &[Ty]) -> Result<(), String> {
    if args.len() != want.len() {
        return Err(format!("wrong number of args for {name}: want {} got {}", want.len(), args.len()));
    }
    for (a, t) in args.iter().zip(want) {
        check_type(a, *t)?;
    }
    Ok(())
}

fn dur_arg(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Duration(i) => *i,
        Value::Float(f) => *f as i64,
        _ => 0,
    }
}

/// `Some(result)` when `recv` has a method `name`; `None` to fall back to fields and map keys.
pub(crate) fn call_method(
    recv: &Value,
    name: &str,
    args: Vec<Value>,
    _now: DateTime<Utc>,
) -> Option<Result<Value, String>> {
    use Ty::*;
    let (want, f): Method<'_, Result<Value, String>> = match (recv, name) {
        (Value::Kv(kv), "SortedPairs") => (&[], Box::new(move |_| Ok(Value::Pairs(sorted_pairs(kv))))),
        (Value::Kv(kv), "Names") => (
            &[],
            Box::new(move |_| Ok(Value::string_list(sorted_pairs(kv).into_iter().map(|p| p.0).collect()))),
        ),
        (Value::Kv(kv), "Values") => (
            &[],
            Box::new(move |_| Ok(Value::string_list(sorted_pairs(kv).into_iter().map(|p| p.1).collect()))),
        ),
        (Value::Kv(_), "String") | (Value::Pairs(_), "String") => {
            (&[], Box::new(move |_| Ok(Value::String(recv.go_string()))))
        }
        (Value::Kv(kv), "Remove") => (
            &[StrList],
            Box::new(move |a: &[Value]| {
                let drop: Vec<&str> = match &a[0] {
                    Value::List(l) => l.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                let mut out = kv.clone();
                out.retain(|k, _| !drop.contains(&k.as_str()));
                Ok(Value::Kv(out))
            }),
        ),
        (Value::Pairs(p), "Names") => {
            (&[], Box::new(move |_| Ok(Value::string_list(p.iter().map(|x| x.0.clone()).collect()))))
        }
        (Value::Pairs(p), "Values") => {
            (&[], Box::new(move |_| Ok(Value::string_list(p.iter().map(|x| x.1.clone()).collect()))))
        }
        (Value::Alerts { alerts, typed: true }, "Firing" | "Resolved") => {
            let want_status = if name == "Firing" { "firing" } else { "resolved" };
            (
                &[],
                Box::new(move |_| {
                    let sel = alerts.iter().filter(|a| a.status == want_status).cloned().collect();
                    Ok(Value::Alerts { alerts: sel, typed: false })
                }),
            )
        }
        (Value::Time(t), _) => return time_method(*t, name, args),
        (Value::Duration(d), _) => return duration_method(*d, name, args),
        (Value::Location(l), "String") => (&[], Box::new(move |_| Ok(Value::String(loc_name(l))))),
        _ => return None,
    };
    Some(arity(name, &args, want).and_then(|_| f(&args)))
}

fn time_method(t: GoTime, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
    use Ty::*;
    let (want, v): Method<'_, Value> = match name {
        "Format" => (&[Str], Box::new(move |a| Value::String(t.format(a[0].as_str().unwrap_or(""))))),
        "String" => (&[], Box::new(move |_| Value::String(t.go_string()))),
        "Unix" => (&[], Box::new(move |_| Value::Int(t.unix()))),
        "UnixMilli" => (&[], Box::new(move |_| Value::Int(t.instant.timestamp_millis()))),
        "UnixNano" => (&[], Box::new(move |_| Value::Int(t.unix_nano()))),
        "UTC" => (&[], Box::new(move |_| Value::Time(t.utc()))),
        "Local" => (&[], Box::new(move |_| Value::Time(t.in_loc(Loc::Tz(local_tz()))))),
        "Location" => (&[], Box::new(move |_| Value::Location(t.loc))),
        "In" => {
            let loc = match args.first() {
                Some(Value::Location(l)) => *l,
                Some(other) => {
                    return Some(Err(format!(
                        "wrong type for value; expected *time.Location; got {}",
                        other.type_name()
                    )))
                }
                None => return Some(Err(format!("wrong number of args for {name}: want 1 got 0"))),
            };
            (&[Any], Box::new(move |_| Value::Time(t.in_loc(loc))))
        }
        "Add" => (&[Duration], Box::new(move |a| Value::Time(t.add_nanos(dur_arg(&a[0]))))),
        "Sub" => (
            &[Time],
            Box::new(move |a| match &a[0] {
                Value::Time(u) => Value::Duration(t.sub(u)),
                _ => Value::Nil,
            }),
        ),
        "Before" | "After" | "Equal" => {
            let op = name.to_string();
            (
                &[Time],
                Box::new(move |a| match &a[0] {
                    Value::Time(u) => Value::Bool(match op.as_str() {
                        "Before" => t.instant < u.instant,
                        "After" => t.instant > u.instant,
                        _ => t.instant == u.instant,
                    }),
                    _ => Value::Nil,
                }),
            )
        }
        "IsZero" => (&[], Box::new(move |_| Value::Bool(t.is_zero()))),
        "Year" => (&[], Box::new(move |_| Value::Int(t.year()))),
        // time.Month prints its name; templates mostly print it, so it is a string here.
        "Month" => (&[], Box::new(move |_| Value::String(month_name(t.month()).to_string()))),
        "Day" => (&[], Box::new(move |_| Value::Int(t.day() as i64))),
        "Hour" => (&[], Box::new(move |_| Value::Int(t.hour() as i64))),
        "Minute" => (&[], Box::new(move |_| Value::Int(t.minute() as i64))),
        "Second" => (&[], Box::new(move |_| Value::Int(t.second() as i64))),
        "Weekday" => (&[], Box::new(move |_| Value::String(t.weekday().to_string()))),
        _ => return None,
    };
    Some(arity(name, &args, want).map(|_| v(&args)))
}

fn duration_method(d: i64, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
    use Ty::*;
    let (want, v): Method<'_, Value> = match name {
        "String" => (&[], Box::new(move |_| Value::String(crate::gotime::duration_string(d)))),
        "Seconds" => (&[], Box::new(move |_| Value::Float(d as f64 / 1e9))),
        "Minutes" => (&[], Box::new(move |_| Value::Float(d as f64 / 6e10))),
        "Hours" => (&[], Box::new(move |_| Value::Float(d as f64 / 3.6e12))),
        "Milliseconds" => (&[], Box::new(move |_| Value::Int(d / 1_000_000))),
        "Microseconds" => (&[], Box::new(move |_| Value::Int(d / 1_000))),
        "Nanoseconds" => (&[], Box::new(move |_| Value::Int(d))),
        "Abs" => (&[], Box::new(move |_| Value::Duration(d.saturating_abs()))),
        "Round" | "Truncate" => {
            let round = name == "Round";
            (
                &[Duration],
                Box::new(move |a| {
                    let m = dur_arg(&a[0]);
                    if m <= 0 {
                        return Value::Duration(d);
                    }
                    let r = d % m;
                    let mut out = d - r;
                    if round && r.abs() * 2 >= m {
                        out += if d < 0 { -m } else { m };
                    }
                    Value::Duration(out)
                }),
            )
        }
        _ => return None,
    };
    Some(arity(name, &args, want).map(|_| v(&args)))
}
