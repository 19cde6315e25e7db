//! go-openapi's `strfmt.DateTime` parsing, as Alertmanager's API decodes `startsAt`/`endsAt`.
//!
//! Accepted (the formats strfmt tries, measured on 0.25): RFC 3339 with `Z` or `±hh:mm` and any fraction,
//! `2006-01-02T15:04:05` (UTC), `2006-01-02T15:04Z`, `2006-01-02T15:04`, `2006-01-02 15:04:05`. The empty string
//! is the Unix epoch (strfmt's quirk: `""` is not "absent", `null` is). On failure the error is the one Go's
//! `time.Parse` gives for the last layout tried, `2006-01-02 15:04:05`, e.g.
//! `parsing time "notadate" as "2006-01-02 15:04:05": cannot parse "notadate" as "2006"`.

use chrono::{FixedOffset, NaiveDate, TimeZone};
use tocsin_model::labels::go_quote;
use tocsin_model::time::Timestamp;

const LAST_LAYOUT: &str = "2006-01-02 15:04:05";

/// Parses a strfmt date-time; the error is Go's message.
pub fn parse(s: &str) -> Result<Timestamp, String> {
    if s.is_empty() {
        return Ok(FixedOffset::east_opt(0).and_then(|z| z.timestamp_opt(0, 0).single()).unwrap_or_default());
    }
    parse_accepted(s).ok_or_else(|| go_error(s))
}

struct Cursor<'a> {
    s: &'a [u8],
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        if self.s.len() < n || !self.s[..n].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = self.s[..n].iter().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
        self.s = &self.s[n..];
        Some(v)
    }
    fn lit(&mut self, c: u8) -> bool {
        if self.s.first() == Some(&c) {
            self.s = &self.s[1..];
            true
        } else {
            false
        }
    }
}

/// The formats strfmt accepts; `None` when none does.
fn parse_accepted(s: &str) -> Option<Timestamp> {
    let mut c = Cursor { s: s.as_bytes() };
    let year = c.digits(4)?;
    c.lit(b'-').then_some(())?;
    let month = c.digits(2)?;
    c.lit(b'-').then_some(())?;
    let day = c.digits(2)?;
    let t_sep = if c.lit(b'T') {
        true
    } else if c.lit(b' ') {
        false
    } else {
        return None;
    };
    let hour = c.digits(2)?;
    c.lit(b':').then_some(())?;
    let minute = c.digits(2)?;
    let mut second = None;
    let mut nanos = 0u32;
    if c.lit(b':') {
        second = Some(c.digits(2)?);
        if c.s.len() >= 2 && (c.s[0] == b'.' || c.s[0] == b',') && c.s[1].is_ascii_digit() {
            c.s = &c.s[1..];
            let n = c.s.iter().take_while(|b| b.is_ascii_digit()).count();
            let frac = &c.s[..n];
            c.s = &c.s[n..];
            let mut scale = 100_000_000u32;
            for &d in frac.iter().take(9) {
                nanos += u32::from(d - b'0') * scale;
                scale /= 10;
            }
        }
    }
    let offset = if c.lit(b'Z') {
        Some(0)
    } else if c.s.first().is_some_and(|&b| b == b'+' || b == b'-') {
        let sign = if c.s[0] == b'-' { -1 } else { 1 };
        c.s = &c.s[1..];
        let oh = c.digits(2)?;
        c.lit(b':').then_some(())?;
        let om = c.digits(2)?;
        if oh > 23 || om > 59 {
            return None;
        }
        Some(sign * (oh as i32 * 3600 + om as i32 * 60))
    } else {
        None
    };
    if !c.s.is_empty() {
        return None;
    }
    // Which combinations strfmt's layouts cover.
    let ok = t_sep || (second.is_some() && offset.is_none());
    if !ok {
        return None;
    }
    let tz = FixedOffset::east_opt(offset.unwrap_or(0))?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let naive = date.and_hms_nano_opt(hour, minute, second.unwrap_or(0), nanos)?;
    tz.from_local_datetime(&naive).single()
}

