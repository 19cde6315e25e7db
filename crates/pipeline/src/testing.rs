//! Helpers for exact-timeline tests of the pipeline (here and in other crates): a wall clock tied to tokio's
//! paused time, and a notifier that records what it was asked to send and when.

use crate::notifier::{FailureReason, Notifier, NotifyCtx, NotifyError, Retry};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::time::utc;
use tocsin_model::{Alert, Clock};
use tokio::time::Instant;

/// Wall time that moves with tokio's clock: `start + (tokio now − instant at creation)`. Under
/// `#[tokio::test(start_paused = true)]` it advances exactly as timers fire.
#[derive(Debug, Clone)]
pub struct TokioClock {
    start: DateTime<Utc>,
    origin: Instant,
}

impl TokioClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self { start, origin: Instant::now() }
    }

    /// Time elapsed on tokio's clock since creation.
    pub fn elapsed(&self) -> Duration {
        Instant::now() - self.origin
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        self.start + chrono::Duration::from_std(self.elapsed()).unwrap_or(chrono::Duration::MAX)
    }
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Tokio time since the recorder was created.
    pub at: Duration,
    pub group_key: String,
    pub receiver: String,
    /// `alertname` (or the full label set when absent) of each alert, with `firing`/`resolved` at the flush time.
    pub alerts: Vec<(String, &'static str)>,
}

/// A [`Notifier`] that records every call and answers from a script (success once the script is exhausted).
#[derive(Debug)]
pub struct RecordingNotifier {
    origin: Instant,
    send_resolved: bool,
    sent: Mutex<Vec<Sent>>,
    script: Mutex<VecDeque<Result<(), NotifyError>>>,
    delay: Mutex<Duration>,
}

impl RecordingNotifier {
    pub fn new(send_resolved: bool) -> Arc<Self> {
        Arc::new(Self {
            origin: Instant::now(),
            send_resolved,
            sent: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            delay: Mutex::new(Duration::ZERO),
        })
    }

    /// Queues answers for the next calls.
    pub fn script(&self, answers: impl IntoIterator<Item = Result<(), NotifyError>>) {
        self.script.lock().extend(answers);
    }

    /// Each call takes this long (tokio time).
    pub fn set_delay(&self, d: Duration) {
        *self.delay.lock() = d;
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().clone()
    }

    /// A retryable 5xx-like failure.
    pub fn server_error() -> Result<(), NotifyError> {
        Err(NotifyError {
            retry: Retry::Yes,
            reason: FailureReason::ServerError,
            message: "unexpected status code 500".into(),
        })
    }

    /// A non-retryable 4xx-like failure.
    pub fn client_error() -> Result<(), NotifyError> {
        Err(NotifyError {
            retry: Retry::No,
            reason: FailureReason::ClientError,
            message: "unexpected status code 400".into(),
        })
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let now = utc(ctx.now);
        self.sent.lock().push(Sent {
            at: Instant::now() - self.origin,
            group_key: ctx.group_key.clone(),
            receiver: ctx.receiver.clone(),
            alerts: alerts
                .iter()
                .map(|a| {
                    let name = a.labels.get("alertname").map_or_else(|| a.labels.to_string(), str::to_owned);
                    (name, a.status_at(now).as_str())
                })
                .collect(),
        });
        let delay = *self.delay.lock();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.script.lock().pop_front().unwrap_or(Ok(()))
    }

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }
}
