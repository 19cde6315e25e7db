//! Proves the harness end to end with tiny numbers (2,000 alerts, 2 starts, 2 GETs) against whichever server is
//! available: Alertmanager 0.25 when installed (the known-good reference), else a built tocsin binary. Skips with a
//! notice when neither exists. Takes a few seconds.

use std::path::PathBuf;
use tocsin_bench::{Options, ServerKind, DEFAULT_ALERTMANAGER};

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
    opts = opts.with_alerts(2_000);
    opts.starts = 2;
    opts.gets = 2;

    let report = tocsin_bench::run(&opts).await;
    let col = report.column(kind).expect("measured column");
    assert!(col.errors.is_empty(), "harness errors: {:?}", col.errors);
    assert!(col.notes.is_empty(), "notes: {:?}", col.notes);
    for key in ["ready", "ingest_rate", "rss_idle", "rss_cp", "rss_n", "rss_after_gets", "get_cp", "get_n"] {
        let v = col.value(key).unwrap_or_else(|| panic!("{key} not measured"));
        assert!(v > 0.0, "{key} = {v}");
    }
    let md = report.to_markdown();
    assert!(md.contains("| Start-up to ready (median of 2) |"), "{md}");
    assert!(md.contains("RSS at 2k alerts"), "{md}");
    println!("{md}");
}
