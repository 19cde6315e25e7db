//! An alert as Alertmanager stores it (`types.Alert`).

use crate::fingerprint::Fingerprint;
use crate::labels::LabelSet;
use crate::time::Timestamp;
use std::sync::Arc;

mod intern;

/// The shared `Arc<str>` for a generator URL: alerts of one Prometheus rule carry the same URL, so the store keeps
/// one copy per rule instead of one per alert (see `alert/intern.rs`; bounded, process-wide).
pub fn intern_generator_url(url: &str) -> Arc<str> {
    intern::intern(url)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at: Timestamp,
    /// Always set once ingested: either sent by the client or `now + resolve_timeout` (then `timeout` is true).
    pub ends_at: Timestamp,
    /// Shared between the alerts of one rule: build it with [`intern_generator_url`] (a plain `.into()` works
    /// too, it just does not share).
    pub generator_url: Arc<str>,
    pub updated_at: Timestamp,
    /// The end time was derived from `resolve_timeout`, not sent by the client.
    pub timeout: bool,
}

/// `firing` or `resolved`, as in API and payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

impl Alert {
    pub fn fingerprint(&self) -> Fingerprint {
        self.labels.fingerprint()
    }

    /// Resolved iff `ends_at <= now` (`types.Alert.ResolvedAt`).
    pub fn resolved_at(&self, now: Timestamp) -> bool {
        self.ends_at <= now
    }

    pub fn status_at(&self, now: Timestamp) -> AlertStatus {
        if self.resolved_at(now) {
            AlertStatus::Resolved
        } else {
            AlertStatus::Firing
        }
    }
}
