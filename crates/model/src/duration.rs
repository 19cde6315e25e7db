//! Durations in the two syntaxes Alertmanager accepts: Prometheus' `model.Duration` (config: `1d`, `2h30m`) and
//! Go's `time.ParseDuration` (flags: `1.5h`, `300ms`, no `d`), each with its upstream error text and rendering.
//!
//! Both parsers are ports of the upstream code (prometheus/common `model.ParseDuration` with its anchored regex,
//! Go's `time.ParseDuration`), because users paste the same strings into tocsin that worked with Alertmanager and
//! expect the same acceptance, the same overflow limits (about 292 years, Go's `int64` nanoseconds) and the same
//! error messages.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(pub String);

/// Largest value a Go `time.Duration` holds, in nanoseconds; both upstream parsers reject anything longer.
const MAX_NANOS: u128 = i64::MAX as u128;

const MILLI: u128 = 1_000_000;

/// `model.Duration` units from the largest down, as multiples of a millisecond, in the order the regex
/// `^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$` accepts them.
const PROM_UNITS: [(&str, u128); 7] = [
    ("y", 1000 * 60 * 60 * 24 * 365),
    ("w", 1000 * 60 * 60 * 24 * 7),
    ("d", 1000 * 60 * 60 * 24),
    ("h", 1000 * 60 * 60),
    ("m", 1000 * 60),
    ("s", 1000),
    ("ms", 1),
];

/// Prometheus `model.ParseDuration`: `0`, or each of `y w d h m s ms` at most once, in that order, with
/// non-negative integer counts (`1d12h`, `90s`). A year is 365 days, a week 7 days, a day 24 hours.
pub fn parse_prom_duration(s: &str) -> Result<Duration, DurationError> {
    match s {
        "0" => return Ok(Duration::ZERO),
        "" => return Err(DurationError("empty duration string".to_owned())),
        _ => {}
    }
    let invalid = || DurationError(format!("not a valid duration string: {}", go_quote(s)));
    let mut rest = s.as_bytes();
    let mut next_unit = 0;
    let mut total_ms: u128 = 0;
    let mut out_of_range = false;
    while !rest.is_empty() {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(invalid());
        }
        let (number, after) = rest.split_at(digits);
        // Position of the unit in PROM_UNITS; `ms` must win over `m` when both could match.
        let found = (next_unit..PROM_UNITS.len()).find(|&i| {
            let unit = PROM_UNITS[i].0.as_bytes();
            after.starts_with(unit) && !(unit == b"m" && after.starts_with(b"ms"))
        });
        let Some(index) = found else {
            return Err(invalid());
        };
        // Every count up to here is a run of ASCII digits, so only an overflow can fail; Go's Atoi then yields
        // the maximum int, which the range check below reports.
        let count: u128 =
            std::str::from_utf8(number).ok().and_then(|n| n.parse::<u128>().ok()).unwrap_or(u128::MAX);
        let mult = PROM_UNITS[index].1;
        if count > MAX_NANOS / mult / MILLI {
            out_of_range = true;
        } else {
            total_ms += count * mult;
        }
        next_unit = index + 1;
        rest = &after[PROM_UNITS[index].0.len()..];
    }
    let nanos = total_ms.saturating_mul(MILLI);
    if out_of_range || nanos > MAX_NANOS {
        return Err(DurationError("duration out of range".to_owned()));
    }
    Ok(nanos_to_duration(nanos))
}

/// Prometheus `model.Duration.String()`: whole milliseconds, years and weeks only when they divide exactly
/// (`90d`, not `12w6d`), `0s` for anything under a millisecond.
pub fn format_prom_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (i, (unit, mult)) in PROM_UNITS.iter().enumerate() {
        let exact_only = i < 2;
        if exact_only && !ms.is_multiple_of(*mult) {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            out.push_str(&v.to_string());
            out.push_str(unit);
            ms -= v * mult;
        }
    }
    out
}

