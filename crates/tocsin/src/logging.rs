//! Log output in Alertmanager's shapes: go-kit logfmt by default (`ts=… caller=… level=info msg="…" key=value`),
//! one JSON object per line with `--log.format=json`. Operators grep these lines at 3 a.m., so keys keep upstream's
//! names (`ts`, `caller`, `level`, `msg`, `component`, `err`).

pub use crate::flags::{LogFormat, LogLevel};
use std::fmt::Write as _;
use tocsin_model::clock::{Clock, SystemClock};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `--log.level` as a tracing filter.
pub fn level_filter(level: LogLevel) -> tracing::level_filters::LevelFilter {
    use tracing::level_filters::LevelFilter;
    match level {
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Error => LevelFilter::ERROR,
    }
}

/// Installs the global subscriber writing to stderr. Idempotent: a second call is a no-op.
pub fn init(format: LogFormat, level: LogLevel) {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level_filter(level))
        .event_format(GoKitFormat { format })
        .try_init();
}

/// Formats events as go-kit logfmt or JSON lines.
#[derive(Debug, Clone, Copy)]
pub struct GoKitFormat {
    pub format: LogFormat,
}

impl<S, N> FormatEvent<S, N> for GoKitFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let ts = SystemClock.now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let file = meta.file().map(|f| f.rsplit('/').next().unwrap_or(f)).unwrap_or("?");
        let caller = format!("{}:{}", file, meta.line().unwrap_or(0));
        let level = level_str(*meta.level());
        let mut fields = Fields::default();
        event.record(&mut fields);
        let msg = fields.message.take().unwrap_or_default();
        match self.format {
            LogFormat::Logfmt => {
                write!(w, "ts={ts} caller={caller} level={level}")?;
                for (k, v) in fields.pairs.iter().filter(|(k, _)| k == "component") {
                    write!(w, " {k}={}", logfmt_value(v))?;
                }
                write!(w, " msg={}", logfmt_value(&msg))?;
                for (k, v) in fields.pairs.iter().filter(|(k, _)| k != "component") {
                    write!(w, " {k}={}", logfmt_value(v))?;
                }
                writeln!(w)
            }
            LogFormat::Json => {
                let mut obj = serde_json::Map::new();
                obj.insert("ts".into(), ts.into());
                obj.insert("caller".into(), caller.into());
                obj.insert("level".into(), level.into());
                obj.insert("msg".into(), msg.into());
                for (k, v) in fields.pairs {
                    obj.insert(k, v.into());
                }
                writeln!(w, "{}", serde_json::Value::Object(obj))
            }
        }
    }
}

fn level_str(l: Level) -> &'static str {
    match l {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        _ => "debug",
    }
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    pairs: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.push(field, format!("{value:?}"));
    }
}

impl Fields {
    fn push(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = Some(value);
        } else {
            self.pairs.push((field.name().to_owned(), value));
        }
    }
}

/// Quotes a logfmt value when it is empty or holds spaces, quotes, `=` or control characters.
pub fn logfmt_value(v: &str) -> String {
    let needs_quotes =
        v.is_empty() || v.chars().any(|c| c == ' ' || c == '"' || c == '=' || c == '\\' || c.is_control());
    if !needs_quotes {
        return v.to_owned();
    }
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfmt_quoting() {
        let cases = [
            ("plain", "plain"),
            ("", "\"\""),
            ("two words", "\"two words\""),
            ("a=b", "\"a=b\""),
            ("q\"x", "\"q\\\"x\""),
            ("line\nbreak", "\"line\\nbreak\""),
            ("127.0.0.1:9093", "127.0.0.1:9093"),
        ];
        for (input, want) in cases {
            assert_eq!(logfmt_value(input), want, "{input:?}");
        }
    }
}
