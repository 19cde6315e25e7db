//! The benchmark scenarios. Each starts the servers it needs (so it can run alone) and returns samples for the
//! table. Adding one (issue 3's notification latency and dispatch load, issue 4's cluster, issue 5's silences):
//! a variant here, its name, its file, one arm in [`Scenario::run`].

mod alerts;
mod ready;

use crate::report::Sample;
use crate::server::ServerSpec;
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
}

impl Scenario {
    /// All scenarios, in the order `make bench` runs them.
    pub const ALL: &'static [Scenario] = &[Scenario::Ready, Scenario::Alerts];

    /// The name `--scenario` takes.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Ready => "ready",
            Scenario::Alerts => "alerts",
        }
    }

    pub fn from_name(name: &str) -> Option<Scenario> {
        Self::ALL.iter().copied().find(|s| s.name() == name)
    }

    pub async fn run(self, spec: &ServerSpec, opts: &Options) -> Result<Measured> {
        match self {
            Scenario::Ready => ready::run(spec, opts).await,
            Scenario::Alerts => alerts::run(spec, opts).await,
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
    fn names_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::from_name(s.name()), Some(*s));
        }
        assert_eq!(Scenario::from_name("nope"), None);
    }
}
