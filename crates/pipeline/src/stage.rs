//! The `Stage` seam (upstream `notify.Stage`) and its two combinators: a sequence that stops as soon as no alert is
//! left ([`MultiStage`]) and a concurrent fan-out over integrations ([`FanoutStage`]).
//!
//! Upstream threads a `context.Context` with untyped values through the stages; here it is [`StageCtx`], a typed
//! struct: what the aggregation group knows at flush time, the flush deadline, and what dedup computed for
//! set-notifies. A fan-out gives each branch its own copy, as Go's immutable contexts do.

use crate::notifier::NotifyCtx;
use async_trait::async_trait;
use std::sync::Arc;
use tocsin_model::Alert;
use tokio::time::Instant;

/// Everything a stage may need about the flush it runs for.
#[derive(Debug, Clone)]
pub struct StageCtx {
    /// What the integration sees (receiver, group key, group labels, repeat interval, flush time, external URL).
    pub notify: NotifyCtx,
    /// `Route.ID()` of the group's route: the key of group mute markers.
    pub route_id: String,
    /// The route's `mute_time_intervals` names.
    pub mute_time_intervals: Arc<[String]>,
    /// The route's `active_time_intervals` names.
    pub active_time_intervals: Arc<[String]>,
    /// When the flush gives up: `max(group_interval, 10s) + position × peer_timeout` after the flush started.
    pub deadline: Instant,
    /// Hashes of the firing alerts, set by the dedup stage for set-notifies (upstream `FiringAlerts(ctx)`).
    pub firing: Vec<u64>,
    /// Hashes of the resolved alerts, set by the dedup stage (upstream `ResolvedAlerts(ctx)`).
    pub resolved: Vec<u64>,
}

/// Why a stage failed. `Display` is upstream's text, since it ends up in logs operators grep for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    /// The retry stage's final error, e.g. `team/webhook[0]: notify retry canceled after 3 attempts: <err>`.
    #[error("{message}")]
    Notify { message: String, reason: crate::notifier::FailureReason },
    /// A route names a time interval the config does not define (`Intervener.Mutes`).
    #[error("time interval {0} doesn't exist in config")]
    UnknownTimeInterval(String),
    /// The flush deadline passed while waiting (settle or wait stage).
    #[error("context deadline exceeded")]
    DeadlineExceeded,
    /// The dispatcher has no pipeline for the group's receiver (`RoutingStage`).
    #[error("stage for receiver missing")]
    MissingReceiver,
    /// Several integrations of a fan-out failed (`types.MultiError`: messages joined by `; `).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Multi(Vec<StageError>),
}

/// The alerts a stage passes on.
pub type Alerts = Vec<Arc<Alert>>;

/// One step of the per-receiver pipeline.
#[async_trait]
pub trait Stage: Send + Sync + std::fmt::Debug {
    /// Runs the step; returns the alerts that go on to the next step (an empty list ends the pipeline quietly).
    async fn exec(&self, cx: &mut StageCtx, alerts: Alerts) -> Result<Alerts, StageError>;
}

/// Stages run in order; the first error ends the sequence, and so does running out of alerts (successfully).
#[derive(Debug, Default)]
pub struct MultiStage(pub Vec<Arc<dyn Stage>>);

#[async_trait]
impl Stage for MultiStage {
    async fn exec(&self, cx: &mut StageCtx, mut alerts: Alerts) -> Result<Alerts, StageError> {
        for stage in &self.0 {
            if alerts.is_empty() {
                return Ok(alerts);
            }
            alerts = stage.exec(cx, alerts).await?;
        }
        Ok(alerts)
    }
}

/// Runs every branch concurrently on a copy of the context and the same alerts; fails if any branch failed,
/// after all of them finished, so one failing integration never holds back the others.
#[derive(Debug, Default)]
pub struct FanoutStage(pub Vec<Arc<dyn Stage>>);

#[async_trait]
impl Stage for FanoutStage {
    async fn exec(&self, cx: &mut StageCtx, alerts: Alerts) -> Result<Alerts, StageError> {
        // One integration (the usual receiver): run it directly, without join_all's per-flush allocations.
        if let [stage] = self.0.as_slice() {
            let mut branch = cx.clone();
            return match stage.exec(&mut branch, alerts.clone()).await {
                Ok(_) => Ok(alerts),
                Err(e) => Err(StageError::Multi(vec![e])),
            };
        }
        let runs = self.0.iter().map(|stage| {
            let mut branch = cx.clone();
            let alerts = alerts.clone();
            async move { stage.exec(&mut branch, alerts).await }
        });
        let errors: Vec<StageError> =
            futures::future::join_all(runs).await.into_iter().filter_map(Result::err).collect();
        if errors.is_empty() {
            Ok(alerts)
        } else {
            Err(StageError::Multi(errors))
        }
    }
}
