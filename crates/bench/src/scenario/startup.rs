//! Issue 5: start-up time to ready with 10,000 silences and 100,000 notification-log entries on disk. The storage
//! directory is written in this process through `tocsin_state::storage` (the same code the server runs), once as
//! after a clean shutdown (everything in the snapshots) and once as after `kill -9` (everything still in the
//! append-only logs); each start gets a fresh copy. tocsin only: Alertmanager's own files are a different format.

use super::{median, millis, Measured};
use crate::report::{count, Metric, Sample, Target, Unit};
use crate::server::{Launch, Server, ServerKind, ServerSpec};
use crate::Options;
use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tocsin_model::clock::{SharedClock, SystemClock};
use tocsin_model::MatchType;
use tocsin_state::nflog::{NotificationLog, Receiver};
use tocsin_state::silences::{MatcherSpec, PostableSilence};
use tocsin_state::storage::{Storage, StorageOptions};
use tocsin_state::{Silences, SilencesOptions};

/// Issue 5: ready in ≤ 200 ms with that state on disk.
const STARTUP_TARGET_MS: f64 = 200.0;
const RETENTION: Duration = Duration::from_secs(120 * 3600);

/// How the prepared state sits on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Compacted snapshots, empty logs (after SIGTERM).
    Snapshot,
    /// Everything in the logs (after `kill -9` before any compaction).
    Log,
}

/// Writes `silences` silences and `entries` nflog entries into `dir` with tocsin's storage code.
pub async fn prepare(dir: &Path, silences: usize, entries: usize, layout: Layout) -> Result<()> {
    let clock: SharedClock = Arc::new(SystemClock);
    let sil = Arc::new(Silences::new(SilencesOptions::default(), clock.clone()));
    let nflog = Arc::new(NotificationLog::new(RETENTION));
    let mut opts = StorageOptions::new(dir);
    // Keep everything in the log for the crash layout, however big it grows.
    opts.max_log_bytes = 0;
    let storage =
        Storage::open(&opts, sil.clone(), nflog.clone(), clock.clone()).map_err(|e| anyhow!("{e}"))?;
    let now = clock.now();
    for i in 0..silences {
        let post = PostableSilence {
            id: None,
            matchers: vec![
                MatcherSpec {
                    ty: MatchType::Equal,
                    name: "alertname".into(),
                    value: format!("BenchAlert{i}"),
                },
                MatcherSpec {
                    ty: MatchType::Regexp,
                    name: "instance".into(),
                    value: format!("node-{}.*", i % 1000),
                },
            ],
            starts_at: Some(now),
            ends_at: now + chrono::Duration::hours(24),
            created_by: "tocsin-bench".into(),
            comment: format!("bench silence {i}"),
        };
        sil.set(post).map_err(|e| anyhow!("silence {i}: {e}"))?;
    }
    for i in 0..entries {
        let receiver =
            Receiver { group_name: format!("team-{}", i % 20), integration: "webhook".into(), idx: 0 };
        let firing: HashSet<u64> = (0..5u64).map(|k| (i as u64) << 8 | k).collect();
        let key =
            format!("{{}}/{{severity=\"critical\"}}:{{alertname=\"A{}\", instance=\"node-{i}\"}}", i % 50);
        nflog.log(&receiver, &key, firing, HashSet::new(), RETENTION, now);
    }
    storage.silences().sync().await.map_err(|e| anyhow!("{e}"))?;
    storage.nflog().sync().await.map_err(|e| anyhow!("{e}"))?;
    if layout == Layout::Snapshot {
        storage.flush_and_snapshot().await.map_err(|e| anyhow!("{e}"))?;
    }
    storage.close().await.map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).context("create storage copy")?;
    for entry in std::fs::read_dir(from).context("read prepared storage")? {
        let entry = entry.context("read prepared storage")?;
        if entry.file_type().context("file type")?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).context("copy storage file")?;
        }
    }
    Ok(())
}

pub async fn run(spec: &ServerSpec, opts: &Options) -> Result<Measured> {
    let mut m = Measured::default();
    if spec.kind != ServerKind::Tocsin {
        return Ok(m);
    }
    let (ns, ne) = (opts.startup_silences, opts.startup_nflog);
    let work = tempfile::Builder::new().prefix("tocsin-bench-state-").tempdir().context("tempdir")?;
    for (layout, key, what) in [
        (Layout::Snapshot, "startup_state", "in snapshots"),
        (Layout::Log, "startup_state_log", "in logs (after kill -9)"),
    ] {
        let prepared = work.path().join(format!("{layout:?}"));
        prepare(&prepared, ns, ne, layout).await?;
        let mut times = Vec::new();
        for run in 0..opts.starts.max(1) {
            let copy = work.path().join(format!("{layout:?}-{run}"));
            copy_dir(&prepared, &copy)?;
            let launch = Launch { storage: Some(copy.clone()), ..Launch::default() };
            let (server, ready) = Server::launch(spec, &launch).await?;
            times.push(millis(ready));
            if run == 0 {
                check_loaded(&server, ns, &mut m).await?;
            }
            drop(server);
            let _ = std::fs::remove_dir_all(&copy);
        }
        m.samples.push(Sample {
            metric: Metric {
                key: key.into(),
                label: format!(
                    "Start-up to ready, {} silences + {} nflog entries {what} (median of {})",
                    count(ns),
                    count(ne),
                    times.len()
                ),
                unit: Unit::Millis,
                target: (layout == Layout::Snapshot).then_some(Target::AtMost(STARTUP_TARGET_MS)),
            },
            value: median(times),
        });
    }
    Ok(m)
}

/// The server really loaded the prepared state: every silence is served.
async fn check_loaded(server: &Server, silences: usize, m: &mut Measured) -> Result<()> {
    let http = crate::client::http_client(1)?;
    let body = http
        .get(server.url("/api/v2/silences"))
        .send()
        .await
        .context("GET silences")?
        .bytes()
        .await
        .context("read silences")?;
    let v: serde_json::Value = serde_json::from_slice(&body).context("silences JSON")?;
    let got = v.as_array().map_or(0, Vec::len);
    if got != silences {
        bail!("start-up: server shows {got} silences, {silences} were stored");
    }
    let log = server.log_tail();
    if !log.contains("storage loaded") {
        m.notes.push("start-up: no \"storage loaded\" line in the log tail".into());
    }
    Ok(())
}
