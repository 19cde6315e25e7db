//! Value parsers with kingpin's semantics and Go's error texts: `Int()` and `Float64()` go through
//! `strconv.ParseFloat`, the log enums are prometheus/common's `promlog` values.

use std::fmt;
use std::str::FromStr;

use tocsin_model::duration::go_quote;

/// Go `strconv.ParseFloat(s, 64)`: decimal floats, `inf`/`infinity`/`nan` in any case, optional sign.
pub(crate) fn parse_go_float(s: &str) -> Result<f64, String> {
    let syntax = || format!("strconv.ParseFloat: parsing {}: invalid syntax", go_quote(s));
    // Rust accepts a few spellings Go does not ("1e", is rejected by both; "+nan" by Go only); filter by charset.
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    let is_special = matches!(lower.as_str(), "inf" | "infinity" | "nan");
    if !is_special
        && !body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return Err(syntax());
    }
    if lower == "nan" && body.len() != s.len() {
        return Err(syntax());
    }
    let v = f64::from_str(s).map_err(|_| syntax())?;
    if v.is_infinite() && !is_special {
        return Err(format!("strconv.ParseFloat: parsing {}: value out of range", go_quote(s)));
    }
    Ok(v)
}

/// kingpin's `Int()`: `ParseFloat` then Go's `int(v)`, which truncates toward zero and, on amd64, turns NaN and
/// out-of-range values into the minimum int.
pub(crate) fn parse_kingpin_int(s: &str) -> Result<i64, String> {
    let v = parse_go_float(s)?;
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if v.is_nan() || !(-LIMIT..LIMIT).contains(&v) {
        return Ok(i64::MIN);
    }
    Ok(v.trunc() as i64)
}

/// A byte size for `--web.max-request-body-bytes`: an integer with an optional unit `B`, `KiB`/`KB`, `MiB`/`MB`,
/// `GiB`/`GB` (all powers of 1024, as kingpin's `Bytes()` reads them).
pub(crate) fn parse_byte_size(s: &str) -> Result<u64, String> {
    let invalid = || {
        format!("invalid byte size {}: want an integer with an optional unit B, KiB, MiB or GiB", go_quote(s))
    };
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(invalid());
    }
    let (number, unit) = s.split_at(digits);
    let mult: u64 = match unit {
        "" | "B" => 1,
        "KB" | "KiB" => 1 << 10,
        "MB" | "MiB" => 1 << 20,
        "GB" | "GiB" => 1 << 30,
        _ => return Err(invalid()),
    };
    number.parse::<u64>().ok().and_then(|n| n.checked_mul(mult)).ok_or_else(invalid)
}

/// `--log.level`: only messages at this severity or above are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl FromStr for LogLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "debug" => Ok(LogLevel::Debug),
            "info" => Ok(LogLevel::Info),
            "warn" => Ok(LogLevel::Warn),
            "error" => Ok(LogLevel::Error),
            _ => Err(format!("unrecognized log level {}", go_quote(s))),
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `--log.format`: go-kit's logfmt (the default) or one JSON object per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Logfmt,
    Json,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Logfmt => "logfmt",
            LogFormat::Json => "json",
        }
    }
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "logfmt" => Ok(LogFormat::Logfmt),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("unrecognized log format {}", go_quote(s))),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float() {
        let cases: [(&str, Result<f64, &str>); 12] = [
            ("0.9", Ok(0.9)),
            ("1", Ok(1.0)),
            ("-1", Ok(-1.0)),
            ("+.5", Ok(0.5)),
            ("5.", Ok(5.0)),
            ("1e3", Ok(1000.0)),
            ("Inf", Ok(f64::INFINITY)),
            ("-infinity", Ok(f64::NEG_INFINITY)),
            ("abc", Err(r#"strconv.ParseFloat: parsing "abc": invalid syntax"#)),
            ("", Err(r#"strconv.ParseFloat: parsing "": invalid syntax"#)),
            ("0x10", Err(r#"strconv.ParseFloat: parsing "0x10": invalid syntax"#)),
            ("1e400", Err(r#"strconv.ParseFloat: parsing "1e400": value out of range"#)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_go_float(input), want.map_err(str::to_owned), "input {input:?}");
        }
        assert!(parse_go_float("NaN").expect("nan").is_nan());
    }

    #[test]
    fn kingpin_int() {
        let cases: [(&str, Result<i64, &str>); 8] = [
            ("0", Ok(0)),
            ("8", Ok(8)),
            ("-1", Ok(-1)),
            ("1.5", Ok(1)),
            ("-1.9", Ok(-1)),
            ("1e3", Ok(1000)),
            ("1e19", Ok(i64::MIN)),
            ("1e3x", Err(r#"strconv.ParseFloat: parsing "1e3x": invalid syntax"#)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_kingpin_int(input), want.map_err(str::to_owned), "input {input:?}");
        }
    }

    #[test]
    fn byte_sizes() {
        let cases: [(&str, Option<u64>); 9] = [
            ("0", Some(0)),
            ("1024", Some(1024)),
            ("10B", Some(10)),
            ("64MiB", Some(64 << 20)),
            ("64MB", Some(64 << 20)),
            ("1GiB", Some(1 << 30)),
            ("2KB", Some(2048)),
            ("1TB", None),
            ("MiB", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_byte_size(input).ok(), want, "input {input:?}");
        }
        assert_eq!(parse_byte_size("99999999999999999999GiB").ok(), None);
    }

    #[test]
    fn log_enums() {
        assert_eq!("debug".parse::<LogLevel>(), Ok(LogLevel::Debug));
        assert_eq!("trace".parse::<LogLevel>(), Err(r#"unrecognized log level "trace""#.to_owned()));
        assert_eq!("DEBUG".parse::<LogLevel>(), Err(r#"unrecognized log level "DEBUG""#.to_owned()));
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!("xml".parse::<LogFormat>(), Err(r#"unrecognized log format "xml""#.to_owned()));
    }
}
