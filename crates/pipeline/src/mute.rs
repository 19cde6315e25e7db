//! Per-alert muting (upstream `types.Muter` and `notify.MuteStage`): the [`Muter`] seam, the stage that drops muted
//! alerts and counts them, and the [`Silencer`] (silences as a muter, keeping the `silencedBy` markers current).

use crate::metrics::{Metrics, SuppressReason};
use crate::stage::{Alerts, Stage, StageCtx, StageError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tocsin_model::clock::SharedClock;
use tocsin_model::LabelSet;
use tocsin_state::{AlertStore, Silences};

/// Something that can mute an alert by its labels: silences, the inhibitor. Implementations update the alert's
/// marker as a side effect, so the API shows the verdict of the last evaluation, as upstream does.
pub trait Muter: Send + Sync + std::fmt::Debug {
    /// `Some(reason)` when `labels` must not be notified at `now`.
    fn mutes(&self, labels: &LabelSet, now: DateTime<Utc>) -> Option<SuppressReason>;
}

/// Drops the alerts its muter mutes and counts them in `alertmanager_notifications_suppressed_total`.
#[derive(Debug)]
pub struct MuteStage {
    muter: Arc<dyn Muter>,
    clock: SharedClock,
    metrics: Arc<Metrics>,
}

impl MuteStage {
    pub fn new(muter: Arc<dyn Muter>, clock: SharedClock, metrics: Arc<Metrics>) -> Self {
        Self { muter, clock, metrics }
    }
}

#[async_trait]
impl Stage for MuteStage {
    async fn exec(&self, _cx: &mut StageCtx, alerts: Alerts) -> Result<Alerts, StageError> {
        let now = self.clock.now();
        let mut kept = Vec::with_capacity(alerts.len());
        let mut muted: Option<(SuppressReason, usize)> = None;
        for a in alerts {
            match self.muter.mutes(&a.labels, now) {
                Some(reason) => muted.get_or_insert((reason, 0)).1 += 1,
                None => kept.push(a),
            }
        }
        if let Some((reason, n)) = muted {
            tracing::debug!(
                reason = reason.as_str(),
                alerts = n,
                "Notifications will not be sent for muted alerts"
            );
            self.metrics.suppressed(reason, n);
        }
        Ok(kept)
    }
}

/// Silences as a [`Muter`] (`silence.Silencer`): an alert is muted by every active silence matching it; the
/// marker records those ids (`silencedBy`) plus the pending ones and the silences version they were computed at.
///
/// Fast path as upstream: when the silences have not changed since the marker was written and no silence
/// (active or pending) matched then, none can match now either, so the index is not consulted.
#[derive(Debug)]
pub struct Silencer {
    silences: Arc<Silences>,
    store: Arc<AlertStore>,
}

impl Silencer {
    pub fn new(silences: Arc<Silences>, store: Arc<AlertStore>) -> Self {
        Self { silences, store }
    }
}

impl Muter for Silencer {
    fn mutes(&self, labels: &LabelSet, now: DateTime<Utc>) -> Option<SuppressReason> {
        let fp = labels.fingerprint();
        let marker = self.store.status(fp);
        let version = self.silences.version();
        if marker.silences_version == version
            && marker.silenced_by.is_empty()
            && marker.pending_silences.is_empty()
            && marker.state != tocsin_state::AlertState::Unprocessed
        {
            return None;
        }
        let m = self.silences.matching(labels, now);
        let muted = !m.active.is_empty();
        self.store.set_silenced(fp, m.version, m.active, m.pending);
        muted.then_some(SuppressReason::Silence)
    }
}
