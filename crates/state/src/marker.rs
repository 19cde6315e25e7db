//! Per-alert status markers (`types.AlertStatus` / `types.MemMarker`).
//!
//! A marker says whether an alert is `unprocessed`, `active` or `suppressed`, and by what. The silencer and the
//! inhibitor write it while the pipeline runs; the API reads it for every alert it returns. Markers live inside the
//! alert store's entries (see [`crate::alerts::AlertStore`]), so they are read under the same shard lock as the
//! alert, cost no second lookup, and disappear together with the alert on GC, as upstream's `marker.Delete` does.

use serde::Serialize;

/// `types.AlertState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Never looked at by the pipeline (also the status of an unknown fingerprint).
    #[default]
    Unprocessed,
    Active,
    Suppressed,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Unprocessed => "unprocessed",
            AlertState::Active => "active",
            AlertState::Suppressed => "suppressed",
        }
    }
}

/// The status of one alert, as `GET /api/v2/alerts` shows it in `status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Marker {
    pub state: AlertState,
    /// IDs of the active silences muting the alert.
    pub silenced_by: Vec<String>,
    /// Fingerprints (`%016x`) of the alerts inhibiting this one; upstream sets at most one.
    pub inhibited_by: Vec<String>,
    /// Names of the time intervals muting the alert (0.28 `mutedBy`).
    pub muted_by: Vec<String>,
    /// Pending silences that matched at the last silencer run; the silencer's cache (upstream `pendingSilences`).
    pub pending_silences: Vec<String>,
    /// The silences version the silencer computed `silenced_by` against (upstream `silencesVersion`).
    pub silences_version: u64,
}

impl Marker {
    /// `MemMarker.SetActiveOrSilenced`: records the silencer's verdict and the cache data that goes with it.
    pub fn set_silenced(&mut self, version: u64, active_ids: Vec<String>, pending_ids: Vec<String>) {
        self.silenced_by = active_ids;
        self.pending_silences = pending_ids;
        self.silences_version = version;
        self.recompute();
    }

    /// `MemMarker.SetInhibited`.
    pub fn set_inhibited(&mut self, ids: Vec<String>) {
        self.inhibited_by = ids;
        self.recompute();
    }

    /// Records the time intervals muting the alert. Upstream keeps this on a group marker and does not let it
    /// change the per-alert state, so neither do we; the API forces `suppressed` in group views itself.
    pub fn set_muted(&mut self, names: Vec<String>) {
        self.muted_by = names;
    }

    pub fn is_silenced(&self) -> bool {
        !self.silenced_by.is_empty()
    }

    pub fn is_inhibited(&self) -> bool {
        !self.inhibited_by.is_empty()
    }

    /// Suppressed iff silenced or inhibited, else active (once the pipeline has looked at the alert).
    fn recompute(&mut self) {
        self.state = if self.is_silenced() || self.is_inhibited() {
            AlertState::Suppressed
        } else {
            AlertState::Active
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_follows_silenced_and_inhibited() {
        let mut m = Marker::default();
        assert_eq!(m.state, AlertState::Unprocessed);
        m.set_silenced(3, vec![], vec!["p".into()]);
        assert_eq!(m.state, AlertState::Active);
        assert_eq!(m.silences_version, 3);
        m.set_silenced(4, vec!["s".into()], vec![]);
        assert_eq!(m.state, AlertState::Suppressed);
        m.set_inhibited(vec!["00000000000000ff".into()]);
        m.set_silenced(5, vec![], vec![]);
        assert_eq!(m.state, AlertState::Suppressed);
        m.set_inhibited(vec![]);
        assert_eq!(m.state, AlertState::Active);
        m.set_muted(vec!["weekends".into()]);
        assert_eq!(m.state, AlertState::Active);
        assert_eq!(AlertState::Suppressed.as_str(), "suppressed");
    }
}
