//! The real `tocsin` (or `prometheus-alertmanager`) binary as a child process on loopback.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// A free TCP port on 127.0.0.1. Only for programs that cannot take port 0 (Alertmanager's cluster port).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("bind 127.0.0.1:0")
}

/// Builds a node invocation.
#[derive(Debug)]
pub struct NodeBuilder {
    bin: PathBuf,
    args: Vec<String>,
    dir: tempfile::TempDir,
    config: Option<String>,
}

impl NodeBuilder {
    /// `bin` is usually `env!("CARGO_BIN_EXE_tocsin")`.
    pub fn new(bin: impl AsRef<Path>) -> Self {
        Self {
            bin: bin.as_ref().to_path_buf(),
            args: Vec::new(),
            dir: tempfile::tempdir().expect("tempdir"),
            config: None,
        }
    }

    /// The YAML written to `<tmp>/alertmanager.yml` and passed as `--config.file`.
    pub fn config(mut self, yaml: &str) -> Self {
        self.config = Some(yaml.to_owned());
        self
    }

    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts the process with `--web.listen-address=127.0.0.1:0`, clustering off unless the caller passed
    /// `--cluster.listen-address`, and waits (bounded) until it logs the address it listens on.
    pub fn start(self) -> Result<Node> {
        let cfg = self.dir.path().join("alertmanager.yml");
        if let Some(c) = &self.config {
            std::fs::write(&cfg, c)?;
        }
        let mut args = self.args.clone();
        if !args.iter().any(|a| a.starts_with("--config.file")) {
            args.push(format!("--config.file={}", cfg.display()));
        }
        if !args.iter().any(|a| a.starts_with("--web.listen-address")) {
            args.push("--web.listen-address=127.0.0.1:0".into());
        }
        if !args.iter().any(|a| a.starts_with("--cluster.listen-address")) {
            args.push("--cluster.listen-address=".into());
        }
        if !args.iter().any(|a| a.starts_with("--storage.path")) {
            args.push(format!("--storage.path={}", self.dir.path().join("data").display()));
        }
        let mut child = Command::new(&self.bin)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("spawn {}", self.bin.display()))?;
        let stderr = child.stderr.take().context("stderr")?;
        let log = Arc::new(parking_lot::Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                if let Some(addr) = listen_address(&line) {
                    let _ = tx.send(addr);
                }
                let mut l = log2.lock();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("node did not report a listen address within 20s; log:\n{}", log.lock());
            }
        };
        Ok(Node { child, addr, log, _dir: self.dir })
    }
}

/// Extracts the address from tocsin's `msg="Listening on" address=127.0.0.1:1234` log line.
fn listen_address(line: &str) -> Option<String> {
    if !line.contains("Listening on") {
        return None;
    }
    let rest = &line[line.find("address=")? + "address=".len()..];
    let addr: String =
        rest.trim_start_matches('"').chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
    (!addr.is_empty()).then_some(addr)
}

/// A running node; killed (SIGKILL, by PID) when dropped unless stopped before.
#[derive(Debug)]
pub struct Node {
    child: Child,
    /// `host:port` the HTTP API listens on.
    pub addr: String,
    log: Arc<parking_lot::Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Node {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().clone()
    }

    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// Sends a signal by PID (`kill -<sig> <pid>`).
    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill").arg(format!("-{sig}")).arg(self.child.id().to_string()).status();
    }

    /// SIGTERM, then waits up to `timeout` for exit; returns the exit code.
    #[allow(clippy::disallowed_methods)] // a real child process on real time; polling its exit is the point
    pub fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        self.signal("TERM");
        let step = Duration::from_millis(20);
        let mut waited = Duration::ZERO;
        while waited < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(step);
            waited += step;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command (the binary, expected to exit on its own) to completion within 15 s and returns its exit code
/// and stderr; past the deadline it is killed by PID and the test fails.
pub fn run_to_exit(mut cmd: Command) -> (Option<i32>, String) {
    let what = format!("{:?}", cmd.get_args().collect::<Vec<_>>());
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(15)) {
        Ok(Ok(out)) => (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned()),
        _ => {
            let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
            panic!("{what} did not exit within 15s");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_listen_line() {
        let l = r#"ts=2026-11-26T20:43:24.682Z level=info msg="Listening on" address=127.0.0.1:4567"#;
        assert_eq!(super::listen_address(l).as_deref(), Some("127.0.0.1:4567"));
        let l = r#"{"level":"info","msg":"Listening on","address":"127.0.0.1:4567"}"#;
        assert_eq!(super::listen_address(l), None);
    }
}
