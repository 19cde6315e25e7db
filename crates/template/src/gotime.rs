//! Go's `time.Time` as templates see it: an instant plus a location, formatted with Go's reference-date layouts
//! (`2006-01-02 15:04:05`), printed as `time.Time.String()`, and `time.Duration` printed as Go prints it.

use chrono::{DateTime, Datelike, FixedOffset, Offset, TimeZone, Timelike, Utc};
use chrono_tz::{OffsetName, Tz};

/// A time zone as Go's `*time.Location`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    Utc,
    /// A zone without a name (`FixedZone("", offset)`), printed as `+0800`.
    Fixed(i32),
    /// A named IANA zone (from `tz`, `.In`, or Go's `Local`).
    Tz(Tz),
}

/// Go's `time.Time` (without the monotonic reading, which templates never print for alert times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoTime {
    pub instant: DateTime<Utc>,
    pub loc: Loc,
}

/// Go's `Local`: `$TZ` if set, else the zone `/etc/localtime` links to, else UTC.
pub fn local_tz() -> Tz {
    let from_env = std::env::var("TZ").ok().map(|s| s.trim_start_matches(':').to_string());
    let name = match from_env {
        Some(s) if s.is_empty() => return Tz::UTC,
        Some(s) => Some(s),
        None => std::fs::read_link("/etc/localtime")
            .ok()
            .and_then(|p| p.to_str().and_then(|s| s.split("zoneinfo/").nth(1).map(str::to_string))),
    };
    name.and_then(|n| n.parse::<Tz>().ok()).unwrap_or(Tz::UTC)
}

impl GoTime {
    /// Go's zero time, `0001-01-01 00:00:00 +0000 UTC`.
    pub fn zero() -> Self {
        let instant = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC);
        GoTime { instant, loc: Loc::Utc }
    }

    pub fn is_zero(&self) -> bool {
        self.instant == Self::zero().instant
    }

    /// A parsed timestamp as Go's `time.Parse` locates it: offset 0 is UTC, the local zone's offset is `Local`,
    /// anything else a nameless fixed zone.
    pub fn from_fixed(t: &DateTime<FixedOffset>) -> Self {
        let instant = t.with_timezone(&Utc);
        let off = t.offset().local_minus_utc();
        let loc = if off == 0 {
            Loc::Utc
        } else {
            let local = local_tz();
            if local.offset_from_utc_datetime(&instant.naive_utc()).fix().local_minus_utc() == off {
                Loc::Tz(local)
            } else {
                Loc::Fixed(off)
            }
        };
        GoTime { instant, loc }
    }

    pub fn utc(self) -> Self {
        GoTime { loc: Loc::Utc, ..self }
    }

    pub fn in_loc(self, loc: Loc) -> Self {
        GoTime { loc, ..self }
    }

    /// (offset seconds, zone abbreviation; empty for nameless fixed zones).
    fn zone(&self) -> (i32, String) {
        match self.loc {
            Loc::Utc => (0, "UTC".into()),
            Loc::Fixed(off) => (off, String::new()),
            Loc::Tz(tz) => {
                let o = tz.offset_from_utc_datetime(&self.instant.naive_utc());
                let abbr = o.abbreviation().unwrap_or("").to_string();
                (o.fix().local_minus_utc(), abbr)
            }
        }
    }

    fn wall(&self) -> chrono::NaiveDateTime {
        let (off, _) = self.zone();
        self.instant.naive_utc() + chrono::Duration::seconds(off as i64)
    }

    pub fn unix(&self) -> i64 {
        self.instant.timestamp()
    }

    pub fn unix_nano(&self) -> i64 {
        self.instant.timestamp_nanos_opt().unwrap_or(i64::MIN)
    }

    pub fn add_nanos(self, d: i64) -> Self {
        GoTime { instant: self.instant + chrono::Duration::nanoseconds(d), ..self }
    }

    /// `t.Sub(u)` in nanoseconds, saturating like Go.
    pub fn sub(&self, other: &GoTime) -> i64 {
        (self.instant - other.instant).num_nanoseconds().unwrap_or(if self.instant > other.instant {
            i64::MAX
        } else {
            i64::MIN
        })
    }

    pub fn year(&self) -> i64 {
        self.wall().year() as i64
    }
    pub fn month(&self) -> u32 {
        self.wall().month()
    }
    pub fn day(&self) -> u32 {
        self.wall().day()
    }
    pub fn hour(&self) -> u32 {
        self.wall().hour()
    }
    pub fn minute(&self) -> u32 {
        self.wall().minute()
    }
    pub fn second(&self) -> u32 {
        self.wall().second()
    }
    pub fn weekday(&self) -> &'static str {
        LONG_DAYS[self.wall().weekday().num_days_from_sunday() as usize]
    }

    /// Go's `time.Time.String()`.
    pub fn go_string(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }

    /// Go's `time.Time.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        let wall = self.wall();
        let (offset, zone_name) = self.zone();
        let nanos = wall.nanosecond() % 1_000_000_000;
        let mut out = String::with_capacity(layout.len() + 10);
        let mut rest = layout;
        while !rest.is_empty() {
            let (prefix, std, suffix) = next_std_chunk(rest);
            out.push_str(prefix);
            let Some(std) = std else { break };
            rest = suffix;
            let year = wall.year();
            let hour = wall.hour();
            match std {
                Std::Year => out.push_str(&format!("{:02}", (year % 100).abs())),
                Std::LongYear => out.push_str(&format!("{year:04}")),
                Std::Month => out.push_str(&LONG_MONTHS[wall.month0() as usize][..3]),
                Std::LongMonth => out.push_str(LONG_MONTHS[wall.month0() as usize]),
                Std::NumMonth => out.push_str(&wall.month().to_string()),
                Std::ZeroMonth => out.push_str(&format!("{:02}", wall.month())),
                Std::WeekDay => out.push_str(&self.weekday()[..3]),
                Std::LongWeekDay => out.push_str(self.weekday()),
                Std::Day => out.push_str(&wall.day().to_string()),
                Std::UnderDay => out.push_str(&format!("{:>2}", wall.day())),
                Std::ZeroDay => out.push_str(&format!("{:02}", wall.day())),
                Std::UnderYearDay => out.push_str(&format!("{:>3}", wall.ordinal())),
                Std::ZeroYearDay => out.push_str(&format!("{:03}", wall.ordinal())),
                Std::Hour => out.push_str(&format!("{hour:02}")),
                Std::Hour12 | Std::ZeroHour12 => {
                    let h = match hour % 12 {
                        0 => 12,
                        h => h,
                    };
                    if std == Std::Hour12 {
                        out.push_str(&h.to_string())
                    } else {
                        out.push_str(&format!("{h:02}"))
                    }
                }
                Std::Minute => out.push_str(&wall.minute().to_string()),
                Std::ZeroMinute => out.push_str(&format!("{:02}", wall.minute())),
                Std::Second => out.push_str(&wall.second().to_string()),
                Std::ZeroSecond => out.push_str(&format!("{:02}", wall.second())),
                Std::PM => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
                Std::Pm => out.push_str(if hour >= 12 { "pm" } else { "am" }),
                Std::Tz => {
                    if zone_name.is_empty() {
                        push_offset(&mut out, offset, false, false, false);
                    } else {
                        out.push_str(&zone_name);
                    }
                }
                Std::Offset { iso, colon, seconds, short } => {
                    if iso && offset == 0 {
                        out.push('Z');
                    } else {
                        push_offset(&mut out, offset, colon, seconds, short);
                    }
                }
                Std::Frac { sep, digits, trim } => {
                    let s = format!("{nanos:09}");
                    let mut d = s[..digits.min(9)].to_string();
                    if trim {
                        d = d.trim_end_matches('0').to_string();
                        if d.is_empty() {
                            continue;
                        }
                    }
                    out.push(sep);
                    out.push_str(&d);
                }
            }
        }
        out
    }
}

