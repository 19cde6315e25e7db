//! The notification pipeline (Alertmanager's `dispatch`, `inhibit` and `notify` packages): route tree →
//! aggregation groups with their timers → per receiver inhibit, time intervals, silences → per integration wait,
//! dedup against the notification log, send with retries, record.

pub mod notifier;
