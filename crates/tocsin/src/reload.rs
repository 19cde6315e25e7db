//! Configuration (re)loading: Alertmanager's `config.Coordinator`. SIGHUP and `POST /-/reload` both call
//! [`Reloader::reload`]. A file that fails to load or to apply leaves the running configuration untouched and sets
//! `alertmanager_config_last_reload_successful` to 0; a good one is handed to every apply hook (the pipeline
//! rebuilds its dispatcher and inhibitor there) and then published to readers (the API's status endpoint).

use crate::metrics::AppMetrics;
use parking_lot::{Mutex, RwLock};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tocsin_api::ConfigHandle;
use tocsin_config::{Config, ConfigError, ParseMode};
use tocsin_model::clock::SharedClock;

/// A subscriber that must accept a new configuration before it is published (upstream's "config change
/// subscribers"): it rebuilds what depends on the config (templates, receivers, dispatcher, inhibitor). An error
/// rejects the whole reload.
pub type ApplyHook = Box<dyn Fn(&Arc<Config>) -> Result<(), String> + Send + Sync>;

/// Why a reload did not take effect. `Display` is the text `POST /-/reload` puts after `failed to reload config: `.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file could not be read, parsed or validated.
    #[error("{0}")]
    Load(#[from] ConfigError),
    /// A subscriber rejected the new configuration.
    #[error("{0}")]
    Apply(String),
}

/// Owns the current configuration and the reload procedure.
pub struct Reloader {
    config_file: PathBuf,
    mode: ParseMode,
    metrics: AppMetrics,
    clock: SharedClock,
    /// Shared with the API, which reads it per request.
    current: ConfigHandle,
    hooks: RwLock<Vec<ApplyHook>>,
    /// Serialises reloads: a SIGHUP and a `POST /-/reload` arriving together must not interleave.
    in_progress: Mutex<()>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader")
            .field("config_file", &self.config_file)
            .field("hooks", &self.hooks.read().len())
            .finish_non_exhaustive()
    }
}

impl Reloader {
    /// Loads the configuration for the first time (same logs and metrics as a reload). Start-up fails on error.
    pub fn load_initial(
        config_file: &Path,
        mode: ParseMode,
        metrics: AppMetrics,
        clock: SharedClock,
    ) -> Result<Reloader, ConfigError> {
        let config = Arc::new(load_logged(config_file, mode).inspect_err(|_| metrics.reload_failed())?);
        metrics.reload_succeeded(&config, unix_seconds(&clock));
        let current = Arc::new(RwLock::new(config));
        Ok(Reloader {
            config_file: config_file.to_owned(),
            mode,
            metrics,
            clock,
            current,
            hooks: RwLock::new(Vec::new()),
            in_progress: Mutex::new(()),
        })
    }

    /// Re-reads the file; on success every hook applies it, then it becomes current.
    pub fn reload(&self) -> Result<(), ReloadError> {
        let _guard = self.in_progress.lock();
        let config = match load_logged(&self.config_file, self.mode) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                self.metrics.reload_failed();
                return Err(e.into());
            }
        };
        if let Err(e) = self.apply(&config) {
            tracing::error!(
                component = "configuration",
                file = %self.config_file.display(),
                err = %e,
                "one or more config change subscribers failed to apply new config"
            );
            self.metrics.reload_failed();
            return Err(ReloadError::Apply(e));
        }
        self.metrics.reload_succeeded(&config, unix_seconds(&self.clock));
        *self.current.write() = config;
        Ok(())
    }

    /// Adds a subscriber and applies the current configuration to it at once, so it starts in step.
    ///
    /// Pipeline hook: the dispatcher and inhibitor are built here (and rebuilt on every successful reload, as
    /// upstream tears them down even when nothing changed).
    pub fn on_apply(&self, hook: ApplyHook) -> Result<(), String> {
        let _guard = self.in_progress.lock();
        hook(&self.current())?;
        self.hooks.write().push(hook);
        Ok(())
    }

    /// The configuration in force.
    pub fn current(&self) -> Arc<Config> {
        Arc::clone(&self.current.read())
    }

    /// The handle readers (the API) hold; it always points at the configuration in force.
    pub fn handle(&self) -> ConfigHandle {
        Arc::clone(&self.current)
    }

    pub fn config_file(&self) -> &Path {
        &self.config_file
    }

    fn apply(&self, config: &Arc<Config>) -> Result<(), String> {
        for hook in self.hooks.read().iter() {
            hook(config)?;
        }
        Ok(())
    }
}