/// Go `time.ParseDuration`, for flags: a possibly signed sequence of decimal numbers, each with an optional
/// fraction and a unit among `ns us µs μs ms s m h` (`300ms`, `-1.5h`, `2h45m`).
///
/// `std::time::Duration` cannot be negative, so a negative value becomes zero; every flag upstream gives a
/// meaning to negative values treats them like zero ("if negative or zero, no timeout is set"). Use
/// [`parse_go_duration_nanos`] to see the sign.
pub fn parse_go_duration(s: &str) -> Result<Duration, DurationError> {
    let nanos = parse_go_duration_nanos(s)?;
    Ok(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)))
}

/// Go `time.ParseDuration` returning the signed nanosecond count, exactly as Go's `time.Duration` holds it.
pub fn parse_go_duration_nanos(s: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError(format!("time: invalid duration {}", time_quote(s)));
    const LIMIT: u64 = 1 << 63;
    let mut rest = s.as_bytes();
    let mut neg = false;
    if let Some(&c) = rest.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            rest = &rest[1..];
        }
    }
    if rest == b"0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !(rest[0] == b'.' || rest[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let before = rest.len();
        let (whole, after) = leading_int(rest).ok_or_else(invalid)?;
        rest = after;
        let pre = before != rest.len();
        let mut fraction: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if rest.first() == Some(&b'.') {
            rest = &rest[1..];
            let before = rest.len();
            let (f, sc, after) = leading_fraction(rest);
            fraction = f;
            scale = sc;
            rest = after;
            post = before != rest.len();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = rest.iter().take_while(|&&c| !(c == b'.' || c.is_ascii_digit())).count();
        if unit_len == 0 {
            return Err(DurationError(format!("time: missing unit in duration {}", time_quote(s))));
        }
        let (unit_bytes, after) = rest.split_at(unit_len);
        rest = after;
        // The unit ends before an ASCII byte or at the end, so it is whole UTF-8.
        let unit_str = String::from_utf8_lossy(unit_bytes);
        let unit: u64 = match unit_bytes {
            b"ns" => 1,
            b"us" => 1_000,
            // U+00B5 micro sign and U+03BC Greek small mu.
            [0xc2, 0xb5, b's'] | [0xce, 0xbc, b's'] => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60 * 1_000_000_000,
            b"h" => 3600 * 1_000_000_000,
            _ => {
                return Err(DurationError(format!(
                    "time: unknown unit {} in duration {}",
                    time_quote(&unit_str),
                    time_quote(s)
                )))
            }
        };
        if whole > LIMIT / unit {
            return Err(invalid());
        }
        let mut v = whole * unit;
        if fraction > 0 {
            // Go computes the fraction in float64 (exact to the nanosecond even for hours) and truncates.
            v += (fraction as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        // total ≤ 2^63, so the negation fits (2^63 becomes i64::MIN).
        return Ok((-(total as i128)) as i64);
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// Go's `leadingInt`: consumes `[0-9]*`; `None` on overflow past 2^63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > 1 << 63 {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// Go's `leadingFraction`: consumes `[0-9]*`, silently dropping precision once the value would overflow.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let mut x: u64 = 0;
    let mut scale = 1.0;
    let mut overflow = false;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        let c = u64::from(s[i] - b'0');
        i += 1;
        if overflow {
            continue;
        }
        if x > (i64::MAX as u64) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + c;
        if y > 1 << 63 {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[i..])
}

/// Go `time.Duration.String()`: `1h0m0s`, `1m30s`, `1.5s`, `200ms`, `1µs`, `0s`.
pub fn format_go_duration(d: Duration) -> String {
    format_go_nanos(d.as_nanos(), false)
}

/// Go `time.Duration.String()` for a signed nanosecond count (`-1m0s`).
pub fn format_go_duration_nanos(nanos: i64) -> String {
    format_go_nanos(u128::from(nanos.unsigned_abs()), nanos < 0)
}

fn format_go_nanos(u: u128, neg: bool) -> String {
    const SECOND: u128 = 1_000_000_000;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if u == 0 {
        return "0s".to_owned();
    }
    if u < SECOND {
        // Below a second Go switches to the largest unit that keeps an integer part: ns, µs or ms.
        let (prec, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (int, frac) = split_fraction(u, prec);
        out.push_str(&int.to_string());
        out.push_str(&frac);
        out.push_str(unit);
        return out;
    }
    let (secs, frac) = split_fraction(u, 9);
    let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{seconds}{frac}s"));
    out
}

/// Go's `fmtFrac`: splits `v` into `v / 10^prec` and the fraction `.ddd` without trailing zeros (empty if 0).
fn split_fraction(v: u128, prec: u32) -> (u128, String) {
    let pow = 10u128.pow(prec);
    let (int, frac) = (v / pow, v % pow);
    if frac == 0 {
        return (int, String::new());
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    (int, format!(".{}", digits.trim_end_matches('0')))
}

fn nanos_to_duration(nanos: u128) -> Duration {
    // Callers cap nanos at i64::MAX, which always fits a u64.
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Go's `strconv.Quote` (`%q`), which upstream error messages use; one implementation for the crate, kept
/// reachable here for existing callers.
pub use crate::labels::go_quote;

/// The `time` package's private `quote`: like `%q` for ASCII, but every byte of a non-ASCII or control
/// character is written as `\xNN`.
fn time_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if (c as u32) < 0x20 || (c as u32) >= 0x80 {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: u64 = 1;
    const US: u64 = 1_000;
    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;
    const M: u64 = 60 * S;
    const H: u64 = 60 * M;
    const D: u64 = 24 * H;

    struct Case {
        input: &'static str,
        want: Result<i64, &'static str>,
    }

    fn ok(input: &'static str, nanos: i64) -> Case {
        Case { input, want: Ok(nanos) }
    }

    fn err(input: &'static str, msg: &'static str) -> Case {
        Case { input, want: Err(msg) }
    }

    #[test]
    fn go_parse_table() {
        let cases = [
            ok("0", 0),
            ok("-0", 0),
            ok("+0", 0),
            ok("5s", 5 * S as i64),
            ok("30s", 30 * S as i64),
            ok("1478s", 1478 * S as i64),
            ok("-5s", -5 * S as i64),
            ok("+5s", 5 * S as i64),
            ok("-0s", 0),
            ok("5.0s", 5 * S as i64),
            ok("5.6s", (5 * S + 600 * MS) as i64),
            ok("5.s", 5 * S as i64),
            ok(".5s", (500 * MS) as i64),
            ok("1.0s", S as i64),
            ok("1.00s", S as i64),
            ok("1.004s", (S + 4 * MS) as i64),
            ok("1.0040s", (S + 4 * MS) as i64),
            ok("100.00100s", (100 * S + MS) as i64),
            ok("10ns", (10 * NS) as i64),
            ok("11us", (11 * US) as i64),
            ok("12\u{b5}s", (12 * US) as i64),
            ok("12\u{3bc}s", (12 * US) as i64),
            ok("13ms", (13 * MS) as i64),
            ok("14s", (14 * S) as i64),
            ok("15m", (15 * M) as i64),
            ok("16h", (16 * H) as i64),
            ok("3h30m", (3 * H + 30 * M) as i64),
            ok("10.5s4m", (4 * M + 10 * S + 500 * MS) as i64),
            ok("-2m3.4s", -((2 * M + 3 * S + 400 * MS) as i64)),
            ok("1h2m3s4ms5us6ns", (H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS) as i64),
            ok("39h9m14.425s", (39 * H + 9 * M + 14 * S + 425 * MS) as i64),
            ok("52763797000ns", 52_763_797_000),
            ok("0.3333333333333333333h", (20 * M) as i64),
            ok("9007199254740993ns", 9_007_199_254_740_993),
            ok("9223372036854775807ns", i64::MAX),
            ok("9223372036854775.807us", i64::MAX),
            ok("9223372036s854ms775us807ns", i64::MAX),
            ok("-9223372036854775808ns", i64::MIN),
            ok("-9223372036854775.808us", i64::MIN),
            ok("-9223372036s854ms775us808ns", i64::MIN),
            ok("-2562047h47m16.854775808s", i64::MIN),
            ok("0.100000000000000000000h", (6 * M) as i64),
            ok("0.830103483285477580700h", (49 * M + 48 * S + 372_539_827) as i64),
            ok("120h", (120 * H) as i64),
            ok("1.5h", (90 * M) as i64),
            ok("200ms", (200 * MS) as i64),
            err("", r#"time: invalid duration """#),
            err("3", r#"time: missing unit in duration "3""#),
            err("-", r#"time: invalid duration "-""#),
            err("s", r#"time: invalid duration "s""#),
            err(".", r#"time: invalid duration ".""#),
            err("-.", r#"time: invalid duration "-.""#),
            err(".s", r#"time: invalid duration ".s""#),
            err("+.s", r#"time: invalid duration "+.s""#),
            err("x", r#"time: invalid duration "x""#),
            err("5x", r#"time: unknown unit "x" in duration "5x""#),
            err("1d", r#"time: unknown unit "d" in duration "1d""#),
            err("1h30", r#"time: missing unit in duration "1h30""#),
            err("5 s", r#"time: unknown unit " s" in duration "5 s""#),
            err(" 5s", r#"time: invalid duration " 5s""#),
            err("5S", r#"time: unknown unit "S" in duration "5S""#),
            err("1\u{e9}", r#"time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9""#),
            err("\"5s", r#"time: invalid duration "\"5s""#),
            err("9223372036854775808ns", r#"time: invalid duration "9223372036854775808ns""#),
            err("9223372036854775.808us", r#"time: invalid duration "9223372036854775.808us""#),
            err("9223372036s854ms775us808ns", r#"time: invalid duration "9223372036s854ms775us808ns""#),
            err("-9223372036854775809ns", r#"time: invalid duration "-9223372036854775809ns""#),
            err("99999999999999999999h", r#"time: invalid duration "99999999999999999999h""#),
            err("3000000h", r#"time: invalid duration "3000000h""#),
        ];
        for case in cases {
            let got = parse_go_duration_nanos(case.input).map_err(|e| e.to_string());
            assert_eq!(got, case.want.map_err(str::to_owned), "input {:?}", case.input);
        }
    }

    #[test]
    fn go_parse_negative_saturates_to_zero() {
        assert_eq!(parse_go_duration("-5s"), Ok(Duration::ZERO));
        assert_eq!(parse_go_duration("1m"), Ok(Duration::from_secs(60)));
    }

    #[test]
    fn go_format_table() {
        let cases: [(i64, &str); 17] = [
            (0, "0s"),
            (1, "1ns"),
            (1100, "1.1\u{b5}s"),
            ((2200 * US) as i64, "2.2ms"),
            ((3300 * MS) as i64, "3.3s"),
            ((4 * M + 5 * S) as i64, "4m5s"),
            ((4 * M + 5 * S + MS) as i64, "4m5.001s"),
            ((5 * H + 6 * M + 7 * S + MS) as i64, "5h6m7.001s"),
            ((8 * M + 1) as i64, "8m0.000000001s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (M as i64, "1m0s"),
            (H as i64, "1h0m0s"),
            ((200 * MS) as i64, "200ms"),
            ((1500 * MS) as i64, "1.5s"),
            ((6 * H) as i64, "6h0m0s"),
            (-(S as i64), "-1s"),
        ];
        for (nanos, want) in cases {
            assert_eq!(format_go_duration_nanos(nanos), want, "nanos {nanos}");
            if nanos >= 0 {
                assert_eq!(format_go_duration(Duration::from_nanos(nanos as u64)), want);
            }
        }
    }

    #[test]
    fn go_round_trip_flag_defaults() {
        for s in ["120h0m0s", "15m0s", "30m0s", "5s", "200ms", "1m0s", "10s", "500ms", "1s", "6h0m0s", "0s"] {
            let d = parse_go_duration(s).expect("valid");
            assert_eq!(format_go_duration(d), s);
        }
    }

    #[test]
    fn prom_parse_table() {
        let cases = [
            ok("0", 0),
            ok("0s", 0),
            ok("0ms", 0),
            ok("1ms", MS as i64),
            ok("1s", S as i64),
            ok("30s", (30 * S) as i64),
            ok("5m", (5 * M) as i64),
            ok("1h", H as i64),
            ok("4h", (4 * H) as i64),
            ok("1d", D as i64),
            ok("1w", (7 * D) as i64),
            ok("1y", (365 * D) as i64),
            ok("1h30m", (H + 30 * M) as i64),
            ok("1d12h", (36 * H) as i64),
            ok("1y2w3d4h5m6s7ms", (365 * D + 14 * D + 3 * D + 4 * H + 5 * M + 6 * S + 7 * MS) as i64),
            ok("90m", (90 * M) as i64),
            ok("01h", H as i64),
            ok("292y", (292 * 365 * D) as i64),
            ok("106751d", (106_751 * D) as i64),
            err("", "empty duration string"),
            err("5x", r#"not a valid duration string: "5x""#),
            err("1.5h", r#"not a valid duration string: "1.5h""#),
            err("-1s", r#"not a valid duration string: "-1s""#),
            err("1h1h", r#"not a valid duration string: "1h1h""#),
            err("1m1h", r#"not a valid duration string: "1m1h""#),
            err("1s1ms1s", r#"not a valid duration string: "1s1ms1s""#),
            err("h", r#"not a valid duration string: "h""#),
            err("1", r#"not a valid duration string: "1""#),
            err("00", r#"not a valid duration string: "00""#),
            err(" 1s", r#"not a valid duration string: " 1s""#),
            err("1s ", r#"not a valid duration string: "1s ""#),
            err("1us", r#"not a valid duration string: "1us""#),
            err("1M", r#"not a valid duration string: "1M""#),
            err("1\n", r#"not a valid duration string: "1\n""#),
            err("1\u{e9}", "not a valid duration string: \"1\u{e9}\""),
            err("293y", "duration out of range"),
            err("106752d", "duration out of range"),
            err("292y30w", "duration out of range"),
            err("99999999999999999999999y", "duration out of range"),
        ];
        for case in cases {
            let got = parse_prom_duration(case.input).map(|d| d.as_nanos() as i64).map_err(|e| e.to_string());
            assert_eq!(got, case.want.map_err(str::to_owned), "input {:?}", case.input);
        }
    }

    #[test]
    fn prom_format_table() {
        let cases: [(u64, &str); 14] = [
            (0, "0s"),
            (MS - 1, "0s"),
            (MS, "1ms"),
            (S, "1s"),
            (M, "1m"),
            (H, "1h"),
            (H + 30 * M, "1h30m"),
            (D, "1d"),
            (7 * D, "1w"),
            (14 * D, "2w"),
            (90 * D, "90d"),
            (365 * D, "1y"),
            (366 * D, "366d"),
            (D + 2 * H + 3 * M + 4 * S + 5 * MS, "1d2h3m4s5ms"),
        ];
        for (nanos, want) in cases {
            assert_eq!(format_prom_duration(Duration::from_nanos(nanos)), want, "nanos {nanos}");
        }
    }

    #[test]
    fn prom_round_trip() {
        for s in ["0s", "1ms", "30s", "5m", "4h", "1d", "1w", "1y", "1h30m", "12h", "5d12h"] {
            let d = parse_prom_duration(s).expect("valid");
            assert_eq!(format_prom_duration(d), s);
        }
    }

    #[test]
    fn quoting_matches_go() {
        assert_eq!(go_quote("a\"b\\c\n\u{1}\u{e9}\u{85}"), "\"a\\\"b\\\\c\\n\\x01\u{e9}\\u0085\"");
    }
}
