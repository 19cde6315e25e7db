//! Durations in the two syntaxes Alertmanager accepts: Prometheus' `model.Duration` (config: `1d`, `2h30m`) and
//! Go's `time.ParseDuration` (flags: `1.5h`, `300ms`, no `d`), each with its upstream error text and rendering.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(pub String);

/// Prometheus `model.ParseDuration`.
pub fn parse_prom_duration(s: &str) -> Result<Duration, DurationError> {
    Err(DurationError(format!("not a valid duration string: {s:?}")))
}

/// Prometheus `model.Duration.String()` (`1h30m`, `0s`).
pub fn format_prom_duration(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

/// Go `time.ParseDuration`.
pub fn parse_go_duration(s: &str) -> Result<Duration, DurationError> {
    Err(DurationError(format!("time: invalid duration {s:?}")))
}

/// Go `time.Duration.String()` (`1m0s`, `200ms`, `1h0m0s`).
pub fn format_go_duration(d: Duration) -> String {
    format!("{}s", d.as_secs())
}
