//! Timestamps as Alertmanager shows them.
//!
//! Go keeps the client's UTC offset inside `time.Time`, and Alertmanager echoes it back, so we store
//! [`Timestamp`] = `DateTime<FixedOffset>`. The API renders milliseconds (go-openapi's `strfmt.DateTime`); webhook
//! payloads render Go's RFC3339Nano (trailing zeros trimmed); firing alerts carry Go's zero time.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

pub type Timestamp = DateTime<FixedOffset>;

/// Go's zero `time.Time`, rendered `0001-01-01T00:00:00Z`.
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

pub fn utc(t: DateTime<Utc>) -> Timestamp {
    t.fixed_offset()
}

/// `2006-01-02T15:04:05.000Z07:00` (go-openapi strfmt.DateTime).
pub fn format_millis(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Go's `time.RFC3339Nano`: fractional seconds with trailing zeros removed, `Z` for UTC.
pub fn format_rfc3339_nano(t: &Timestamp) -> String {
    let s = t.to_rfc3339_opts(SecondsFormat::Nanos, true);
    // chrono always prints 9 digits with Nanos; Go trims trailing zeros and the dot.
    let (date_time, zone) = match s.find(['Z', '+']).or_else(|| s.rfind('-').filter(|&i| i > 19)) {
        Some(i) => s.split_at(i),
        None => return s,
    };
    let trimmed = match date_time.find('.') {
        Some(_) => date_time.trim_end_matches('0').trim_end_matches('.'),
        None => date_time,
    };
    format!("{trimmed}{zone}")
}

/// Parses RFC 3339 with any precision and offset, as Go's `time.Parse(time.RFC3339, …)` does.
pub fn parse_rfc3339(s: &str) -> Result<Timestamp, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_nano_trims_like_go() {
        let cases = [
            ("2026-11-26T20:43:31.054332786Z", "2026-11-26T20:43:31.054332786Z"),
            ("2026-11-26T20:43:31.050000000Z", "2026-11-26T20:43:31.05Z"),
            ("2026-11-26T20:43:31Z", "2026-11-26T20:43:31Z"),
            ("2026-11-26T20:43:31.100+02:00", "2026-11-26T20:43:31.1+02:00"),
            ("2026-11-26T20:43:31-05:00", "2026-11-26T20:43:31-05:00"),
        ];
        for (input, want) in cases {
            let t = parse_rfc3339(input).unwrap();
            assert_eq!(format_rfc3339_nano(&t), want, "{input}");
        }
    }

    #[test]
    fn millis_like_strfmt() {
        let t = parse_rfc3339("2026-11-26T20:43:44.615123Z").unwrap();
        assert_eq!(format_millis(&t), "2026-11-26T20:43:44.615Z");
        let t = parse_rfc3339("2026-11-26T20:43:44+01:00").unwrap();
        assert_eq!(format_millis(&t), "2026-11-26T20:43:44.000+01:00");
    }
}
