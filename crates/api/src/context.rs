//! What the HTTP layer needs from the rest of tocsin, injected by the app: the stores, the live configuration, and
//! the few seams that belong to crates not written yet (cluster status, reload, routing of alerts to receivers).

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use parking_lot::RwLock;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use tocsin_config::{Config, ParseMode};
use tocsin_model::clock::SharedClock;
use tocsin_model::labels::NameValidation;
use tocsin_model::{Fingerprint, LabelSet};
use tocsin_state::{AlertStore, Silences};

use crate::models::{ClusterState, ClusterStatus, VersionInfo};

/// The live configuration; a reload swaps the inner `Arc`, readers clone it once per request.
pub type ConfigHandle = Arc<RwLock<Arc<Config>>>;

/// The metrics registry shared with the app; `/metrics` encodes it.
pub type SharedRegistry = Arc<RwLock<Registry>>;

/// Default `--web.max-request-body-bytes`: far above any batch Prometheus sends (it caps batches at 64k alerts).
pub const DEFAULT_MAX_REQUEST_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// The `cluster` part of `/api/v2/status`.
pub trait ClusterStatusSource: Send + Sync + std::fmt::Debug {
    fn status(&self) -> ClusterStatus;
}

/// Clustering off (`--cluster.listen-address=`): `{"peers":[],"status":"disabled"}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClusterDisabled;

impl ClusterStatusSource for ClusterDisabled {
    fn status(&self) -> ClusterStatus {
        ClusterStatus { name: None, peers: Vec::new(), status: ClusterState::Disabled }
    }
}

/// A fixed status (e.g. "ready" with this node as its only peer until gossip exists).
#[derive(Debug, Clone)]
pub struct StaticClusterStatus(pub ClusterStatus);

impl ClusterStatusSource for StaticClusterStatus {
    fn status(&self) -> ClusterStatus {
        self.0.clone()
    }
}

/// `POST /-/reload`: reloads the configuration; the error text is shown after `failed to reload config: `.
pub trait Reloader: Send + Sync + std::fmt::Debug {
    fn reload(&self) -> BoxFuture<'_, Result<(), String>>;
}

/// Durable storage of silences: `POST /api/v2/silences` and `DELETE /api/v2/silence/{id}` answer only once the
/// change is on disk (the app plugs in `--storage.path`'s log; without one a change is acknowledged from memory).
pub trait SilenceSync: Send + Sync + std::fmt::Debug {
    /// Resolves once every silence change made so far is durable; the error becomes a 500.
    fn sync(&self) -> BoxFuture<'_, Result<(), String>>;
}

/// One aggregation group as the dispatcher sees it; the API renders its alerts from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSnapshot {
    pub labels: LabelSet,
    pub receiver: String,
    pub alerts: Vec<Fingerprint>,
}

/// Where alerts go: the receivers an alert routes to (`gettableAlert.receivers`, the `receiver` filter) and the
/// current aggregation groups (`/api/v2/alerts/groups`).
pub trait Router: Send + Sync + std::fmt::Debug {
    /// Receiver names of every route the labels match, in route-tree order (duplicates kept, as upstream).
    fn receivers(&self, labels: &LabelSet) -> Vec<String>;

    /// The dispatcher's aggregation groups.
    // TODO(issue 3): the pipeline's dispatcher implements this; until then there are no groups.
    fn groups(&self) -> Vec<GroupSnapshot> {
        Vec::new()
    }
}

/// Routes over the live configuration's route tree; no groups (no dispatcher yet).
#[derive(Debug, Clone)]
pub struct ConfigRouter {
    config: ConfigHandle,
}

impl ConfigRouter {
    pub fn new(config: ConfigHandle) -> Self {
        Self { config }
    }
}

impl Router for ConfigRouter {
    fn receivers(&self, labels: &LabelSet) -> Vec<String> {
        // Under the read lock rather than cloning the `Arc`: this runs once per alert of a GET.
        let config = self.config.read();
        config.route.match_labels(labels).into_iter().map(|r| r.receiver.clone()).collect()
    }
}

/// Settings from flags.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// `--web.route-prefix` (normalised by [`normalise_prefix`]): `/` or `/something` without trailing slash.
    pub route_prefix: String,
    /// Matcher grammar and label-name rule (`--enable-feature=classic-mode|utf8-strict-mode`).
    pub parse_mode: ParseMode,
    /// `--web.max-request-body-bytes`.
    pub max_request_body_bytes: u64,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            route_prefix: "/".to_owned(),
            parse_mode: ParseMode::default(),
            max_request_body_bytes: DEFAULT_MAX_REQUEST_BODY_BYTES,
        }
    }
}

/// `/`, or the prefix with one leading and no trailing slash (`alertmanager` → `/alertmanager`).
pub fn normalise_prefix(p: &str) -> String {
    let trimmed = p.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}")
    }
}

