//! Start-up and shutdown of one tocsin process, in the order of Alertmanager's `cmd/alertmanager/main.go`
//! (reference §1.3): log the version, create the storage directory, silences and the notification log loaded from
//! `--storage.path` (with their maintenance: GC then compaction), the alert store and its GC, metrics, the
//! configuration, the notification pipeline built from it (templates, receivers, inhibitor, dispatcher; rebuilt on
//! every reload by [`crate::notify::LivePipeline`]), the API and web UI, then every HTTP listener. Nothing slow
//! happens before the listeners are up, so the process is ready within milliseconds.
//!
//! Shutdown (SIGTERM/SIGINT): stop serving, stop the pipeline, then flush and snapshot storage so the next start
//! replays nothing. Every silence change was already fsynced before its 200, so `kill -9` loses nothing either.
//!
//! Every failure is logged here, in upstream's words, before [`App::run`] returns it; the binary only maps an
//! error to exit status 1.

use crate::flags::Flags;
use crate::limits::{effective_limit, limit_get, LimitMetrics};
use crate::listen::{bind, ListenError};
use crate::metrics::{AppMetrics, StateCollector};
use crate::notify::{LivePipeline, NotifyDeps};
use crate::reload::Reloader;
use crate::state_metrics::{self, StateMetrics};
use crate::version::BUILD;
use crate::webconfig::serve::{serve, Handler};
use crate::webconfig::watch::WebConfigWatch;
use crate::{signals, web_url};
use parking_lot::RwLock;
use prometheus_client::registry::Registry;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tocsin_api::context::SilenceSync;
use tocsin_api::models::VersionInfo;
use tocsin_api::{Api, ApiDeps, ApiOptions, ClusterDisabled};
use tocsin_model::clock::{SharedClock, SystemClock};
use tocsin_pipeline::retry::SeededJitter;
use tocsin_pipeline::{Peer, SingleNode};
use tocsin_state::nflog::NotificationLog;
use tocsin_state::storage::{Storage, StorageError, StorageOptions};
use tocsin_state::{AlertStore, SilenceLimits, Silences, SilencesOptions};
use tokio::sync::watch;

