//! The seam between the pipeline and the integrations that send notifications (`notify.Notifier` upstream).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::{Alert, LabelSet};

/// What an integration needs to know about the flush it sends for.
#[derive(Debug, Clone)]
pub struct NotifyCtx {
    /// The receiver's name as configured.
    pub receiver: String,
    /// Upstream's group key string, e.g. `{}/{team="b"}:{alertname="B"}`.
    pub group_key: String,
    pub group_labels: LabelSet,
    pub repeat_interval: Duration,
    /// The flush time (wall clock), used for firing/resolved decisions.
    pub now: DateTime<Utc>,
    /// `--web.external-url`.
    pub external_url: String,
}

/// Whether the retry stage should try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    Yes,
    No,
}

/// The `reason` label of `alertmanager_notifications_failed_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    Other,
    ClientError,
    ServerError,
    ContextCanceled,
    ContextDeadlineExceeded,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Other => "other",
            FailureReason::ClientError => "clientError",
            FailureReason::ServerError => "serverError",
            FailureReason::ContextCanceled => "contextCanceled",
            FailureReason::ContextDeadlineExceeded => "contextDeadlineExceeded",
        }
    }
}

/// A failed send. `message` must never contain a secret (URL with token, password, key).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct NotifyError {
    pub retry: Retry,
    pub reason: FailureReason,
    pub message: String,
}

/// One configured integration instance (e.g. the first `webhook_configs` entry of receiver `team-a`).
#[async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// Sends one notification for `alerts` (already sorted, firing alerts carry Go's zero `endsAt` semantics via
    /// `ctx.now`: an alert is firing iff `ends_at > ctx.now`). Must honour cancellation by being drop-safe.
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError>;

    /// Whether resolved alerts are sent (`send_resolved`).
    fn send_resolved(&self) -> bool;
}
