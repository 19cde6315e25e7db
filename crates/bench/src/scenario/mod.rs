//! The benchmark scenarios. Each starts the servers it needs (so it can run alone) and returns samples for the
//! table. Adding one (issue 3's notification latency and dispatch load, issue 4's cluster, issue 5's silences):
//! a variant here, its name, its file, one arm in [`Scenario::run`].

mod alerts;
mod cluster;
mod dispatch;
pub mod gossip_sim;
mod notify;
mod ready;
mod silences;
pub mod startup;

use crate::report::Sample;
use crate::server::{ServerKind, ServerSpec};
use crate::Options;
use anyhow::Result;
use std::time::Duration;

/// One part of `make bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Start-up time to ready: spawn → first 200 from `/-/ready`, median of several starts.
    Ready,
    /// Ingest rate (wall and CPU), RSS idle / at checkpoint / at the full count / after GETs, GET latency.
    Alerts,
    /// Issue 3: notification latency beyond group_wait over 100 groups (median, p99).
    NotifyLatency,
    /// Issue 3: 10,000 groups / 100,000 alerts, flush-time drift over three group_intervals, server CPU.
    Dispatch,
    /// Issue 5: silence creations per second with 1 and 16 clients.
    Silences,
    /// Issue 5: start-up with 10,000 silences and 100,000 nflog entries on disk (tocsin only).
    Startup,
    /// Issue 4: silence propagation between two nodes, failover after kill -9.
    Cluster,
    /// Issue 4: 25 nodes in one process over the in-memory network (tocsin only, no binary needed).
    ClusterSim,
}

impl Scenario {
    /// All scenarios, in the order `make bench` runs them.
    pub const ALL: &'static [Scenario] = &[
        Scenario::Ready,
        Scenario::Alerts,
        Scenario::NotifyLatency,
        Scenario::Dispatch,
        Scenario::Silences,
        Scenario::Startup,
        Scenario::Cluster,
        Scenario::ClusterSim,
    ];

    /// The name `--scenario` takes.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Ready => "ready",
            Scenario::Alerts => "alerts",
            Scenario::NotifyLatency => "notify-latency",
            Scenario::Dispatch => "dispatch-load",
            Scenario::Silences => "silences",
            Scenario::Startup => "startup-state",
            Scenario::Cluster => "cluster",
            Scenario::ClusterSim => "cluster-sim",
        }
    }

    /// Whether the scenario runs a server binary; the others run in this process, in the tocsin column only.
    pub fn needs_binary(self) -> bool {
        self != Scenario::ClusterSim
    }

    pub fn from_name(name: &str) -> Option<Scenario> {
        Self::ALL.iter().copied().find(|s| s.name() == name)
    }

    pub async fn run(self, spec: &ServerSpec, opts: &Options) -> Result<Measured> {
        match self {
            Scenario::Ready => ready::run(spec, opts).await,
            Scenario::Alerts => alerts::run(spec, opts).await,
            Scenario::NotifyLatency => notify::run(spec, opts).await,
            Scenario::Dispatch => dispatch::run(spec, opts).await,
            Scenario::Silences => silences::run(spec, opts).await,
            Scenario::Startup => startup::run(spec, opts).await,
            Scenario::Cluster => cluster::run(spec, opts).await,
            Scenario::ClusterSim if spec.kind == ServerKind::Tocsin => gossip_sim::run(opts).await,
            Scenario::ClusterSim => Ok(Measured::default()),
        }
    }
}

/// What a scenario measured on one server.
#[derive(Debug, Default)]
pub struct Measured {
    pub samples: Vec<Sample>,
    pub notes: Vec<String>,
}

/// The median (mean of the middle two for an even count); 0 for no values.
pub fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[mid]
    } else {
        (xs[mid - 1] + xs[mid]) / 2.0
    }
}

/// Nearest-rank percentile (`p` in 0..=100); 0 for no values.
pub fn percentile(mut xs: Vec<f64>, p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * xs.len() as f64).ceil() as usize;
    xs[rank.clamp(1, xs.len()) - 1]
}

pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        struct Case {
            name: &'static str,
            input: Vec<f64>,
            want: f64,
        }
        let cases = [
            Case { name: "empty", input: vec![], want: 0.0 },
            Case { name: "odd", input: vec![5.0, 1.0, 3.0], want: 3.0 },
            Case { name: "even", input: vec![4.0, 1.0, 3.0, 2.0], want: 2.5 },
        ];
        for c in cases {
            assert_eq!(median(c.input), c.want, "{}", c.name);
        }
    }

    #[test]
    fn percentiles() {
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(xs.clone(), 50.0), 50.0);
        assert_eq!(percentile(xs.clone(), 99.0), 99.0);
        assert_eq!(percentile(xs, 100.0), 100.0);
        assert_eq!(percentile(vec![3.0], 99.0), 3.0);
        assert_eq!(percentile(vec![], 99.0), 0.0);
    }

    #[test]
    fn names_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::from_name(s.name()), Some(*s));
        }
        assert_eq!(Scenario::from_name("nope"), None);
    }
}