fn push_offset(out: &mut String, offset: i32, colon: bool, seconds: bool, short: bool) {
    let mut zone = offset / 60;
    let mut abs = offset;
    if zone < 0 {
        out.push('-');
        zone = -zone;
        abs = -abs;
    } else {
        out.push('+');
    }
    out.push_str(&format!("{:02}", zone / 60));
    if !short {
        if colon {
            out.push(':');
        }
        out.push_str(&format!("{:02}", zone % 60));
    }
    if seconds {
        if colon {
            out.push(':');
        }
        out.push_str(&format!("{:02}", abs % 60));
    }
}

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const LONG_DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

pub(crate) fn month_name(m: u32) -> &'static str {
    LONG_MONTHS[(m.clamp(1, 12) - 1) as usize]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Std {
    Year,
    LongYear,
    Month,
    LongMonth,
    NumMonth,
    ZeroMonth,
    WeekDay,
    LongWeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    PM,
    Pm,
    Tz,
    Offset { iso: bool, colon: bool, seconds: bool, short: bool },
    Frac { sep: char, digits: usize, trim: bool },
}

/// Go's `nextStdChunk`: (literal prefix, the element, the rest after it).
fn next_std_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize, s: &str| layout[i..].starts_with(s);
    let mut i = 0;
    while i < b.len() {
        let found: Option<(Std, usize)> = match b[i] {
            b'J' if at(i, "January") => Some((Std::LongMonth, 7)),
            b'J' if at(i, "Jan") => Some((Std::Month, 3)),
            b'M' if at(i, "Monday") => Some((Std::LongWeekDay, 6)),
            b'M' if at(i, "Mon") => Some((Std::WeekDay, 3)),
            b'M' if at(i, "MST") => Some((Std::Tz, 3)),
            b'0' if at(i, "002") => Some((Std::ZeroYearDay, 3)),
            b'0' if i + 1 < b.len() && (b'1'..=b'6').contains(&b[i + 1]) => Some((
                match b[i + 1] {
                    b'1' => Std::ZeroMonth,
                    b'2' => Std::ZeroDay,
                    b'3' => Std::ZeroHour12,
                    b'4' => Std::ZeroMinute,
                    b'5' => Std::ZeroSecond,
                    _ => Std::Year,
                },
                2,
            )),
            b'1' if at(i, "15") => Some((Std::Hour, 2)),
            b'1' => Some((Std::NumMonth, 1)),
            b'2' if at(i, "2006") => Some((Std::LongYear, 4)),
            b'2' => Some((Std::Day, 1)),
            b'_' if at(i, "_2006") => {
                // A literal "_" followed by the year.
                return (&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]);
            }
            b'_' if at(i, "__2") => Some((Std::UnderYearDay, 3)),
            b'_' if at(i, "_2") => Some((Std::UnderDay, 2)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if at(i, "PM") => Some((Std::PM, 2)),
            b'p' if at(i, "pm") => Some((Std::Pm, 2)),
            c @ (b'-' | b'Z') => {
                let iso = c == b'Z';
                let o = |colon, seconds, short| Std::Offset { iso, colon, seconds, short };
                if at(i + 1, "070000") {
                    Some((o(false, true, false), 7))
                } else if at(i + 1, "07:00:00") {
                    Some((o(true, true, false), 9))
                } else if at(i + 1, "0700") {
                    Some((o(false, false, false), 5))
                } else if at(i + 1, "07:00") {
                    Some((o(true, false, false), 6))
                } else if at(i + 1, "07") {
                    Some((o(false, false, true), 3))
                } else {
                    None
                }
            }
            c @ (b'.' | b',') if i + 1 < b.len() && (b[i + 1] == b'0' || b[i + 1] == b'9') => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == ch {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    None
                } else {
                    Some((Std::Frac { sep: c as char, digits: j - (i + 1), trim: ch == b'9' }, j - i))
                }
            }
            _ => None,
        };
        if let Some((std, len)) = found {
            return (&layout[..i], Some(std), &layout[i + len..]);
        }
        i += layout[i..].chars().next().map_or(1, char::len_utf8);
    }
    (layout, None, "")
}