/// Why the process could not start (or keep) serving. Already logged when returned.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("unable to create data directory {}: {source}", path.display())]
    Storage { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    ExternalUrl(#[from] web_url::WebUrlError),
    #[error(transparent)]
    WebConfig(#[from] crate::webconfig::WebConfigError),
    #[error(transparent)]
    Systemd(#[from] crate::systemd::SystemdError),
    #[error("loading configuration file: {0}")]
    Config(#[from] tocsin_config::ConfigError),
    #[error("{0}")]
    Listen(#[from] ListenError),
    #[error("installing signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("{0}")]
    OpenStorage(#[from] StorageError),
    /// The configuration loaded but the pipeline could not be built from it (templates).
    #[error("{0}")]
    Apply(String),
    #[error("{0}")]
    Cluster(#[from] tocsin_gossip::ClusterError),
}

/// The application.
#[derive(Debug)]
pub struct App;

impl App {
    /// Runs until `shutdown` completes, then stops the listeners and returns `Ok` (exit status 0).
    pub async fn run(
        flags: Flags,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let clock: SharedClock = Arc::new(SystemClock);
        let start_time = clock.now();
        tracing::info!(version = %BUILD.info(), "Starting tocsin");
        tracing::info!(build_context = %BUILD.build_context(), "Build context");
        // Signal handlers before anything can take time, so an early SIGHUP cannot kill the process.
        let hangup = signals::hangup()
            .map_err(|e| log_err("Unable to install signal handlers", AppError::Signals(e)))?;

        // A bad web config file is fatal before anything else starts (upstream fails in ListenAndServe).
        let web_config = match &flags.web_config_file {
            Some(path) => {
                Some(Arc::new(WebConfigWatch::load(path).map_err(|e| log_err("Listen error", e.into()))?))
            }
            None => None,
        };
        create_storage(&flags)?;

        let parse_mode = flags.parse_mode();
        let silences = Arc::new(Silences::new(
            SilencesOptions {
                retention: flags.data_retention,
                limits: SilenceLimits {
                    max_silences: usize::try_from(flags.silences_max_silences).unwrap_or(0),
                    max_silence_size_bytes: usize::try_from(flags.silences_max_silence_size_bytes)
                        .unwrap_or(0),
                },
                names: parse_mode.name_validation(),
            },
            clock.clone(),
        ));
        let nflog = Arc::new(NotificationLog::new(flags.data_retention));
        // Before gossip is wired, so replayed records are not re-broadcast.
        let storage = open_storage(&flags, &silences, &nflog, &clock).await?;
        let alerts = Arc::new(AlertStore::new(clock.clone()));
        spawn_maintenance(flags.alerts_gc_interval, {
            let (alerts, clock) = (alerts.clone(), clock.clone());
            move || {
                alerts.gc(clock.now());
            }
        });

        let mut registry = Registry::default();
        let app_metrics = AppMetrics::register(&mut registry, &BUILD);
        app_metrics.cluster_enabled.set(i64::from(flags.cluster_listen_address.is_some()));
        StateCollector { alerts: alerts.clone(), silences: silences.clone(), clock: clock.clone() }
            .register(&mut registry);
        let limit_metrics = LimitMetrics::register(&mut registry);
        let pipeline_metrics = Arc::new(tocsin_pipeline::Metrics::register(&mut registry));
        // Upstream's order: the gossip mesh starts after the states it replicates are loaded, before serving.
        let cluster = crate::cluster::start_cluster(
            &flags,
            silences.clone(),
            nflog.clone(),
            &mut registry,
            clock.clone(),
        )
        .await
        .map_err(|e| log_err("unable to initialize gossip mesh", e.into()))?;
        let propagated = cluster.as_ref().map(|c| c.propagated().clone()).unwrap_or_default();
        let state_metrics =
            StateMetrics::register(&mut registry, propagated).with_nflog_query_counters(&pipeline_metrics);
        // Before the API and the pipeline start, so every query is counted.
        state_metrics.observe_queries(&silences, &nflog);
        let registry = Arc::new(RwLock::new(registry));
        // Storage maintenance GCs silences and the nflog (`--data.retention`), then compacts both.
        let maintenance = (!flags.data_maintenance_interval.is_zero()).then(|| {
            let (storage, clock) = (storage.clone(), clock.clone());
            state_metrics::spawn_maintenance(storage, state_metrics, clock, flags.data_maintenance_interval)
        });

        let hostname = hostname::get().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default();
        let external =
            web_url::external_url(flags.web_external_url.as_deref(), flags.first_listen_address(), &hostname)
                .map_err(|e| log_err("failed to determine external URL", e.into()))?;
        let route_prefix = web_url::route_prefix(flags.web_route_prefix.as_deref(), &external);
        tracing::debug!(external_url = %external, route_prefix = %route_prefix, "Web URLs");

        let reloader =
            Arc::new(Reloader::load_initial(&flags.config_file, parse_mode, app_metrics, clock.clone())?);
        // With gossip, the wait stage and settling follow the cluster's position; alone, position 0.
        let peer: Arc<dyn Peer> = match &cluster {
            Some(c) => c.peer(),
            None => Arc::new(SingleNode),
        };
        let pipeline = Arc::new(LivePipeline::new(NotifyDeps {
            clock: clock.clone(),
            alerts: alerts.clone(),
            silences: silences.clone(),
            nflog: nflog.clone(),
            peer,
            peer_timeout: flags.cluster_peer_timeout,
            retention: flags.data_retention,
            external_url: external.to_string(),
            // Seeded per process, so the nodes of a cluster do not retry in lockstep.
            jitter: Arc::new(SeededJitter::new(uuid::Uuid::new_v4().as_u64_pair().0)),
            metrics: pipeline_metrics,
            nflog_sync: Some(Arc::new(NflogStorageSync(storage.nflog().clone()))),
        }));
        // Built from the initial config now and rebuilt on every successful reload.
        reloader
            .on_apply(Box::new({
                let pipeline = pipeline.clone();
                move |config| pipeline.apply(config)
            }))
            .map_err(|e| log_err("Loading configuration file failed", AppError::Apply(e)))?;

        let api = Api::with_silence_sync(
            ApiDeps {
                alerts,
                silences,
                config: reloader.handle(),
                cluster: match &cluster {
                    Some(c) => c.status_source(),
                    None => Arc::new(ClusterDisabled),
                },
                reloader: reloader.clone(),
                router: Some(pipeline.clone()),
                registry,
                version: version_info(),
                start_time,
                clock,
                options: ApiOptions {
                    route_prefix: route_prefix.clone(),
                    parse_mode,
                    max_request_body_bytes: flags.web_max_request_body_bytes,
                },
            },
            Some(Arc::new(StorageSync(storage.clone()))),
        );
        let prefix = tocsin_api::normalise_prefix(&route_prefix);
        let filter = crate::web::routes(
            &prefix,
            limit_get(effective_limit(flags.web_get_concurrency), limit_metrics, tocsin_api::routes(api)),
        );

        let handler = Handler::new(filter, web_config, flags.web_timeout);
        let listeners = listeners(&flags).await?;
        let tls = handler.tls_http2();
        for listener in &listeners {
            let local = listener.local_addr().map_or_else(|_| "?".to_owned(), |a| a.to_string());
            tracing::info!(address = %local, "Listening on");
            match tls {
                Some(http2) => tracing::info!(http2, address = %local, "TLS is enabled."),
                None => tracing::info!(http2 = false, address = %local, "TLS is disabled."),
            }
        }
        signals::reload_on_hangup(hangup, reloader);

        let (stop_tx, stop_rx) = watch::channel(false);
        let mut servers = Vec::with_capacity(listeners.len());
        for listener in listeners {
            let mut stop = stop_rx.clone();
            let server = serve(listener, handler.clone(), async move {
                let _ = stop.wait_for(|s| *s).await;
            });
            servers.push(tokio::spawn(server));
        }
        shutdown.await;
        let _ = stop_tx.send(true);
        pipeline.stop();
        // Open keep-alive connections get a bounded grace period; the process exits regardless.
        let drain = futures::future::join_all(servers);
        if tokio::time::timeout(Duration::from_secs(10), drain).await.is_err() {
            tracing::warn!("Timed out waiting for HTTP connections to close");
        }
        if let Some(m) = maintenance {
            m.abort();
        }
        if let Some(c) = &cluster {
            c.leave().await;
        }
        // Everything acknowledged is already on disk; the snapshot only makes the next start replay nothing.
        if let Err(err) = storage.flush_and_snapshot().await {
            tracing::error!(%err, "Writing the final snapshot failed");
        }
        if let Err(err) = storage.close().await {
            tracing::error!(%err, "Closing storage failed");
        }
        Ok(())
    }
}

fn log_err(msg: &'static str, err: AppError) -> AppError {
    tracing::error!(err = %err, "{msg}");
    err
}

/// The HTTP listeners: systemd's sockets with `--web.systemd-socket`, else every `--web.listen-address`.
async fn listeners(flags: &Flags) -> Result<Vec<tokio::net::TcpListener>, AppError> {
    if flags.web_systemd_socket {
        tracing::info!("Listening on systemd activated listeners instead of port listeners.");
        return crate::systemd::listeners().map_err(|e| log_err("Listen error", e.into()));
    }
    let mut listeners = Vec::with_capacity(flags.web_listen_addresses.len());
    for addr in &flags.web_listen_addresses {
        listeners.push(bind(addr).await.map_err(|e| log_err("Listen error", e.into()))?);
    }
    Ok(listeners)
}

/// `MkdirAll(--storage.path)`, then a write probe: finding a read-only directory now beats losing the silences
/// snapshot at shutdown.
fn create_storage(flags: &Flags) -> Result<(), AppError> {
    let path = &flags.storage_path;
    let fail =
        |source| log_err("Unable to create data directory", AppError::Storage { path: path.clone(), source });
    std::fs::create_dir_all(path).map_err(fail)?;
    let probe = path.join(".tocsin-write-test");
    std::fs::write(&probe, b"").map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Opens `--storage.path` (recovery, or adoption of Alertmanager's files) and loads it into the stores.
async fn open_storage(
    flags: &Flags,
    silences: &Arc<Silences>,
    nflog: &Arc<NotificationLog>,
    clock: &SharedClock,
) -> Result<Arc<Storage>, AppError> {
    let opts = StorageOptions::new(flags.storage_path.clone());
    let (silences, nflog, clock) = (silences.clone(), nflog.clone(), clock.clone());
    let opened = tokio::task::spawn_blocking(move || Storage::open(&opts, silences, nflog, clock))
        .await
        .map_err(|e| StorageError::Io { op: "open", path: flags.storage_path.clone(), reason: e.to_string() })
        .and_then(|r| r);
    opened.map(Arc::new).map_err(|e| log_err("Unable to open storage", e.into()))
}

/// The API's silence writes wait for the storage's group commit.
#[derive(Debug)]
struct StorageSync(Arc<Storage>);

impl SilenceSync for StorageSync {
    fn sync(&self) -> futures::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.0.silences().sync().await.map_err(|e| e.to_string()) })
    }
}

/// Runs `task` every `period` (first run after one period); a zero period disables it.
fn spawn_maintenance(period: Duration, task: impl Fn() + Send + 'static) {
    if period.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            task();
        }
    });
}

fn version_info() -> VersionInfo {
    VersionInfo {
        branch: BUILD.branch.to_owned(),
        build_date: BUILD.build_date.to_owned(),
        build_user: BUILD.build_user.to_owned(),
        go_version: BUILD.compiler.to_owned(),
        revision: BUILD.revision.to_owned(),
        version: BUILD.version.to_owned(),
    }
}

/// Set-notifies waits for the storage's group commit, so an acknowledged send survives `kill -9`.
#[derive(Debug)]
struct NflogStorageSync(tocsin_state::storage::DurableNflog);

#[async_trait::async_trait]
impl tocsin_pipeline::dedup::NflogSync for NflogStorageSync {
    async fn sync(&self) -> Result<(), String> {
        self.0.sync().await.map_err(|e| e.to_string())
    }
}
