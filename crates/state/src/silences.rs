//! Silences in memory (Alertmanager's `silence` package): create, update-in-place or expire-and-replace, expire,
//! query with the API's filter and order, the silencer's `mutes`, GC with retention, limits, and the
//! last-writer-wins `merge` that gossip and durable storage build on.
//!
//! Two notions of state exist upstream and both are kept: `silence.go`'s `getState` (active while `now <= endsAt`)
//! drives every internal decision (updates, expiry, muting, metrics), while the API renders
//! [`Silence::state_at`] (`types.CalcSilenceState`, active while `now < endsAt`). They differ only at the exact
//! instant a silence ends.

mod filter;
mod index;
mod matchers;
pub(crate) mod metrics;
mod size;

pub use filter::{matches_filter, sort_views};
pub use metrics::QueryMetrics;
pub use size::mesh_silence_size;

use chrono::{DateTime, Utc};
use index::MuteIndex;
use matchers::MatcherCache;
use metrics::QueryHook;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::SharedClock;
use tocsin_model::labels::NameValidation;
use tocsin_model::{LabelSet, MatchType, Matcher, Silence, SilenceState};

/// Errors of silence operations; `Display` is upstream's text, which the API returns verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    /// Unknown silence id (404 on update; DELETE is 404 in 0.26+, 500 in 0.25).
    #[error("silence not found")]
    NotFound,
    /// Validation failure (`silence invalid: …`, 0.25-0.27 wording).
    #[error("silence invalid: {0}")]
    Invalid(String),
    /// The API's own checks before storing (`Failed to create silence: …`).
    #[error("Failed to create silence: {0}")]
    Rejected(String),
    /// `--silences.max-silences` / `--silences.max-silence-size-bytes`.
    #[error("{0}")]
    Limit(String),
}

/// `--silences.max-silences` and `--silences.max-silence-size-bytes`; 0 means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SilenceLimits {
    pub max_silences: usize,
    pub max_silence_size_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SilencesOptions {
    /// `--data.retention`: a silence is kept this long after it ended (`expiresAt = endsAt + retention`).
    pub retention: Duration,
    pub limits: SilenceLimits,
    /// Label name rule for matcher names (classic in 0.25/0.26 and `classic-mode`).
    pub names: NameValidation,
}

impl Default for SilencesOptions {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(120 * 3600),
            limits: SilenceLimits::default(),
            names: NameValidation::Utf8,
        }
    }
}

/// The replicated unit (`silencepb.MeshSilence`): a silence and the instant it may be forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeshSilence {
    pub silence: Arc<Silence>,
    pub expires_at: DateTime<Utc>,
}

/// One matcher as posted (`models.Matcher`), compiled and validated by [`Silences::set`] so errors carry the
/// matcher's index as upstream's do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatcherSpec {
    pub ty: MatchType,
    pub name: String,
    pub value: String,
}

/// A silence as posted to `POST /api/v2/silences`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostableSilence {
    /// Set to update an existing silence.
    pub id: Option<String>,
    pub matchers: Vec<MatcherSpec>,
    /// `None` (or Go's zero time mapped to `None` by the API) means now.
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
}

/// A silence with the state the API shows at the query instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilenceView {
    pub silence: Arc<Silence>,
    pub state: SilenceState,
}

/// Silences by state, for `alertmanager_silences{state}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SilenceCounts {
    pub active: usize,
    pub pending: usize,
    pub expired: usize,
}

/// Where a change came from: storage and gossip broadcast local changes; remote ones are re-gossiped by the
/// gossip layer itself and persisted by storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOrigin {
    Local,
    Remote,
}

/// Passed to change hooks after every accepted change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilenceChange {
    pub mesh: MeshSilence,
    pub origin: ChangeOrigin,
}

type Hook = Arc<dyn Fn(&SilenceChange) + Send + Sync>;

/// The silencer's answer for one label set (`Silencer.Mutes` cache inputs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MatchingSilences {
    /// Active matching silence ids, sorted.
    pub active: Vec<String>,
    /// Pending matching silence ids, sorted.
    pub pending: Vec<String>,
    /// The silences version the answer was computed against.
    pub version: u64,
}

#[derive(Debug, Default)]
struct Inner {
    st: HashMap<String, MeshSilence>,
    index: MuteIndex,
    /// Bumped on every accepted change (upstream `Silences.Version`).
    version: u64,
}

/// The silence store.
pub struct Silences {
    inner: RwLock<Inner>,
    hooks: RwLock<Vec<Hook>>,
    /// Compiled regex matchers of recent posts, so a repeated pattern is not compiled again.
    matchers: MatcherCache,
    opts: SilencesOptions,
    clock: SharedClock,
    query_metrics: QueryHook,
}

