//! A stand-in for integration types tocsin cannot send to yet. Configs using them still load (so an
//! Alertmanager config can be dropped in unchanged); each send fails, visibly and without retry, with
//! `integration <type> is not implemented yet`.

use async_trait::async_trait;
use std::sync::Arc;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, Notifier, NotifyCtx, NotifyError, Retry};

#[derive(Debug, Clone)]
pub struct Unimplemented {
    kind: &'static str,
    send_resolved: bool,
}

impl Unimplemented {
    pub fn new(kind: &'static str, send_resolved: bool) -> Self {
        Self { kind, send_resolved }
    }
}

#[async_trait]
impl Notifier for Unimplemented {
    async fn notify(&self, _ctx: &NotifyCtx, _alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        Err(NotifyError {
            retry: Retry::No,
            reason: FailureReason::Other,
            message: format!("integration {} is not implemented yet", self.kind),
        })
    }

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }
}
