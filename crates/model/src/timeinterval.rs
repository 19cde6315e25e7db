//! Time intervals (Alertmanager's `timeinterval` package): the `time_intervals` / `mute_time_intervals` specs of
//! alertmanager.yml, their YAML form with upstream's validation errors, and `contains`, the membership test used
//! by the time-mute and time-active stages.
//!
//! Membership takes the instant as an argument (wall time is an input, see [`crate::clock`]).

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Minutes of the day, `[start, end)`; `end` may be 1440 (`24:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start_minute: u32,
    pub end_minute: u32,
}

/// An inclusive range of integers (weekday 0 = Sunday, day of month, month 1..=12, year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InclusiveRange {
    pub begin: i32,
    pub end: i32,
}

/// Where the interval is evaluated: Go's `time.LoadLocation` accepts `UTC`, `Local` and IANA names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Utc,
    Local,
    Tz(chrono_tz::Tz),
}

impl Location {
    /// Go's `time.LoadLocation`; the error text is Go's.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "" | "UTC" => Ok(Location::Utc),
            "Local" => Ok(Location::Local),
            other => other
                .parse::<chrono_tz::Tz>()
                .map(Location::Tz)
                .map_err(|_| format!("unknown time zone {other}")),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Location::Utc => "UTC".to_owned(),
            Location::Local => "Local".to_owned(),
            Location::Tz(tz) => tz.name().to_owned(),
        }
    }
}

/// One spec: an instant matches when every non-empty field has a matching element.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "RawTimeInterval", into = "RawTimeInterval")]
pub struct TimeInterval {
    pub times: Vec<TimeRange>,
    pub weekdays: Vec<InclusiveRange>,
    pub days_of_month: Vec<InclusiveRange>,
    pub months: Vec<InclusiveRange>,
    pub years: Vec<InclusiveRange>,
    pub location: Option<Location>,
}

/// Civil fields of an instant in the interval's location.
struct Civil {
    minute_of_day: u32,
    day: u32,
    days_in_month: u32,
    month: u32,
    weekday: u32,
    year: i32,
}

fn civil<Tz: TimeZone>(t: DateTime<Tz>) -> Civil {
    let (y, m) = (t.year(), t.month());
    Civil {
        minute_of_day: t.hour() * 60 + t.minute(),
        day: t.day(),
        days_in_month: days_in_month(y, m),
        month: m,
        weekday: t.weekday().num_days_from_sunday(),
        year: y,
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    match (chrono::NaiveDate::from_ymd_opt(year, month, 1), chrono::NaiveDate::from_ymd_opt(ny, nm, 1)) {
        (Some(a), Some(b)) => u32::try_from((b - a).num_days()).unwrap_or(31),
        _ => 31,
    }
}

impl TimeInterval {
    /// Upstream `TimeInterval.ContainsTime`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        let c = match self.location {
            None | Some(Location::Utc) => civil(t),
            Some(Location::Local) => civil(t.with_timezone(&chrono::Local)),
            Some(Location::Tz(tz)) => civil(t.with_timezone(&tz)),
        };
        if !self.times.is_empty()
            && !self.times.iter().any(|r| c.minute_of_day >= r.start_minute && c.minute_of_day < r.end_minute)
        {
            return false;
        }
        if !self.days_of_month.is_empty() && !self.days_of_month.iter().any(|r| day_in_range(r, &c)) {
            return false;
        }
        let within = |rs: &[InclusiveRange], v: i64| {
            rs.iter().any(|r| v >= i64::from(r.begin) && v <= i64::from(r.end))
        };
        if !self.months.is_empty() && !within(&self.months, i64::from(c.month)) {
            return false;
        }
        if !self.weekdays.is_empty() && !within(&self.weekdays, i64::from(c.weekday)) {
            return false;
        }
        if !self.years.is_empty() && !within(&self.years, i64::from(c.year)) {
            return false;
        }
        true
    }
}

/// Negative days count from the month's end; a begin past the month's end skips the range; ends are clamped.
fn day_in_range(r: &InclusiveRange, c: &Civil) -> bool {
    let dim = i64::from(c.days_in_month);
    let resolve = |d: i32| if d < 0 { dim + i64::from(d) + 1 } else { i64::from(d) };
    let (begin, end) = (resolve(r.begin), resolve(r.end));
    if begin > dim {
        return false;
    }
    let (begin, end) = (begin.clamp(-dim, dim), end.clamp(-dim, dim));
    let day = i64::from(c.day);
    day >= begin && day <= end
}

/// True when any spec of a named interval contains `t` (upstream `Intervener.Mutes` for one name).
pub fn any_contains(intervals: &[TimeInterval], t: DateTime<Utc>) -> bool {
    intervals.iter().any(|ti| ti.contains(t))
}

// ---------------------------------------------------------------------------------------------------------------
// YAML form.

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeRange {
    #[serde(default)]
    pub start_time: String,
    #[serde(default)]
    pub end_time: String,
}

/// The YAML shape of a spec, field order as upstream's struct (and its `omitempty` tags).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeInterval {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<RawTimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days_of_month: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub months: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A validation error, worded as upstream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeIntervalError(pub String);

const WEEKDAYS: [&str; 7] = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn err(s: impl Into<String>) -> TimeIntervalError {
    TimeIntervalError(s.into())
}

/// Go `strconv.Atoi` error wording.
fn atoi(s: &str) -> Result<i32, TimeIntervalError> {
    s.parse::<i32>().map_err(|_| err(format!("strconv.Atoi: parsing {s:?}: invalid syntax")))
}

/// Splits `a:b` (or `a`) as upstream's `stringableRangeFromString`, after lower-casing.
fn split_range(input: &str) -> Result<(String, String), TimeIntervalError> {
    let lower = input.to_lowercase();
    if lower.contains(':') {
        let parts: Vec<&str> = lower.split(':').collect();
        if parts.len() != 2 {
            return Err(err(format!("couldn't parse range {lower:?}, invalid format")));
        }
        Ok((parts[0].to_owned(), parts[1].to_owned()))
    } else {
        Ok((lower.clone(), lower))
    }
}

fn parse_weekdays(input: &str) -> Result<InclusiveRange, TimeIntervalError> {
    let (b, e) = split_range(input)?;
    let day = |s: &str| {
        WEEKDAYS
            .iter()
            .position(|d| *d == s)
            .and_then(|i| i32::try_from(i).ok())
            .ok_or_else(|| err(format!("{s} is not a valid weekday")))
    };
    let r = InclusiveRange { begin: day(&b)?, end: day(&e)? };
    if r.begin > r.end {
        return Err(err("start day cannot be before end day"));
    }
    Ok(r)
}

fn parse_days_of_month(input: &str) -> Result<InclusiveRange, TimeIntervalError> {
    let (b, e) = split_range(input)?;
    let r = InclusiveRange { begin: atoi(&b)?, end: atoi(&e)? };
    for v in [r.begin, r.end] {
        if v == 0 || !(-31..=31).contains(&v) {
            return Err(err(format!("{v} is not a valid day of the month: out of range")));
        }
    }
    if r.begin < 0 && r.end > 0 {
        return Err(err("end day must be negative if start day is negative"));
    }
    let norm = |d: i32| if d < 0 { 28 + d } else { d };
    if norm(r.begin) > norm(r.end) {
        return Err(err(format!("end day {} is always before start day {}", r.end, r.begin)));
    }
    Ok(r)
}

fn parse_months(input: &str) -> Result<InclusiveRange, TimeIntervalError> {
    let (b, e) = split_range(input)?;
    let month = |s: &str| -> Result<i32, TimeIntervalError> {
        if let Ok(n) = s.parse::<i32>() {
            if !(1..=12).contains(&n) {
                return Err(err(format!("{n} is not a valid month: out of range")));
            }
            return Ok(n);
        }
        MONTHS
            .iter()
            .position(|m| *m == s)
            .and_then(|i| i32::try_from(i + 1).ok())
            .ok_or_else(|| err(format!("{s} is not a valid month")))
    };
    let r = InclusiveRange { begin: month(&b)?, end: month(&e)? };
    if r.begin > r.end {
        return Err(err(format!("end month {e} is before start month {b}")));
    }
    Ok(r)
}

fn parse_years(input: &str) -> Result<InclusiveRange, TimeIntervalError> {
    let (b, e) = split_range(input)?;
    let r = InclusiveRange { begin: atoi(&b)?, end: atoi(&e)? };
    if r.begin > r.end {
        return Err(err(format!("end year {} is before start year {}", r.end, r.begin)));
    }
    Ok(r)
}

/// `^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)` → minutes of the day.
fn parse_time(s: &str) -> Result<u32, TimeIntervalError> {
    let invalid = || err(format!("couldn't parse timestamp {s}, invalid format"));
    if s == "24:00" {
        return Ok(1440);
    }
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' || !b.iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit()) {
        return Err(invalid());
    }
    let h = u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
    let m = u32::from(b[3] - b'0') * 10 + u32::from(b[4] - b'0');
    if h > 23 || m > 59 {
        return Err(invalid());
    }
    Ok(h * 60 + m)
}

fn parse_time_range(r: &RawTimeRange) -> Result<TimeRange, TimeIntervalError> {
    if r.start_time.is_empty() || r.end_time.is_empty() {
        return Err(err("both start and end times must be provided"));
    }
    let (start, end) = (parse_time(&r.start_time)?, parse_time(&r.end_time)?);
    if start >= end {
        return Err(err("start time cannot be equal or greater than end time"));
    }
    Ok(TimeRange { start_minute: start, end_minute: end })
}

impl TryFrom<RawTimeInterval> for TimeInterval {
    type Error = TimeIntervalError;

    fn try_from(raw: RawTimeInterval) -> Result<Self, Self::Error> {
        let all = |v: &[String], f: fn(&str) -> Result<InclusiveRange, TimeIntervalError>| {
            v.iter().map(|s| f(s)).collect::<Result<Vec<_>, _>>()
        };
        Ok(TimeInterval {
            times: raw.times.iter().map(parse_time_range).collect::<Result<_, _>>()?,
            weekdays: all(&raw.weekdays, parse_weekdays)?,
            days_of_month: all(&raw.days_of_month, parse_days_of_month)?,
            months: all(&raw.months, parse_months)?,
            years: all(&raw.years, parse_years)?,
            location: raw.location.as_deref().map(Location::parse).transpose().map_err(err)?,
        })
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start_minute / 60,
            self.start_minute % 60,
            self.end_minute / 60,
            self.end_minute % 60
        )
    }
}

fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Upstream's `MarshalText`: `a:b`, or `a` when both ends are equal.
fn range_text(r: &InclusiveRange, name: impl Fn(i32) -> String) -> String {
    if r.begin == r.end {
        name(r.begin)
    } else {
        format!("{}:{}", name(r.begin), name(r.end))
    }
}

impl From<TimeInterval> for RawTimeInterval {
    fn from(ti: TimeInterval) -> Self {
        let weekday = |d: i32| {
            usize::try_from(d)
                .ok()
                .and_then(|i| WEEKDAYS.get(i))
                .map_or_else(|| d.to_string(), |s| (*s).to_owned())
        };
        let num = |d: i32| d.to_string();
        RawTimeInterval {
            times: ti
                .times
                .iter()
                .map(|t| RawTimeRange { start_time: hhmm(t.start_minute), end_time: hhmm(t.end_minute) })
                .collect(),
            weekdays: ti.weekdays.iter().map(|r| range_text(r, weekday)).collect(),
            days_of_month: ti.days_of_month.iter().map(|r| range_text(r, num)).collect(),
            months: ti.months.iter().map(|r| range_text(r, num)).collect(),
            years: ti.years.iter().map(|r| range_text(r, num)).collect(),
            location: ti.location.map(|l| l.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml_json: serde_json::Value) -> Result<TimeInterval, String> {
        serde_json::from_value::<TimeInterval>(yaml_json).map_err(|e| e.to_string())
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn validation_errors() {
        struct Case {
            name: &'static str,
            input: serde_json::Value,
            want: &'static str,
        }
        let cases = [
            Case {
                name: "missing end",
                input: serde_json::json!({"times": [{"start_time": "01:00"}]}),
                want: "both start and end times must be provided",
            },
            Case {
                name: "start after end",
                input: serde_json::json!({"times": [{"start_time": "10:00", "end_time": "09:00"}]}),
                want: "start time cannot be equal or greater than end time",
            },
            Case {
                name: "equal",
                input: serde_json::json!({"times": [{"start_time": "10:00", "end_time": "10:00"}]}),
                want: "start time cannot be equal or greater than end time",
            },
            Case {
                name: "bad ts",
                input: serde_json::json!({"times": [{"start_time": "1:00", "end_time": "10:00"}]}),
                want: "couldn't parse timestamp 1:00, invalid format",
            },
            Case {
                name: "24:01",
                input: serde_json::json!({"times": [{"start_time": "00:00", "end_time": "24:01"}]}),
                want: "couldn't parse timestamp 24:01, invalid format",
            },
            Case {
                name: "weekday order",
                input: serde_json::json!({"weekdays": ["friday:monday"]}),
                want: "start day cannot be before end day",
            },
            Case {
                name: "weekday name",
                input: serde_json::json!({"weekdays": ["funday"]}),
                want: "funday is not a valid weekday",
            },
            Case {
                name: "dom zero",
                input: serde_json::json!({"days_of_month": ["0"]}),
                want: "0 is not a valid day of the month: out of range",
            },
            Case {
                name: "dom 32",
                input: serde_json::json!({"days_of_month": ["1:32"]}),
                want: "32 is not a valid day of the month: out of range",
            },
            Case {
                name: "dom neg pos",
                input: serde_json::json!({"days_of_month": ["-3:5"]}),
                want: "end day must be negative if start day is negative",
            },
            Case {
                name: "dom always before",
                input: serde_json::json!({"days_of_month": ["10:-20"]}),
                want: "end day -20 is always before start day 10",
            },
            Case {
                name: "month order",
                input: serde_json::json!({"months": ["may:january"]}),
                want: "end month january is before start month may",
            },
            Case {
                name: "month range",
                input: serde_json::json!({"months": ["13"]}),
                want: "13 is not a valid month: out of range",
            },
            Case {
                name: "year order",
                input: serde_json::json!({"years": ["2022:2020"]}),
                want: "end year 2020 is before start year 2022",
            },
            Case {
                name: "location",
                input: serde_json::json!({"location": "Mars/Base"}),
                want: "unknown time zone Mars/Base",
            },
            Case {
                name: "range format",
                input: serde_json::json!({"weekdays": ["monday:tuesday:friday"]}),
                want: "couldn't parse range \"monday:tuesday:friday\", invalid format",
            },
        ];
        for c in cases {
            let got = spec(c.input).expect_err(c.name);
            assert!(got.contains(c.want), "{}: got {got:?}, want {:?}", c.name, c.want);
        }
    }

    #[test]
    fn contains_boundaries() {
        struct Case {
            name: &'static str,
            input: (serde_json::Value, &'static str),
            want: bool,
        }
        use serde_json::json as j;
        let cases = [
            Case {
                name: "start inclusive",
                input: (
                    j!({"times": [{"start_time": "09:00", "end_time": "17:00"}]}),
                    "2024-03-04T09:00:00Z",
                ),
                want: true,
            },
            Case {
                name: "end exclusive",
                input: (
                    j!({"times": [{"start_time": "09:00", "end_time": "17:00"}]}),
                    "2024-03-04T17:00:00Z",
                ),
                want: false,
            },
            Case {
                name: "last minute",
                input: (
                    j!({"times": [{"start_time": "09:00", "end_time": "17:00"}]}),
                    "2024-03-04T16:59:59Z",
                ),
                want: true,
            },
            Case {
                name: "24:00",
                input: (
                    j!({"times": [{"start_time": "23:00", "end_time": "24:00"}]}),
                    "2024-03-04T23:59:59Z",
                ),
                want: true,
            },
            Case {
                name: "weekday range mon-fri on monday",
                input: (j!({"weekdays": ["monday:friday"]}), "2024-03-04T12:00:00Z"),
                want: true,
            },
            Case {
                name: "weekday range mon-fri on sunday",
                input: (j!({"weekdays": ["Monday:Friday"]}), "2024-03-03T12:00:00Z"),
                want: false,
            },
            Case {
                name: "sunday single",
                input: (j!({"weekdays": ["sunday"]}), "2024-03-03T00:00:00Z"),
                want: true,
            },
            Case {
                name: "last day of month",
                input: (j!({"days_of_month": ["-1"]}), "2024-02-29T10:00:00Z"),
                want: true,
            },
            Case {
                name: "not last day",
                input: (j!({"days_of_month": ["-1"]}), "2024-02-28T10:00:00Z"),
                want: false,
            },
            Case {
                name: "begin beyond month skipped",
                input: (j!({"days_of_month": ["30:31"]}), "2023-02-28T10:00:00Z"),
                want: false,
            },
            Case {
                name: "end clamped",
                input: (j!({"days_of_month": ["28:31"]}), "2023-02-28T10:00:00Z"),
                want: true,
            },
            Case {
                name: "month names",
                input: (j!({"months": ["may:august"]}), "2024-08-31T23:00:00Z"),
                want: true,
            },
            Case {
                name: "month out",
                input: (j!({"months": ["may:august"]}), "2024-09-01T00:00:00Z"),
                want: false,
            },
            Case { name: "years", input: (j!({"years": ["2020:2022"]}), "2022-12-31T23:59:59Z"), want: true },
            Case {
                name: "years out",
                input: (j!({"years": ["2020:2022"]}), "2023-01-01T00:00:00Z"),
                want: false,
            },
            Case {
                name: "location shifts day",
                input: (j!({"weekdays": ["monday"], "location": "Asia/Tokyo"}), "2024-03-03T16:00:00Z"),
                want: true,
            },
            Case {
                name: "location shifts time",
                input: (
                    j!({"times": [{"start_time": "09:00", "end_time": "10:00"}], "location": "Europe/Paris"}),
                    "2024-07-01T07:30:00Z",
                ),
                want: true,
            },
            Case {
                name: "all fields must match",
                input: (
                    j!({"weekdays": ["monday"], "times": [{"start_time": "09:00", "end_time": "10:00"}]}),
                    "2024-03-04T11:00:00Z",
                ),
                want: false,
            },
            Case { name: "empty spec matches", input: (j!({}), "2024-03-04T11:00:00Z"), want: true },
        ];
        for c in cases {
            let ti = spec(c.input.0).unwrap();
            assert_eq!(ti.contains(at(c.input.1)), c.want, "{}", c.name);
        }
    }

    #[test]
    fn renders_like_upstream() {
        let ti = spec(serde_json::json!({
            "times": [{"start_time": "00:00", "end_time": "24:00"}],
            "weekdays": ["monday:friday", "Saturday"],
            "months": ["may:august", "1"],
            "location": "Europe/Paris"
        }))
        .unwrap();
        let v = serde_json::to_value(&ti).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "times": [{"start_time": "00:00", "end_time": "24:00"}],
                "weekdays": ["monday:friday", "saturday"],
                "months": ["5:8", "1"],
                "location": "Europe/Paris"
            })
        );
    }
}