/// Go's `time.Parse("2006-01-02 15:04:05", s)` error for an `s` no accepted layout parsed.
fn go_error(value: &str) -> String {
    let cannot = |rest: &str, elem: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            go_quote(value),
            go_quote(LAST_LAYOUT),
            go_quote(rest),
            go_quote(elem)
        )
    };
    let range = |what: &str| format!("parsing time {}: {what} out of range", go_quote(value));
    let mut rest = value;
    // Year: exactly four digits.
    if rest.len() < 4 || !rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        return cannot(rest, "2006");
    }
    rest = &rest[4..];
    let year: i32 = value[..4].parse().unwrap_or(0);
    // (literal, element, fixed width, range check)
    type Step = (&'static str, &'static str, bool, Option<(u32, u32, &'static str)>);
    let steps: [Step; 5] = [
        ("-", "01", true, Some((1, 12, "month"))),
        ("-", "02", true, None),
        (" ", "15", false, Some((0, 23, "hour"))),
        (":", "04", true, Some((0, 59, "minute"))),
        (":", "05", true, Some((0, 59, "second"))),
    ];
    let mut nums = [0u32; 5];
    for (i, (lit, elem, fixed, check)) in steps.iter().enumerate() {
        if *lit == " " {
            // A layout space matches any run of spaces, including none at the end of the input.
            if !rest.is_empty() && !rest.starts_with(' ') {
                return cannot(rest, lit);
            }
            rest = rest.trim_start_matches(' ');
        } else if let Some(r) = rest.strip_prefix(lit) {
            rest = r;
        } else {
            return cannot(rest, lit);
        }
        let b = rest.as_bytes();
        if b.first().is_none_or(|c| !c.is_ascii_digit()) {
            return cannot(rest, elem);
        }
        let two = b.get(1).is_some_and(u8::is_ascii_digit);
        if !two && *fixed {
            return cannot(rest, elem);
        }
        let width = if two { 2 } else { 1 };
        let n: u32 = rest[..width].parse().unwrap_or(0);
        rest = &rest[width..];
        if let Some((lo, hi, what)) = check {
            if n < *lo || n > *hi {
                return range(what);
            }
        }
        nums[i] = n;
    }
    // Fractional seconds are consumed even though the layout has none.
    let b = rest.as_bytes();
    if b.len() >= 2 && (b[0] == b'.' || b[0] == b',') && b[1].is_ascii_digit() {
        let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        rest = &rest[n..];
    }
    if !rest.is_empty() {
        return format!("parsing time {}: extra text: {}", go_quote(value), go_quote(rest));
    }
    if NaiveDate::from_ymd_opt(year, nums[0], nums[1]).is_none() {
        return range("day");
    }
    // Unreachable in practice: a value that parses here was accepted above.
    cannot(value, "2006")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_model::time::format_millis;

    struct Case {
        input: &'static str,
        want: Result<&'static str, &'static str>,
    }

    #[test]
    fn strfmt_table() {
        // Error texts measured on Alertmanager 0.25.
        let cases = [
            Case { input: "2026-01-01T10:00:00Z", want: Ok("2026-01-01T10:00:00.000Z") },
            Case { input: "2026-01-01T10:00:00.5Z", want: Ok("2026-01-01T10:00:00.500Z") },
            Case { input: "2026-11-26T10:00:00.123456+02:00", want: Ok("2026-11-26T10:00:00.123+02:00") },
            Case { input: "2026-01-01T10:00:00", want: Ok("2026-01-01T10:00:00.000Z") },
            Case { input: "2026-01-01T10:00", want: Ok("2026-01-01T10:00:00.000Z") },
            Case { input: "2026-01-01 10:00:00", want: Ok("2026-01-01T10:00:00.000Z") },
            Case { input: "", want: Ok("1970-01-01T00:00:00.000Z") },
            Case {
                input: "notadate",
                want: Err(
                    r#"parsing time "notadate" as "2006-01-02 15:04:05": cannot parse "notadate" as "2006""#,
                ),
            },
            Case {
                input: "2026-01-01",
                want: Err(r#"parsing time "2026-01-01" as "2006-01-02 15:04:05": cannot parse "" as "15""#),
            },
            Case {
                input: "2026-01-01T10:00:00+0200",
                want: Err(
                    r#"parsing time "2026-01-01T10:00:00+0200" as "2006-01-02 15:04:05": cannot parse "T10:00:00+0200" as " ""#,
                ),
            },
            Case {
                input: "2026-01-01 10:00:00Z",
                want: Err(r#"parsing time "2026-01-01 10:00:00Z": extra text: "Z""#),
            },
            Case {
                input: "2026-13-01T10:00:00Z",
                want: Err(r#"parsing time "2026-13-01T10:00:00Z": month out of range"#),
            },
            Case {
                input: "2026-01-01T10:00:00z",
                want: Err(
                    r#"parsing time "2026-01-01T10:00:00z" as "2006-01-02 15:04:05": cannot parse "T10:00:00z" as " ""#,
                ),
            },
        ];
        for c in cases {
            let got = parse(c.input).map(|t| format_millis(&t));
            assert_eq!(got.as_deref().map_err(String::as_str), c.want, "{}", c.input);
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "2",
            "2026-",
            "2026-1",
            "2026-01-01 1",
            "2026-01-01 99:00:00",
            "\u{1F600}",
            "2026-02-30 10:00:00",
        ] {
            let _ = parse(s);
        }
        assert_eq!(
            parse("2026-02-30 10:00:00").unwrap_err(),
            r#"parsing time "2026-02-30 10:00:00": day out of range"#
        );
    }
}
