//! One server process (tocsin or Alertmanager) on 127.0.0.1, started with the shared benchmark configuration and
//! killed by PID when dropped, also when a scenario fails half-way or the harness is interrupted.

use crate::client;
use crate::procfs;
use anyhow::{bail, Context, Result};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::time::Instant;

/// How long a server may take to answer 200 on `/-/ready` before the start counts as failed.
const READY_DEADLINE: Duration = Duration::from_secs(30);
/// The readiness poll period the issue asks for.
const READY_POLL: Duration = Duration::from_millis(1);

/// Which implementation a column measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Alertmanager,
    Tocsin,
}

impl ServerKind {
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Alertmanager => "Alertmanager 0.25",
            ServerKind::Tocsin => "tocsin",
        }
    }
}

/// A binary to benchmark.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    pub kind: ServerKind,
    pub bin: PathBuf,
}

/// The configuration both servers get: one webhook receiver pointing at a closed local port, alerts grouped by
/// alertname, and waits long enough that nothing is ever sent during a run (we measure the API and the store).
pub fn bench_config(closed_port: u16) -> String {
    format!(
        "global:\n  resolve_timeout: 1h\n\
         route:\n  receiver: sink\n  group_by: [alertname]\n  group_wait: 1h\n  group_interval: 1h\n  repeat_interval: 4h\n\
         receivers:\n  - name: sink\n    webhook_configs:\n      - url: http://127.0.0.1:{closed_port}/\n        send_resolved: false\n"
    )
}

/// A free port on 127.0.0.1 (bound then released). Needed because the start-up clock runs from spawn, before the
/// server could tell us a port-0 address, and for the webhook target that must stay closed.
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1:0")?;
    Ok(l.local_addr().context("local_addr")?.port())
}

/// A running server; SIGKILLed by PID and reaped on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    kind: ServerKind,
    addr: SocketAddr,
    stderr_path: PathBuf,
    /// Holds the config, the storage directory and the log; removed after the process is gone.
    dir: tempfile::TempDir,
}

/// How to start a server beyond the shared defaults.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// `alertmanager.yml`; `None` is [`bench_config`] (nothing is ever sent).
    pub config: Option<String>,
    /// `--storage.path`; `None` is a fresh directory inside the server's temporary directory.
    pub storage: Option<PathBuf>,
    /// `--cluster.listen-address`; `None` disables clustering (`--cluster.listen-address=`).
    pub cluster_listen: Option<SocketAddr>,
    /// Further flags, e.g. `--cluster.peer=...`.
    pub args: Vec<String>,
}

impl Server {
    /// Spawns the server with the benchmark configuration and clustering off, and waits until `/-/ready` answers
    /// 200 (polled every millisecond). Returns the server and the time from spawn to that first 200.
    pub async fn start(spec: &ServerSpec) -> Result<(Server, Duration)> {
        Self::launch(spec, &Launch::default()).await
    }

    /// [`Server::start`] with a configuration, storage directory, cluster address or flags of the caller's.
    pub async fn launch(spec: &ServerSpec, launch: &Launch) -> Result<(Server, Duration)> {
        let dir = tempfile::Builder::new().prefix("tocsin-bench-").tempdir().context("tempdir")?;
        let config = dir.path().join("alertmanager.yml");
        let yaml = match &launch.config {
            Some(y) => y.clone(),
            None => bench_config(free_port()?),
        };
        std::fs::write(&config, yaml).context("write config")?;
        let storage = launch.storage.clone().unwrap_or_else(|| dir.path().join("data"));
        std::fs::create_dir_all(&storage).context("create storage dir")?;
        let stderr_path = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).context("create log file")?;
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let cluster = launch.cluster_listen.map_or_else(String::new, |a| a.to_string());

        let started = Instant::now();
        let child = Command::new(&spec.bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", storage.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!("--cluster.listen-address={cluster}"))
            .args(&launch.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("spawn {}", spec.bin.display()))?;
        let mut server = Server { child, kind: spec.kind, addr, stderr_path, dir };
        let ready = server.wait_ready(started).await?;
        Ok((server, ready))
    }

    async fn wait_ready(&mut self, started: Instant) -> Result<Duration> {
        let deadline = started + READY_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().context("try_wait")? {
                bail!("{} exited before ready ({status}); log tail:\n{}", self.kind.name(), self.log_tail());
            }
            if client::probe_ready(self.addr).await == Some(200) {
                return Ok(started.elapsed());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} not ready within {READY_DEADLINE:?}; log tail:\n{}",
                    self.kind.name(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }

    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size in bytes (VmRSS).
    pub fn rss_bytes(&self) -> Result<u64> {
        procfs::rss_bytes(self.pid())
    }

    /// CPU time used so far (user + system, all threads), in seconds.
    pub fn cpu_seconds(&self) -> Result<f64> {
        procfs::cpu_seconds(self.pid())
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last lines the server wrote to stderr, for error messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        if lines.is_empty() {
            return "(nothing on stderr)".into();
        }
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

impl Server {
    /// SIGKILLs the process now (the failover scenario's `kill -9`) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Child::kill is SIGKILL to this PID only; wait reaps it so no zombie outlives the run.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
