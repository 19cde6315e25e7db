//! The notification pipeline (Alertmanager's `dispatch`, `inhibit` and `notify` packages): route tree →
//! aggregation groups with their timers → per receiver inhibit, time intervals, silences → per integration wait,
//! dedup against the notification log, send with retries, record.
//!
//! Entry points: [`route::Route`] (compiled routing tree), [`pipeline::build_pipelines`] (one pipeline per
//! receiver), [`dispatch::Dispatcher::start`] (subscribes to the alert store and runs the groups),
//! [`inhibit::Inhibitor`] (also a [`mute::Muter`] the API uses for markers).

pub mod dedup;
pub mod dispatch;
pub mod from_config;
pub mod group;
pub mod inflight;
pub mod inhibit;
pub mod integration;
pub mod metrics;
pub mod mute;
pub mod notifier;
pub mod peer;
pub mod pipeline;
pub mod precise;
pub mod retry;
pub mod route;
pub mod stage;
pub mod testing;
pub mod time_stages;

pub use dispatch::{AlertGroup, Dispatcher, DispatcherOptions};
pub use inhibit::{InhibitRule, Inhibitor};
pub use integration::Integration;
pub use metrics::{Metrics, SuppressReason};
pub use notifier::{FailureReason, Notifier, NotifyCtx, NotifyError, Retry};
pub use peer::{Peer, SingleNode};
pub use pipeline::{build_pipelines, receiver_pipeline, PipelineDeps};
pub use route::{GroupBy, Route, RouteNode, RouteOpts};
pub use stage::{Stage, StageCtx, StageError};
