//! Proves the harness end to end with tiny numbers (2,000 alerts, 2 starts, 2 GETs, 10 latency groups, 0.3 s of
//! silence creations, a 5-node simulated cluster) against whichever server is available: Alertmanager 0.25 when
//! installed (the known-good reference), else a built tocsin binary. Skips with a notice when neither exists.
//! Takes a few seconds; the dispatch-load and two-node cluster scenarios take tens of seconds by nature and are
//! left to `make bench`.

use std::path::PathBuf;
use std::time::Duration;
use tocsin_bench::{Options, Scenario, ServerKind, DEFAULT_ALERTMANAGER};

fn built_tocsin() -> Option<PathBuf> {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target");
    ["debug", "release"].iter().map(|p| target.join(p).join("tocsin")).find(|p| p.is_file())
}

#[tokio::test(flavor = "current_thread")]
async fn harness_measures_a_real_server() {
    let am = PathBuf::from(DEFAULT_ALERTMANAGER);
    let (kind, mut opts) = if am.is_file() {
        (ServerKind::Alertmanager, Options { alertmanager: Some(am), tocsin: None, ..Options::default() })
    } else if let Some(t) = built_tocsin() {
        (ServerKind::Tocsin, Options { alertmanager: None, tocsin: Some(t), ..Options::default() })
    } else {
        eprintln!("skipped: neither {DEFAULT_ALERTMANAGER} nor a built tocsin binary exists");
        return;
    };
    opts = opts.with_alerts(2_000).shrunk();
    opts.starts = 2;
    opts.gets = 2;
    opts.latency_groups = 10;
    opts.silence_seconds = Duration::from_millis(300);
    opts.startup_silences = 100;
    opts.startup_nflog = 1_000;
    opts.propagation_runs = 3;
    opts.sim_nodes = 5;
    opts.sim_window = Duration::from_millis(500);
    opts.scenarios = vec![
        Scenario::Ready,
        Scenario::Alerts,
        Scenario::NotifyLatency,
        Scenario::Silences,
        Scenario::Startup,
        Scenario::ClusterSim,
    ];

    let report = tocsin_bench::run(&opts).await;
    let col = report.column(kind).expect("measured column");
    assert!(col.errors.is_empty(), "harness errors: {:?}", col.errors);
    assert!(col.notes.is_empty(), "notes: {:?}", col.notes);
    for key in [
        "ready",
        "ingest_rate",
        "rss_idle",
        "rss_cp",
        "rss_n",
        "rss_after_gets",
        "get_cp",
        "get_n",
        "notify_latency_p50",
        "silences_1",
        "silences_16",
    ] {
        let v = col.value(key).unwrap_or_else(|| panic!("{key} not measured"));
        assert!(v > 0.0, "{key} = {v}");
    }
    // The simulated cluster runs in this process and lands in the tocsin column whichever server was measured.
    let sim = report.column(ServerKind::Tocsin).expect("tocsin column");
    assert!(sim.errors.is_empty(), "simulation errors: {:?}", sim.errors);
    assert!(sim.value("sim_spread_p50").is_some_and(|v| v > 0.0), "{:?}", sim.samples);
    assert!(sim.value("sim_load_bytes").is_some_and(|v| v > 0.0), "{:?}", sim.samples);
    let md = report.to_markdown();
    assert!(md.contains("| Start-up to ready (median of 2) |"), "{md}");
    assert!(md.contains("RSS at 2k alerts"), "{md}");
    println!("{md}");
}
