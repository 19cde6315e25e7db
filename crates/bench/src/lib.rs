//! `make bench`: runs tocsin and, when installed, Prometheus Alertmanager 0.25 side by side on loopback with the same
//! configuration, measures each with the same client, and prints one Markdown table with both columns, the ratio
//! tocsin ÷ Alertmanager and the targets from the issues (PASS/FAIL).
//!
//! The harness is a set of [`Scenario`]s; each starts its own server processes (killed by PID on drop), so a
//! scenario can be run alone (`--scenario NAME`) and new ones (notification latency, dispatch load, silences,
//! clustering) are one enum variant and one file each. Servers run one after the other so they never share the CPU.

pub mod client;
pub mod payload;
pub mod procfs;
pub mod report;
pub mod scenario;
pub mod server;
pub mod sink;

pub use report::{Column, Metric, Report, Sample, Target, Unit};
pub use scenario::{Measured, Scenario};
pub use server::{Launch, Server, ServerKind, ServerSpec};

use std::path::PathBuf;

/// Where Debian installs Alertmanager 0.25.
pub const DEFAULT_ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// Every knob of a run. [`Options::default`] is the full `make bench` run; [`Options::quick`] a smoke run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The tocsin binary; `None` or a missing file marks its column "pending".
    pub tocsin: Option<PathBuf>,
    /// The Alertmanager binary; `None` or a missing file skips its column with a notice.
    pub alertmanager: Option<PathBuf>,
    /// Active alerts at the end of the ingest scenario (the "100k" of the issue).
    pub alerts: usize,
    /// The intermediate measuring point (the "10k" of the issue).
    pub checkpoint: usize,
    /// Alerts per POST.
    pub batch: usize,
    /// Concurrent client connections while ingesting.
    pub connections: usize,
    /// Starts measured for the start-up time (median).
    pub starts: usize,
    /// GETs of all alerts per measuring point (median; RSS is read after the last one).
    pub gets: usize,
    /// The scenarios to run, in order.
    pub scenarios: Vec<Scenario>,
    /// notify-latency: groups (one alert each).
    pub latency_groups: usize,
    /// dispatch-load: active groups, alerts per group, and group_interval.
    pub dispatch_groups: usize,
    pub alerts_per_group: usize,
    pub dispatch_interval: std::time::Duration,
    /// dispatch-load: the groups are created at a steady pace over this long.
    pub dispatch_spread: std::time::Duration,
    /// silences: wall time per concurrency level.
    pub silence_seconds: std::time::Duration,
    /// startup-state: silences and nflog entries on disk.
    pub startup_silences: usize,
    pub startup_nflog: usize,
    /// cluster and cluster-sim: changes timed (median).
    pub propagation_runs: usize,
    /// cluster-sim: nodes, and the idle and loaded measuring windows.
    pub sim_nodes: usize,
    pub sim_window: std::time::Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            tocsin: None,
            alertmanager: Some(PathBuf::from(DEFAULT_ALERTMANAGER)),
            alerts: 100_000,
            checkpoint: 10_000,
            batch: 1_000,
            connections: 4,
            starts: 5,
            gets: 5,
            scenarios: Scenario::ALL.to_vec(),
            latency_groups: 100,
            dispatch_groups: 10_000,
            alerts_per_group: 10,
            dispatch_interval: std::time::Duration::from_secs(10),
            dispatch_spread: std::time::Duration::from_secs(5),
            silence_seconds: std::time::Duration::from_secs(3),
            startup_silences: 10_000,
            startup_nflog: 100_000,
            propagation_runs: 20,
            sim_nodes: 25,
            sim_window: std::time::Duration::from_secs(10),
        }
    }
}

impl Options {
    /// A tenth of every size (10k alerts, 1,000 dispatch groups with a 2 s interval, 1,000 silences and 10,000
    /// nflog entries at start-up, 10 nodes simulated for 3 s): proves the harness end to end quickly.
    pub fn quick() -> Self {
        Self::default().with_alerts(10_000).shrunk()
    }

    /// The non-ingest sizes of [`Options::quick`].
    pub fn shrunk(mut self) -> Self {
        self.latency_groups = 20;
        self.dispatch_groups = 1_000;
        self.dispatch_interval = std::time::Duration::from_secs(2);
        self.dispatch_spread = std::time::Duration::from_millis(500);
        self.silence_seconds = std::time::Duration::from_secs(1);
        self.startup_silences = 1_000;
        self.startup_nflog = 10_000;
        self.propagation_runs = 5;
        self.sim_nodes = 10;
        self.sim_window = std::time::Duration::from_secs(3);
        self
    }

    /// Sets the final alert count; the checkpoint becomes a tenth of it (10k for 100k).
    pub fn with_alerts(mut self, n: usize) -> Self {
        self.alerts = n.max(1);
        self.checkpoint = (self.alerts / 10).max(1);
        self
    }

    /// The servers to measure, Alertmanager first (the baseline), each with whether its binary exists.
    pub fn servers(&self) -> Vec<(ServerSpec, Availability)> {
        let mut out = Vec::new();
        for (kind, path) in
            [(ServerKind::Alertmanager, &self.alertmanager), (ServerKind::Tocsin, &self.tocsin)]
        {
            let avail = match path {
                Some(p) if p.is_file() => Availability::Present,
                Some(p) => Availability::Missing(format!("{} not found", p.display())),
                None => Availability::Missing("no binary given".into()),
            };
            let bin = path.clone().unwrap_or_default();
            out.push((ServerSpec { kind, bin }, avail));
        }
        out
    }
}

/// Whether a server's binary can be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Present,
    /// Why it is skipped.
    Missing(String),
}

/// Runs every selected scenario on every available server, one server at a time, and collects the table.
/// A scenario failing on one server is recorded in that column and does not stop the run.
pub async fn run(opts: &Options) -> Report {
    let mut report = Report::new(opts.alerts, opts.checkpoint);
    for (spec, avail) in opts.servers() {
        let mut column = Column::new(spec.kind);
        match avail {
            Availability::Missing(why) => {
                eprintln!("bench: skipping {}: {why}", spec.kind.name());
                column.missing = Some(why);
                if spec.kind == ServerKind::Tocsin {
                    // In-process scenarios measure tocsin's crates, not its binary.
                    for scenario in opts.scenarios.iter().filter(|s| !s.needs_binary()) {
                        run_one(*scenario, &spec, opts, &mut column).await;
                    }
                }
            }
            Availability::Present => {
                for scenario in &opts.scenarios {
                    run_one(*scenario, &spec, opts, &mut column).await;
                }
            }
        }
        report.columns.push(column);
    }
    report
}

/// Runs one scenario on one server and records its samples, notes or error in `column`.
async fn run_one(scenario: Scenario, spec: &ServerSpec, opts: &Options, column: &mut Column) {
    eprintln!("bench: {} / {} ...", spec.kind.name(), scenario.name());
    match scenario.run(spec, opts).await {
        Ok(m) => {
            column.samples.extend(m.samples);
            column.notes.extend(m.notes);
        }
        Err(e) => {
            eprintln!("bench: {} / {} failed: {e:#}", spec.kind.name(), scenario.name());
            column.errors.push(format!("{}: {e:#}", scenario.name()));
        }
    }
}

/// Installs the rustls crypto provider reqwest needs (the workspace builds it without one); idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