/// The API's own counters.
#[derive(Debug, Clone, Default)]
pub struct ApiMetrics {
    /// `alertmanager_alerts_received_total{status,version="v2"}`.
    pub received: Family<Vec<(String, String)>, Counter>,
    /// `alertmanager_alerts_invalid_total{version="v2"}`.
    pub invalid: Family<Vec<(String, String)>, Counter>,
}

impl ApiMetrics {
    /// Registers the counters and pre-creates their series, so they read 0 before the first alert as upstream.
    pub fn register(registry: &mut Registry) -> Self {
        let m = ApiMetrics::default();
        registry.register(
            "alertmanager_alerts_received",
            "The total number of received alerts",
            m.received.clone(),
        );
        registry.register(
            "alertmanager_alerts_invalid",
            "The total number of received alerts that were invalid",
            m.invalid.clone(),
        );
        for status in ["firing", "resolved"] {
            drop(m.received.get_or_create(&received_labels(status)));
        }
        drop(m.invalid.get_or_create(&invalid_labels()));
        m
    }
}

pub(crate) fn received_labels(status: &str) -> Vec<(String, String)> {
    vec![("status".to_owned(), status.to_owned()), ("version".to_owned(), "v2".to_owned())]
}

pub(crate) fn invalid_labels() -> Vec<(String, String)> {
    vec![("version".to_owned(), "v2".to_owned())]
}

/// Everything the app hands to [`Api::new`].
#[derive(Debug)]
pub struct ApiDeps {
    pub alerts: Arc<AlertStore>,
    pub silences: Arc<Silences>,
    pub config: ConfigHandle,
    pub cluster: Arc<dyn ClusterStatusSource>,
    pub reloader: Arc<dyn Reloader>,
    /// `None` routes over `config` with [`ConfigRouter`].
    pub router: Option<Arc<dyn Router>>,
    pub registry: SharedRegistry,
    pub version: VersionInfo,
    /// Process start (`uptime` in the status).
    pub start_time: DateTime<Utc>,
    pub clock: SharedClock,
    pub options: ApiOptions,
}

/// The API's context, shared by all requests.
#[derive(Debug)]
pub struct Api {
    pub alerts: Arc<AlertStore>,
    pub silences: Arc<Silences>,
    pub config: ConfigHandle,
    pub cluster: Arc<dyn ClusterStatusSource>,
    pub reloader: Arc<dyn Reloader>,
    pub router: Arc<dyn Router>,
    pub registry: SharedRegistry,
    pub metrics: ApiMetrics,
    pub version: VersionInfo,
    pub start_time: DateTime<Utc>,
    pub clock: SharedClock,
    pub options: ApiOptions,
    /// Awaited after every silence change before answering ([`SilenceSync`]).
    pub silence_sync: Option<Arc<dyn SilenceSync>>,
}

impl Api {
    /// Builds the context and registers the API's counters in `deps.registry`.
    pub fn new(deps: ApiDeps) -> Arc<Api> {
        Self::with_silence_sync(deps, None)
    }

    /// [`Api::new`] with durable silence writes: changes are acknowledged only after `sync` resolves.
    pub fn with_silence_sync(deps: ApiDeps, silence_sync: Option<Arc<dyn SilenceSync>>) -> Arc<Api> {
        let metrics = ApiMetrics::register(&mut deps.registry.write());
        let router = deps.router.unwrap_or_else(|| Arc::new(ConfigRouter::new(Arc::clone(&deps.config))));
        let mut options = deps.options;
        options.route_prefix = normalise_prefix(&options.route_prefix);
        Arc::new(Api {
            alerts: deps.alerts,
            silences: deps.silences,
            config: deps.config,
            cluster: deps.cluster,
            reloader: deps.reloader,
            router,
            registry: deps.registry,
            metrics,
            version: deps.version,
            start_time: deps.start_time,
            clock: deps.clock,
            options,
            silence_sync,
        })
    }

    /// The current configuration.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read())
    }

    /// Label-name rule of the configured parse mode (classic only in `classic-mode`).
    pub fn name_validation(&self) -> NameValidation {
        match self.options.parse_mode {
            ParseMode::Classic => NameValidation::Classic,
            _ => NameValidation::Utf8,
        }
    }
}

/// versionInfo from this build: tocsin's version, the Rust toolchain in `goVersion`'s place.
pub fn build_version_info() -> VersionInfo {
    VersionInfo {
        branch: option_env!("TOCSIN_BUILD_BRANCH").unwrap_or("").to_owned(),
        build_date: option_env!("TOCSIN_BUILD_DATE").unwrap_or("").to_owned(),
        build_user: option_env!("TOCSIN_BUILD_USER").unwrap_or("").to_owned(),
        go_version: option_env!("TOCSIN_RUSTC_VERSION").unwrap_or("rust").to_owned(),
        revision: option_env!("TOCSIN_BUILD_REVISION").unwrap_or("").to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}
