//! An alert as Alertmanager stores it (`types.Alert`).

use crate::fingerprint::Fingerprint;
use crate::labels::{Annotations, AnnotationsIter, LabelSet, Text};
use crate::time::Timestamp;

mod intern;

pub use intern::SharedStr;

/// The shared string for a generator URL: alerts of one Prometheus rule carry the same URL, so the store keeps
/// one copy per rule instead of one per alert (see `alert/intern.rs`; bounded, process-wide).
pub fn intern_generator_url(url: &str) -> SharedStr {
    intern::intern(url)
}

#[derive(Clone)]
pub struct Alert {
    /// `annotations` are packed against these labels: code that replaces them must repack the annotations
    /// (`Annotations::quoting(alert.annotations().to_set(), &new_labels)`), or their values read wrong.
    pub labels: LabelSet,
    /// Packed against `labels` (see [`Annotations`]): read them through [`Alert::annotations`]. Build them with
    /// `Annotations::quoting(set, &labels)` to save memory, or `set.into()`.
    pub annotations: Annotations,
    pub starts_at: Timestamp,
    /// Always set once ingested: either sent by the client or `now + resolve_timeout` (then `timeout` is true).
    pub ends_at: Timestamp,
    /// Shared between the alerts of one rule: build it with [`intern_generator_url`] (a plain `.into()` works
    /// too, it just does not share).
    pub generator_url: SharedStr,
    /// Server time (always UTC), so without the offset the client times keep: four bytes that, with the
    /// one-pointer URL, put the stored alert in a smaller allocation class.
    pub updated_at: chrono::DateTime<chrono::Utc>,
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
    /// The annotations, values resolved against the alert's labels.
    pub fn annotations(&self) -> AnnotationsRef<'_> {
        AnnotationsRef { annotations: &self.annotations, labels: &self.labels }
    }

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

/// Equal content; the annotations compare by value, whatever their packing.
impl PartialEq for Alert {
    fn eq(&self, other: &Self) -> bool {
        self.labels == other.labels
            && self.starts_at == other.starts_at
            && self.ends_at == other.ends_at
            && self.updated_at == other.updated_at
            && self.timeout == other.timeout
            && self.generator_url == other.generator_url
            && self.annotations().iter().eq(other.annotations().iter())
    }
}

impl Eq for Alert {}

impl std::fmt::Debug for Alert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alert")
            .field("labels", &self.labels)
            .field("annotations", &self.annotations().to_set())
            .field("starts_at", &self.starts_at)
            .field("ends_at", &self.ends_at)
            .field("generator_url", &self.generator_url)
            .field("updated_at", &self.updated_at)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// An alert's annotations with its labels at hand to resolve their values.
#[derive(Clone, Copy)]
pub struct AnnotationsRef<'a> {
    annotations: &'a Annotations,
    labels: &'a LabelSet,
}

impl<'a> AnnotationsRef<'a> {
    pub fn iter(&self) -> AnnotationsIter<'a> {
        self.annotations.iter(self.labels)
    }

    pub fn get(&self, name: &str) -> Option<Text<'a>> {
        self.annotations.get(name, self.labels)
    }

    /// A plain label set of the annotations (allocates).
    pub fn to_set(&self) -> LabelSet {
        self.annotations.to_set(self.labels)
    }

    pub fn len(&self) -> usize {
        self.annotations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.annotations.is_empty()
    }
}

impl std::fmt::Debug for AnnotationsRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for AnnotationsRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<'a> IntoIterator for AnnotationsRef<'a> {
    type Item = (&'a str, Text<'a>);
    type IntoIter = AnnotationsIter<'a>;

    fn into_iter(self) -> AnnotationsIter<'a> {
        self.iter()
    }
}

/// A JSON object of strings, as the label set it replaces serialised.
impl serde::Serialize for AnnotationsRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    /// The store keeps every alert in an `Arc` (two counters ahead of it): at most 88 bytes keeps that in glibc's
    /// 112-byte chunk class instead of 128 (100k alerts: 1.6 MB). Fields added here must pay for themselves.
    #[test]
    fn alert_fits_its_allocation_class() {
        assert!(std::mem::size_of::<super::Alert>() <= 88, "{}", std::mem::size_of::<super::Alert>());
    }
}
