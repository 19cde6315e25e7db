//! Route-level muting by time (`notify.TimeActiveStage` and `notify.TimeMuteStage`): a whole flush is dropped when
//! its time is outside every `active_time_intervals` entry of the route, or inside one of its `mute_time_intervals`.
//! The decision uses the flush time, so a group wakes up at its usual tick and looks at the clock then; the first
//! tick after an interval boundary is when notifications start or stop.
//!
//! The names muting a group are kept in [`GroupMarkers`] (0.28's group marker, `mutedBy` in the API).

use crate::metrics::{Metrics, SuppressReason};
use crate::stage::{Alerts, Stage, StageCtx, StageError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use tocsin_model::timeinterval::{any_contains, TimeInterval};

/// The config's `time_intervals` and `mute_time_intervals`, by name.
pub type TimeIntervals = HashMap<String, Vec<TimeInterval>>;

/// Which time intervals mute which group, keyed by (route ID, group key).
#[derive(Debug, Default)]
pub struct GroupMarkers(RwLock<HashMap<(String, String), Vec<String>>>);

impl GroupMarkers {
    /// Records the names muting a group; an empty list removes the marker.
    pub fn set_muted(&self, route_id: &str, group_key: &str, names: Vec<String>) {
        let key = (route_id.to_owned(), group_key.to_owned());
        if names.is_empty() {
            self.0.write().remove(&key);
        } else {
            self.0.write().insert(key, names);
        }
    }

    /// The names muting a group (empty when not muted).
    pub fn muted_by(&self, route_id: &str, group_key: &str) -> Vec<String> {
        self.0.read().get(&(route_id.to_owned(), group_key.to_owned())).cloned().unwrap_or_default()
    }

    pub fn delete(&self, route_id: &str, group_key: &str) {
        self.0.write().remove(&(route_id.to_owned(), group_key.to_owned()));
    }
}

/// `Intervener.Mutes`: the names among `names` whose intervals contain `now`; an unknown name is an error.
pub fn intervals_containing(
    intervals: &TimeIntervals,
    names: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<String>, StageError> {
    let mut within = Vec::new();
    for name in names {
        let specs = intervals.get(name).ok_or_else(|| StageError::UnknownTimeInterval(name.clone()))?;
        if any_contains(specs, now) {
            within.push(name.clone());
        }
    }
    Ok(within)
}

/// Drops everything while the flush time is inside one of the route's `mute_time_intervals`.
#[derive(Debug)]
pub struct TimeMuteStage {
    intervals: Arc<TimeIntervals>,
    markers: Arc<GroupMarkers>,
    metrics: Arc<Metrics>,
}

impl TimeMuteStage {
    pub fn new(intervals: Arc<TimeIntervals>, markers: Arc<GroupMarkers>, metrics: Arc<Metrics>) -> Self {
        Self { intervals, markers, metrics }
    }
}

#[async_trait]
impl Stage for TimeMuteStage {
    async fn exec(&self, cx: &mut StageCtx, alerts: Alerts) -> Result<Alerts, StageError> {
        if cx.mute_time_intervals.is_empty() {
            return Ok(alerts);
        }
        let muted_by = intervals_containing(&self.intervals, &cx.mute_time_intervals, cx.notify.now)?;
        let muted = !muted_by.is_empty();
        self.markers.set_muted(&cx.route_id, &cx.notify.group_key, muted_by);
        if muted {
            self.metrics.suppressed(SuppressReason::MuteTimeInterval, alerts.len());
            tracing::debug!(alerts = alerts.len(), "Notifications not sent, route is within mute time");
            return Ok(Vec::new());
        }
        Ok(alerts)
    }
}

/// Drops everything while the flush time is outside all of the route's `active_time_intervals`.
#[derive(Debug)]
pub struct TimeActiveStage {
    intervals: Arc<TimeIntervals>,
    markers: Arc<GroupMarkers>,
    metrics: Arc<Metrics>,
}

impl TimeActiveStage {
    pub fn new(intervals: Arc<TimeIntervals>, markers: Arc<GroupMarkers>, metrics: Arc<Metrics>) -> Self {
        Self { intervals, markers, metrics }
    }
}

#[async_trait]
impl Stage for TimeActiveStage {
    async fn exec(&self, cx: &mut StageCtx, alerts: Alerts) -> Result<Alerts, StageError> {
        if cx.active_time_intervals.is_empty() {
            return Ok(alerts);
        }
        let within = intervals_containing(&self.intervals, &cx.active_time_intervals, cx.notify.now)?;
        if within.is_empty() {
            self.markers.set_muted(&cx.route_id, &cx.notify.group_key, cx.active_time_intervals.to_vec());
            self.metrics.suppressed(SuppressReason::ActiveTimeInterval, alerts.len());
            tracing::debug!(alerts = alerts.len(), "Notifications not sent, route is not within active time");
            return Ok(Vec::new());
        }
        self.markers.set_muted(&cx.route_id, &cx.notify.group_key, Vec::new());
        Ok(alerts)
    }
}