/// Go's `time.Duration.String()` for a count of nanoseconds.
pub fn duration_string(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac(u, scale));
        out.push_str(unit);
    } else {
        let secs = u / 1_000_000_000;
        let h = secs / 3600;
        let m = (secs / 60) % 60;
        let s_ns = u % 60_000_000_000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&frac(s_ns, 1_000_000_000));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / scale` with the fraction's trailing zeros removed.
fn frac(v: u64, scale: u64) -> String {
    let int = v / scale;
    let rem = v % scale;
    if rem == 0 {
        return int.to_string();
    }
    let width = scale.to_string().len() - 1;
    let f = format!("{rem:0width$}");
    format!("{int}.{}", f.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> GoTime {
        GoTime::from_fixed(&DateTime::parse_from_rfc3339(s).unwrap())
    }

    #[test]
    fn layouts() {
        struct Case {
            layout: &'static str,
            want: &'static str,
        }
        let tm = t("2024-03-05T07:08:09.120Z");
        let cases = [
            Case { layout: "2006-01-02 15:04:05", want: "2024-03-05 07:08:09" },
            Case { layout: "Jan _2 3:4:5 PM", want: "Mar  5 7:8:9 AM" },
            Case { layout: "Monday, January 2 2006", want: "Tuesday, March 5 2024" },
            Case { layout: "15:04:05.000", want: "07:08:09.120" },
            Case { layout: "15:04:05.999", want: "07:08:09.12" },
            Case { layout: "2006-01-02T15:04:05Z07:00", want: "2024-03-05T07:08:09Z" },
            Case { layout: "-0700 -07:00 -07 MST", want: "+0000 +00:00 +00 UTC" },
            Case { layout: "06 002 __2 pm", want: "24 065  65 am" },
        ];
        for c in cases {
            assert_eq!(tm.format(c.layout), c.want, "{}", c.layout);
        }
    }

    #[test]
    fn strings_like_go() {
        assert_eq!(GoTime::zero().go_string(), "0001-01-01 00:00:00 +0000 UTC");
        assert_eq!(t("2024-03-05T07:08:09.5+08:00").utc().go_string(), "2024-03-04 23:08:09.5 +0000 UTC");
        let shanghai = t("2024-03-05T07:08:09Z").in_loc(Loc::Tz(chrono_tz::Asia::Shanghai));
        assert_eq!(shanghai.go_string(), "2024-03-05 15:08:09 +0800 CST");
        assert_eq!(
            t("2024-03-05T07:08:09Z").in_loc(Loc::Fixed(-3600 * 5)).go_string(),
            "2024-03-05 02:08:09 -0500 -0500"
        );
    }

    #[test]
    fn durations() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (2_000_000, "2ms"),
            (1_500_000_000, "1.5s"),
            (3_723_000_000_000, "1h2m3s"),
            (3_600_000_000_000, "1h0m0s"),
            (-90_000_000_000, "-1m30s"),
        ];
        for (d, want) in cases {
            assert_eq!(duration_string(d), want);
        }
    }
}
