//! Assembly of the per-receiver pipeline (`notify.PipelineBuilder`). Read [`receiver_pipeline`] to know what
//! happens to a flushed group, in order.

use crate::dedup::{DedupStage, SetNotifiesStage};
use crate::inflight::InflightStage;
use crate::inhibit::Inhibitor;
use crate::integration::Integration;
use crate::metrics::Metrics;
use crate::mute::{MuteStage, Silencer};
use crate::peer::{Peer, SettleStage, WaitStage};
use crate::retry::{Jitter, RetryStage};
use crate::stage::{FanoutStage, MultiStage, Stage};
use crate::time_stages::{GroupMarkers, TimeActiveStage, TimeIntervals, TimeMuteStage};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::SharedClock;
use tocsin_state::nflog::NotificationLog;
use tocsin_state::{AlertStore, Silences};

/// Everything the stages share.
#[derive(Debug, Clone)]
pub struct PipelineDeps {
    pub clock: SharedClock,
    pub alerts: Arc<AlertStore>,
    pub silences: Arc<Silences>,
    pub nflog: Arc<NotificationLog>,
    pub inhibitor: Arc<Inhibitor>,
    pub time_intervals: Arc<TimeIntervals>,
    pub group_markers: Arc<GroupMarkers>,
    pub peer: Arc<dyn Peer>,
    /// `--cluster.peer-timeout` (15s by default).
    pub peer_timeout: Duration,
    pub jitter: Arc<dyn Jitter>,
    pub metrics: Arc<Metrics>,
    /// Durability of the notification log (the app's storage); `None` keeps it in memory only.
    pub nflog_sync: Option<Arc<dyn crate::dedup::NflogSync>>,
}

fn stage(s: impl Stage + 'static) -> Arc<dyn Stage> {
    Arc::new(s)
}

/// The pipeline of one receiver. A flushed group goes through, in order:
///
/// 1. wait until the cluster has settled (at startup only);
/// 2. drop alerts inhibited by another firing alert;
/// 3. drop everything if the route has active time intervals and now is in none of them;
/// 4. drop everything if now is in one of the route's mute time intervals;
/// 5. drop silenced alerts;
/// 6. then, for every integration of the receiver at the same time:
///    wait `position × peer_timeout` (so the first peer sends), skip if the notification log says this exact
///    state was already notified within `repeat_interval`, wait while another node announced it is sending the
///    same (skip if it then got logged), send with retries until the flush deadline, and log the notification.
///
/// Any step that leaves no alert ends the pipeline quietly.
pub fn receiver_pipeline(receiver: &str, integrations: &[Integration], d: &PipelineDeps) -> MultiStage {
    let silencer = Arc::new(Silencer::new(Arc::clone(&d.silences), Arc::clone(&d.alerts)));
    MultiStage(vec![
        stage(SettleStage::new(Arc::clone(&d.peer))),
        stage(MuteStage::new(d.inhibitor.clone(), Arc::clone(&d.clock), Arc::clone(&d.metrics))),
        stage(TimeActiveStage::new(d.time_intervals.clone(), d.group_markers.clone(), d.metrics.clone())),
        stage(TimeMuteStage::new(d.time_intervals.clone(), d.group_markers.clone(), d.metrics.clone())),
        stage(MuteStage::new(silencer, Arc::clone(&d.clock), Arc::clone(&d.metrics))),
        stage(FanoutStage(
            integrations.iter().map(|i| stage(integration_pipeline(receiver, i, d))).collect(),
        )),
    ])
}

/// Wait → dedup → (in-flight cover: retry → set-notifies) for one integration.
fn integration_pipeline(receiver: &str, i: &Integration, d: &PipelineDeps) -> MultiStage {
    let send = MultiStage(vec![
        stage(RetryStage::new(receiver, i.clone(), d.jitter.clone(), d.metrics.clone())),
        stage(
            SetNotifiesStage::new(d.nflog.clone(), receiver, i, d.clock.clone())
                .with_sync(d.nflog_sync.clone()),
        ),
    ]);
    MultiStage(vec![
        stage(WaitStage::new(Arc::clone(&d.peer), d.peer_timeout)),
        stage(DedupStage::new(d.nflog.clone(), receiver, i, d.clock.clone())),
        stage(InflightStage::new(Arc::clone(&d.peer), d.nflog.clone(), receiver, i, d.clock.clone(), send)),
    ])
}

/// The pipelines of all receivers (`RoutingStage`).
pub fn build_pipelines(
    receivers: &HashMap<String, Vec<Integration>>,
    d: &PipelineDeps,
) -> HashMap<String, Arc<dyn Stage>> {
    receivers
        .iter()
        .map(|(name, integrations)| (name.clone(), stage(receiver_pipeline(name, integrations, d))))
        .collect()
}