impl std::fmt::Debug for Silences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Silences")
            .field("opts", &self.opts)
            .field("len", &self.inner.read().st.len())
            .finish()
    }
}

/// `silence.go getState`: pending before start, expired strictly after end, else active.
pub fn internal_state(s: &Silence, now: DateTime<Utc>) -> SilenceState {
    if now < s.starts_at {
        SilenceState::Pending
    } else if now > s.ends_at {
        SilenceState::Expired
    } else {
        SilenceState::Active
    }
}

fn add_saturating(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `canUpdate`: may `prev` be changed into `next` without rewriting history?
fn can_update(prev: &Silence, next: &Silence, now: DateTime<Utc>) -> bool {
    if prev.matchers.len() != next.matchers.len()
        || prev.matchers.iter().zip(&next.matchers).any(|(a, b)| a != b)
    {
        return false;
    }
    match internal_state(prev, now) {
        SilenceState::Active => {
            next.starts_at.timestamp() == prev.starts_at.timestamp() && next.ends_at >= now
        }
        SilenceState::Pending => next.starts_at >= now,
        SilenceState::Expired => false,
    }
}

impl Silences {
    pub fn new(opts: SilencesOptions, clock: SharedClock) -> Self {
        Self {
            inner: RwLock::new(Inner::default()),
            hooks: RwLock::new(Vec::new()),
            matchers: MatcherCache::default(),
            opts,
            clock,
            query_metrics: QueryHook::default(),
        }
    }

    /// Sets the observer of queries, those upstream's `Silences.Query` counts: [`Silences::get`],
    /// [`Silences::query`], [`Silences::matching`] (and so [`Silences::mutes`]), [`Silences::mutes_among`], and
    /// [`Silences::counts`] as three. Writes, merges, GC and snapshots are not queries. Returns false, keeping the
    /// first, when one was already set.
    pub fn set_query_metrics(&self, m: Arc<dyn QueryMetrics>) -> bool {
        self.query_metrics.set(m)
    }

    pub fn options(&self) -> &SilencesOptions {
        &self.opts
    }

    /// Registers a hook called after every accepted change, in order, while the store's write lock is held; it
    /// must be quick and must not call back into `Silences` (forward into a channel instead).
    pub fn on_change(&self, hook: impl Fn(&SilenceChange) + Send + Sync + 'static) {
        self.hooks.write().push(Arc::new(hook));
    }

    fn mesh(&self, s: Silence) -> MeshSilence {
        let expires_at = add_saturating(s.ends_at, self.opts.retention);
        MeshSilence { silence: Arc::new(s), expires_at }
    }

    /// Stores `mesh` unconditionally, keeps the index in step and tells the hooks.
    fn store(&self, inner: &mut Inner, mesh: MeshSilence, origin: ChangeOrigin, now: DateTime<Utc>) {
        if let Some(prev) = inner.st.get(&mesh.silence.id) {
            let prev = Arc::clone(&prev.silence);
            inner.index.remove(&prev);
        }
        if mesh.silence.ends_at >= now {
            inner.index.insert(Arc::clone(&mesh.silence));
        }
        inner.st.insert(mesh.silence.id.clone(), mesh.clone());
        inner.version += 1;
        let change = SilenceChange { mesh, origin };
        for hook in self.hooks.read().iter() {
            hook(&change);
        }
    }

    /// A local write's `updated_at`: now, or just after the previous write when the clock has not moved past it,
    /// so the change wins last-writer-wins everywhere (upstream silently drops it in that case).
    fn local_updated_at(prev: Option<&Silence>, now: DateTime<Utc>) -> DateTime<Utc> {
        match prev {
            Some(p) if p.updated_at >= now => p.updated_at + chrono::Duration::nanoseconds(1),
            _ => now,
        }
    }

    fn check_size(&self, mesh: &MeshSilence) -> Result<(), SilenceError> {
        let limit = self.opts.limits.max_silence_size_bytes;
        let n = mesh_silence_size(mesh);
        if limit > 0 && n > limit {
            return Err(SilenceError::Limit(format!(
                "silence exceeded maximum size: {n} bytes (limit: {limit} bytes)"
            )));
        }
        Ok(())
    }

    /// Creates or updates a silence from the API (`postSilencesHandler` + `Silences.Set`); returns its id, which
    /// is new unless the update could be done in place.
    ///
    /// Order of checks: the API's time checks, unknown id (`silence not found`, as 0.25 measured), validation, then
    /// in-place update or expire-old-and-create-new. Unlike 0.25 (fixed in 0.28) an invalid update never expires
    /// the old silence.
    pub fn set(&self, post: PostableSilence) -> Result<String, SilenceError> {
        let now = self.clock.now();
        if let Some(start) = post.starts_at {
            if start >= post.ends_at {
                return Err(SilenceError::Rejected("start time must be before end time".to_owned()));
            }
        }
        if post.ends_at < now {
            return Err(SilenceError::Rejected("end time can't be in the past".to_owned()));
        }
        // Everything expensive (compiling matchers, a new id) happens before the write lock, so concurrent
        // creations only serialise on the map update itself.
        let id = post.id.as_deref().filter(|id| !id.is_empty());
        let known = id.and_then(|id| self.lookup(id));
        let matchers = self.matchers.compile_all(&post.matchers, self.opts.names, known.as_deref());
        let new_id = uuid::Uuid::new_v4().to_string();
        let mut inner = self.inner.write();
        let prev = match id {
            Some(id) => Some(Arc::clone(&inner.st.get(id).ok_or(SilenceError::NotFound)?.silence)),
            None => None,
        };
        let matchers = matchers?;
        let starts_at = post.starts_at.unwrap_or(now);
        if post.ends_at < starts_at {
            return Err(SilenceError::Invalid("end time must not be before start time".to_owned()));
        }
        let mut sil = Silence {
            id: prev.as_ref().map(|p| p.id.clone()).unwrap_or_default(),
            matchers,
            starts_at,
            ends_at: post.ends_at,
            updated_at: now,
            created_by: post.created_by,
            comment: post.comment,
        };
        if let Some(p) = prev.as_ref().filter(|p| can_update(p, &sil, now)) {
            sil.updated_at = Self::local_updated_at(Some(p), now);
            let mesh = self.mesh(sil);
            self.check_size(&mesh)?;
            let id = mesh.silence.id.clone();
            self.store(&mut inner, mesh, ChangeOrigin::Local, now);
            return Ok(id);
        }
        let max = self.opts.limits.max_silences;
        if max > 0 && inner.st.len() + 1 > max {
            let n = inner.st.len();
            return Err(SilenceError::Limit(format!(
                "exceeded maximum number of silences: {n} (limit: {max})"
            )));
        }
        sil.id = new_id;
        if sil.starts_at < now {
            sil.starts_at = now;
        }
        let mesh = self.mesh(sil);
        self.check_size(&mesh)?;
        if let Some(p) = prev {
            self.expire_locked(&mut inner, &p, now);
        }
        let id = mesh.silence.id.clone();
        self.store(&mut inner, mesh, ChangeOrigin::Local, now);
        Ok(id)
    }

    /// Expires a silence now (`DELETE /api/v2/silence/{id}`): active → ends now; pending → starts and ends now;
    /// already expired → nothing to do; unknown → [`SilenceError::NotFound`].
    pub fn expire(&self, id: &str) -> Result<(), SilenceError> {
        let now = self.clock.now();
        let mut inner = self.inner.write();
        let prev = Arc::clone(&inner.st.get(id).ok_or(SilenceError::NotFound)?.silence);
        self.expire_locked(&mut inner, &prev, now);
        Ok(())
    }

    fn expire_locked(&self, inner: &mut Inner, prev: &Silence, now: DateTime<Utc>) {
        let mut sil = prev.clone();
        match internal_state(prev, now) {
            SilenceState::Expired => return,
            SilenceState::Active => sil.ends_at = now,
            SilenceState::Pending => {
                sil.starts_at = now;
                sil.ends_at = now;
            }
        }
        sil.updated_at = Self::local_updated_at(Some(prev), now);
        let mesh = self.mesh(sil);
        self.store(inner, mesh, ChangeOrigin::Local, now);
    }

    /// Merges a silence received from a peer or replayed from disk (`state.merge`): ignored when it expired before
    /// now; accepted when the id is unknown or its `updated_at` is strictly newer. Returns whether it changed the
    /// state, i.e. whether gossip should propagate it. Idempotent and order-independent.
    pub fn merge(&self, mesh: MeshSilence) -> bool {
        let now = self.clock.now();
        if mesh.expires_at < now {
            return false;
        }
        let mut inner = self.inner.write();
        let newer =
            inner.st.get(&mesh.silence.id).is_none_or(|p| p.silence.updated_at < mesh.silence.updated_at);
        if newer {
            self.store(&mut inner, mesh, ChangeOrigin::Remote, now);
        }
        newer
    }

    /// Every stored silence with its expiry: gossip's full state and storage snapshots.
    pub fn full_state(&self) -> Vec<MeshSilence> {
        self.inner.read().st.values().cloned().collect()
    }

    /// One silence by id: `GET /api/v2/silence/{id}`, upstream's `Query(QIDs(id))`, so a query even when unknown.
    pub fn get(&self, id: &str) -> Option<Arc<Silence>> {
        let t = self.query_metrics.start();
        let s = self.lookup(id);
        metrics::finish(t, false);
        s
    }

    /// [`Silences::get`] for the store itself, which upstream does not count as a query either.
    fn lookup(&self, id: &str) -> Option<Arc<Silence>> {
        self.inner.read().st.get(id).map(|m| Arc::clone(&m.silence))
    }

    /// All silences matching the API filter, with their API state at `now`, in the API's order.
    pub fn query(&self, filter: &[Matcher], now: DateTime<Utc>) -> Vec<SilenceView> {
        let t = self.query_metrics.start();
        let mut views: Vec<SilenceView> = self
            .inner
            .read()
            .st
            .values()
            .filter(|m| matches_filter(&m.silence, filter))
            .map(|m| SilenceView { silence: Arc::clone(&m.silence), state: m.silence.state_at(now) })
            .collect();
        sort_views(&mut views);
        metrics::finish(t, false);
        views
    }

    /// Active and pending silences matching `labels` at `now`, plus the version (what the silencer caches).
    pub fn matching(&self, labels: &LabelSet, now: DateTime<Utc>) -> MatchingSilences {
        let t = self.query_metrics.start();
        let inner = self.inner.read();
        let mut out = MatchingSilences { version: inner.version, ..Default::default() };
        inner.index.candidates(labels, |s| {
            let list = match internal_state(s, now) {
                SilenceState::Active => &mut out.active,
                SilenceState::Pending => &mut out.pending,
                SilenceState::Expired => return,
            };
            if s.matches(labels) {
                list.push(s.id.clone());
            }
        });
        drop(inner);
        out.active.sort_unstable();
        out.pending.sort_unstable();
        metrics::finish(t, false);
        out
    }

    /// Ids of the active silences muting `labels` at `now`, sorted.
    pub fn mutes(&self, labels: &LabelSet, now: DateTime<Utc>) -> Vec<String> {
        self.matching(labels, now).active
    }

    /// Re-checks only the given silence ids (the silencer's cached active + pending ids, valid while
    /// [`Silences::version`] is unchanged); returns the active ones matching `labels`, sorted.
    pub fn mutes_among(&self, ids: &[String], labels: &LabelSet, now: DateTime<Utc>) -> Vec<String> {
        let t = self.query_metrics.start();
        let inner = self.inner.read();
        let mut out: Vec<String> = ids
            .iter()
            .filter_map(|id| inner.st.get(id))
            .filter(|m| internal_state(&m.silence, now) == SilenceState::Active && m.silence.matches(labels))
            .map(|m| m.silence.id.clone())
            .collect();
        drop(inner);
        out.sort_unstable();
        out.dedup();
        metrics::finish(t, false);
        out
    }

    /// Bumped on every change; the silencer's cache key.
    pub fn version(&self) -> u64 {
        self.inner.read().version
    }

    pub fn len(&self) -> usize {
        self.inner.read().st.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.read().st.is_empty()
    }

    /// Silences by (internal) state at `now`. Counted as three queries: upstream's `alertmanager_silences{state}`
    /// gauges each run one (`CountState`) on every scrape.
    pub fn counts(&self, now: DateTime<Utc>) -> SilenceCounts {
        let t = self.query_metrics.start();
        let mut c = SilenceCounts::default();
        for m in self.inner.read().st.values() {
            match internal_state(&m.silence, now) {
                SilenceState::Active => c.active += 1,
                SilenceState::Pending => c.pending += 1,
                SilenceState::Expired => c.expired += 1,
            }
        }
        if let Some(t) = t {
            t.finish_n(3, false);
        }
        c
    }

    /// Deletes silences whose `expires_at <= now`; returns how many. Also drops ended silences from the mute index.
    pub fn gc(&self, now: DateTime<Utc>) -> usize {
        let mut inner = self.inner.write();
        let before = inner.st.len();
        inner.st.retain(|_, m| m.expires_at > now);
        let removed = before - inner.st.len();
        inner.index.retain(|s| s.ends_at >= now);
        removed
    }
}

#[cfg(test)]
#[path = "silences/tests.rs"]
mod tests;
