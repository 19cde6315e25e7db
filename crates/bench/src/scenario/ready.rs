//! Start-up time to ready, median of `opts.starts` fresh starts (each with an empty storage directory).

use super::{median, millis, Measured};
use crate::report::{Metric, Sample, Target, Unit};
use crate::server::{Server, ServerSpec};
use crate::Options;
use anyhow::Result;

/// Issue 2: ready in ≤ 20 ms.
const READY_TARGET_MS: f64 = 20.0;

pub async fn run(spec: &ServerSpec, opts: &Options) -> Result<Measured> {
    let mut times = Vec::with_capacity(opts.starts);
    for _ in 0..opts.starts.max(1) {
        let (server, ready) = Server::start(spec).await?;
        times.push(millis(ready));
        drop(server);
    }
    let metric = Metric {
        key: "ready".into(),
        label: format!("Start-up to ready (median of {})", times.len()),
        unit: Unit::Millis,
        target: Some(Target::AtMost(READY_TARGET_MS)),
    };
    Ok(Measured { samples: vec![Sample { metric, value: median(times) }], notes: Vec::new() })
}