/// `POST /-/reload`. The file is small and read once per request, so it is read on the calling task.
impl tocsin_api::Reloader for Reloader {
    fn reload(&self) -> futures::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { Reloader::reload(self).map_err(|e| e.to_string()) })
    }
}

/// `config.LoadFile` wrapped in the coordinator's log lines.
fn load_logged(path: &Path, mode: ParseMode) -> Result<Config, ConfigError> {
    tracing::info!(component = "configuration", file = %path.display(), "Loading configuration file");
    match tocsin_config::load(path, mode) {
        Ok(c) => {
            tracing::info!(component = "configuration", file = %path.display(), "Completed loading of configuration file");
            Ok(c)
        }
        Err(e) => {
            tracing::error!(component = "configuration", file = %path.display(), err = %e, "Loading configuration file failed");
            Err(e)
        }
    }
}

fn unix_seconds(clock: &SharedClock) -> f64 {
    let now = clock.now();
    now.timestamp() as f64 + f64::from(now.timestamp_subsec_millis()) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::registry::Registry;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tocsin_model::clock::ManualClock;

    const GOOD: &str = "route:\n  receiver: a\nreceivers:\n- name: a\n";
    const GOOD2: &str = "route:\n  receiver: b\nreceivers:\n- name: b\n- name: c\n";
    const BAD: &str = "route:\n  receiver: nope\nreceivers:\n- name: a\n";

    fn setup(text: &str) -> (tempfile::TempDir, PathBuf, AppMetrics, SharedClock) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("alertmanager.yml");
        std::fs::write(&path, text).expect("write");
        let metrics = AppMetrics::register(&mut Registry::default(), &crate::version::BUILD);
        let start = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("valid timestamp");
        let clock: SharedClock = Arc::new(ManualClock::new(start));
        (dir, path, metrics, clock)
    }

    #[test]
    fn bad_reload_keeps_old_config_and_good_one_swaps() {
        let (_dir, path, metrics, clock) = setup(GOOD);
        let r = Reloader::load_initial(&path, ParseMode::default(), metrics.clone(), clock).expect("initial");
        let handle = r.handle();
        assert_eq!(metrics.config_last_reload_successful.get(), 1);
        assert_eq!(metrics.config_last_reload_success_timestamp_seconds.get(), 1_700_000_000.0);
        let first_hash = metrics.config_hash.get();

        std::fs::write(&path, BAD).expect("write");
        let err = r.reload().expect_err("bad config");
        assert_eq!(err.to_string(), "undefined receiver \"nope\" used in route");
        assert_eq!(metrics.config_last_reload_successful.get(), 0);
        assert_eq!(r.current().route.receiver, "a");
        assert_eq!(handle.read().route.receiver, "a");

        std::fs::write(&path, GOOD2).expect("write");
        r.reload().expect("good config");
        assert_eq!(metrics.config_last_reload_successful.get(), 1);
        assert_eq!(r.current().route.receiver, "b");
        assert_ne!(metrics.config_hash.get(), first_hash);
        assert_eq!(metrics.receivers.get(), 1);
        assert_eq!(handle.read().route.receiver, "b");
    }

    #[test]
    fn failing_hook_rejects_reload() {
        let (_dir, path, metrics, clock) = setup(GOOD);
        let r = Reloader::load_initial(&path, ParseMode::default(), metrics.clone(), clock).expect("initial");
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        r.on_apply(Box::new(move |cfg| {
            c.fetch_add(1, Ordering::SeqCst);
            if cfg.route.receiver == "b" {
                Err("receiver b cannot be built".to_owned())
            } else {
                Ok(())
            }
        }))
        .expect("applies to the initial config");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        std::fs::write(&path, GOOD2).expect("write");
        let err = r.reload().expect_err("hook rejects");
        assert!(matches!(err, ReloadError::Apply(_)));
        assert_eq!(err.to_string(), "receiver b cannot be built");
        assert_eq!(r.current().route.receiver, "a");
        assert_eq!(metrics.config_last_reload_successful.get(), 0);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn invalid_initial_config_is_an_error() {
        let (_dir, path, metrics, clock) = setup(BAD);
        let err =
            Reloader::load_initial(&path, ParseMode::default(), metrics.clone(), clock).expect_err("bad");
        assert_eq!(err.to_string(), "undefined receiver \"nope\" used in route");
        assert_eq!(metrics.config_last_reload_successful.get(), 0);
    }
}
