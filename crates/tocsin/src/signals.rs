//! Unix signals as Alertmanager handles them: SIGHUP reloads the configuration (errors are only logged), SIGTERM
//! and SIGINT stop the process gracefully with exit status 0.
//!
//! Handlers are installed before the listeners are bound: a signal arriving in between would otherwise get the
//! default action (SIGHUP would kill the process).

use crate::reload::Reloader;
use std::future::Future;
use std::sync::Arc;
use tokio::signal::unix::{signal, Signal, SignalKind};

/// Installs SIGTERM and SIGINT handlers now; the returned future completes on the first of them, after logging
/// upstream's "Received SIGTERM, exiting gracefully...". Must be called inside a tokio runtime.
pub fn shutdown() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("Received SIGTERM, exiting gracefully...");
    })
}

/// Installs the SIGHUP handler now.
pub fn hangup() -> std::io::Result<Signal> {
    signal(SignalKind::hangup())
}

/// Reloads the configuration on every SIGHUP until the process ends.
pub fn reload_on_hangup(mut hangup: Signal, reloader: Arc<Reloader>) {
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            let r = reloader.clone();
            // Reading and validating the file is blocking work; keep it off the request-serving threads.
            // Errors were logged by the reloader already.
            let _ = tokio::task::spawn_blocking(move || r.reload()).await;
        }
    });
}
