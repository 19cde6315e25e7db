//! The live web config: upstream reads `--web.config.file` on every request and TLS handshake, so a rotated
//! certificate or a changed user list applies without a restart. Here the file and the certificate, key and CA
//! files it names are `stat`ed at most once per second and re-read only when one of them changed (size, mtime or
//! inode), so the per-request cost is a mutex and a clock read.
//!
//! A file that breaks while running is not fatal, as upstream: requests get 500 and TLS handshakes fail until it
//! is fixed (the error is logged once per change).

use super::WebConfig;
use parking_lot::Mutex;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// How often the files are checked for changes at most.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// One successfully loaded web config.
#[derive(Debug)]
pub struct Loaded {
    pub config: WebConfig,
    /// `None`: plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// What a request sees: the config, or why the file is unusable now.
pub type Current = Result<Arc<Loaded>, Arc<str>>;

/// The `--web.config.file` and its last reading.
#[derive(Debug)]
pub struct WebConfigWatch {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    checked: Instant,
    files: Vec<PathBuf>,
    stamp: Vec<Option<Stamp>>,
    current: Current,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    ino: u64,
}

impl WebConfigWatch {
    /// Loads the file; at start-up any problem is fatal (the caller exits 1).
    pub fn load(path: &Path) -> Result<Self, super::WebConfigError> {
        let (config, tls) = super::load(path)?;
        let files = files(path, &config);
        let stamp = stamps(&files);
        Ok(Self {
            path: path.to_path_buf(),
            state: Mutex::new(State {
                checked: Instant::now(),
                files,
                stamp,
                current: Ok(Arc::new(Loaded { config, tls })),
            }),
        })
    }

    /// The web config file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The config in force, re-read first if a file changed and the last check is over a second old.
    pub fn current(&self) -> Current {
        let mut state = self.state.lock();
        let now = Instant::now();
        if now.duration_since(state.checked) < CHECK_EVERY {
            return state.current.clone();
        }
        state.checked = now;
        let stamp = stamps(&state.files);
        if stamp == state.stamp {
            return state.current.clone();
        }
        state.current = match super::load(&self.path) {
            Ok((config, tls)) => {
                tracing::info!(file = %self.path.display(), "Web config file reloaded");
                state.files = files(&self.path, &config);
                Ok(Arc::new(Loaded { config, tls }))
            }
            Err(err) => {
                tracing::error!(err = %err, "Unable to parse configuration");
                Err(Arc::from(err.to_string()))
            }
        };
        // Stamped after the read: a change during the read is seen on the next check.
        state.stamp = stamps(&state.files);
        state.current.clone()
    }
}

fn files(path: &Path, config: &WebConfig) -> Vec<PathBuf> {
    let mut files = vec![path.to_path_buf()];
    files.extend(config.tls_server_config.files());
    files
}

fn stamps(files: &[PathBuf]) -> Vec<Option<Stamp>> {
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f).ok().map(|m| Stamp {
                len: m.len(),
                modified: m.modified().ok(),
                ino: m.ino(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rereads_changed_file_at_most_once_per_second() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("web.yml");
        std::fs::write(&path, "").expect("write");
        let watch = WebConfigWatch::load(&path).expect("load");
        assert!(watch.current().expect("ok").config.basic_auth_users.is_empty());

        let hash = bcrypt::hash("pw", 4).expect("hash");
        std::fs::write(&path, format!("basic_auth_users:\n  alice: '{hash}'\n")).expect("write");
        // Within the second: still the old config.
        assert!(watch.current().expect("ok").config.basic_auth_users.is_empty());
        tokio::time::advance(CHECK_EVERY).await;
        assert_eq!(watch.current().expect("ok").config.basic_auth_users.len(), 1);

        std::fs::write(&path, "nope: 1\n").expect("write");
        tokio::time::advance(CHECK_EVERY).await;
        let err = watch.current().expect_err("broken file");
        assert!(err.contains("unknown field `nope`"), "{err}");
    }
}
