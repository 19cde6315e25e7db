//! Runs `smtpd.py` (Python's aiosmtpd) as a child process on 127.0.0.1 and reads what it received.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// Whether aiosmtpd can be imported; tests print `skipped: aiosmtpd not installed` and pass when it cannot.
pub fn available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: aiosmtpd not installed");
    }
    ok
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plain,
    /// STARTTLS offered and required by the server.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Implicit,
}

#[derive(Debug, Clone)]
pub struct Opts {
    pub mode: Mode,
    /// Certificate and key PEM files (TLS modes).
    pub cert: Option<(PathBuf, PathBuf)>,
    /// Required user and password.
    pub auth: Option<(String, String)>,
    /// Offer only these mechanisms (empty: LOGIN and PLAIN).
    pub mechanisms: Vec<&'static str>,
    /// 0 = any free port.
    pub port: u16,
}

impl Default for Opts {
    fn default() -> Self {
        Opts { mode: Mode::Plain, cert: None, auth: None, mechanisms: Vec::new(), port: 0 }
    }
}

pub struct Smtpd {
    pub port: u16,
    maildir: tempfile::TempDir,
    child: Child,
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received message: the raw bytes and what Python's `email` package made of them.
#[derive(Debug, Clone)]
pub struct Received {
    pub raw: String,
    pub meta: Value,
}

impl Received {
    /// The first header `name` (case-insensitive), decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.meta["headers"].as_array()?.iter().find_map(|h| {
            let k = h[0].as_str()?;
            k.eq_ignore_ascii_case(name).then(|| h[1].as_str().unwrap_or_default().to_owned())
        })
    }

    pub fn parts(&self) -> Vec<(String, String)> {
        self.meta["parts"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        (
                            p["content_type"].as_str().unwrap_or_default().to_owned(),
                            p["body"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Smtpd {
    /// Starts the server; `None` when the port cannot be bound (e.g. 465 without privileges).
    pub fn start(opts: Opts) -> Option<Smtpd> {
        let maildir = tempfile::tempdir().expect("temp dir");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/email/smtpd.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script).arg("--maildir").arg(maildir.path()).arg("--port").arg(opts.port.to_string());
        cmd.arg("--mode").arg(match opts.mode {
            Mode::Plain => "plain",
            Mode::StartTls => "starttls",
            Mode::Implicit => "implicit",
        });
        if let Some((cert, key)) = &opts.cert {
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        if let Some((user, password)) = &opts.auth {
            cmd.args(["--user", user, "--password", password]);
        }
        for m in &opts.mechanisms {
            cmd.args(["--mechanism", m]);
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn python3");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        let _ = BufReader::new(stdout).read_line(&mut line);
        let Some(port) = line.strip_prefix("READY ").and_then(|p| p.trim().parse().ok()) else {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        };
        Some(Smtpd { port, maildir, child })
    }

    /// Every message received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.maildir.path())
            .expect("read maildir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|json| {
                let meta: Value =
                    serde_json::from_slice(&std::fs::read(&json).expect("read json")).expect("json");
                let raw = std::fs::read_to_string(json.with_extension("eml")).expect("read eml");
                Received { raw, meta }
            })
            .collect()
    }
}
