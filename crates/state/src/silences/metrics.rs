//! The stores' query metrics hook. Upstream's silences and notification log count and time every `Query` call
//! themselves (`alertmanager_{silences,nflog}_queries_total`, `_query_errors_total`, `_query_duration_seconds`);
//! this crate knows no metrics library, so the application hands each store an observer once, after it has
//! registered the families. Without one a query costs a single atomic load more; with one, two clock reads and
//! whatever the observer does (a counter add and a histogram observation in tocsin), outside the store's lock.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Receives one call per store query, as upstream counts them.
pub trait QueryMetrics: Send + Sync {
    /// One query took `elapsed`; `failed` when upstream would have counted it in `_query_errors_total`.
    fn observe(&self, failed: bool, elapsed: Duration);
}

/// A store's optional observer, set at most once.
#[derive(Default)]
pub(crate) struct QueryHook(OnceLock<Arc<dyn QueryMetrics>>);

impl fmt::Debug for QueryHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("QueryHook").field(&self.0.get().is_some()).finish()
    }
}

impl QueryHook {
    /// False when an observer was already set (the first one stays).
    pub(crate) fn set(&self, m: Arc<dyn QueryMetrics>) -> bool {
        self.0.set(m).is_ok()
    }

    /// Starts timing a query; `None` (and no clock read) without an observer.
    pub(crate) fn start(&self) -> Option<QueryTimer<'_>> {
        self.0.get().map(|m| QueryTimer { m: m.as_ref(), start: tokio::time::Instant::now() })
    }
}

/// One query in progress.
pub(crate) struct QueryTimer<'a> {
    m: &'a dyn QueryMetrics,
    start: tokio::time::Instant,
}

impl QueryTimer<'_> {
    /// Reports the query as `n` queries sharing its time evenly (the gauges' count stands for one query per
    /// state upstream).
    pub(crate) fn finish_n(self, n: u32, failed: bool) {
        let each = self.start.elapsed() / n.max(1);
        for _ in 0..n {
            self.m.observe(failed, each);
        }
    }
}

/// Finishes `t` as one query, if it was started.
pub(crate) fn finish(t: Option<QueryTimer<'_>>, failed: bool) {
    if let Some(t) = t {
        t.finish_n(1, failed);
    }
}

/// An observer that only counts, for the stores' tests.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    pub(crate) queries: std::sync::atomic::AtomicU64,
    pub(crate) errors: std::sync::atomic::AtomicU64,
}

#[cfg(test)]
impl Recorder {
    /// (queries, errors) so far.
    pub(crate) fn get(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.queries.load(Relaxed), self.errors.load(Relaxed))
    }
}

#[cfg(test)]
impl QueryMetrics for Recorder {
    fn observe(&self, failed: bool, _elapsed: Duration) {
        use std::sync::atomic::Ordering::Relaxed;
        self.queries.fetch_add(1, Relaxed);
        if failed {
            self.errors.fetch_add(1, Relaxed);
        }
    }
}
