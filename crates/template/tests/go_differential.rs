//! Differential test: every template in tests/corpus/ is rendered by Go's real text/template (a small program
//! using only the standard library, run once for the whole corpus) and by tocsin, over the same data, and the
//! outputs (or error messages) must be identical. Skipped with a visible notice when `go` is not installed.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use tocsin_template::{Alert, Data, GoTime, Kv, Loc, Template, DEFAULT_TEMPLATES};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kv(v: &serde_json::Value) -> Kv {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
        .unwrap_or_default()
}

/// Go's JSON decoding of time.Time: `Z` is UTC, other offsets a nameless fixed zone (Go runs with TZ=UTC).
fn go_time(s: &str) -> GoTime {
    let t = DateTime::parse_from_rfc3339(s).expect("corpus time");
    let off = t.offset().local_minus_utc();
    GoTime { instant: t.with_timezone(&Utc), loc: if off == 0 { Loc::Utc } else { Loc::Fixed(off) } }
}

fn data_from_json(v: &serde_json::Value) -> Data {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    Data {
        receiver: s("receiver"),
        status: s("status"),
        alerts: v["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| Alert {
                status: a["status"].as_str().unwrap().to_string(),
                labels: kv(&a["labels"]),
                annotations: kv(&a["annotations"]),
                starts_at: go_time(a["startsAt"].as_str().unwrap()),
                ends_at: go_time(a["endsAt"].as_str().unwrap()),
                generator_url: a["generatorURL"].as_str().unwrap().into(),
                fingerprint: a["fingerprint"].as_str().unwrap().to_string(),
            })
            .collect(),
        group_labels: kv(&v["groupLabels"]),
        common_labels: kv(&v["commonLabels"]),
        common_annotations: kv(&v["commonAnnotations"]),
        external_url: s("externalURL"),
    }
}

fn run_go(work: &Path, defaults: &Path, corpus: &Path, data: &Path) -> BTreeMap<String, String> {
    let src = work.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(manifest_dir().join("tests/go/main.go"), src.join("main.go")).unwrap();
    std::fs::write(src.join("go.mod"), "module tocsindiff\n\ngo 1.19\n").unwrap();
    let out = Command::new("go")
        .args(["run", "."])
        .arg(defaults)
        .arg(corpus)
        .arg(data)
        .current_dir(&src)
        .env("GOFLAGS", "-mod=mod")
        .env("GOCACHE", work.join("gocache"))
        .env("GOPATH", work.join("gopath"))
        .env("GOPROXY", "off")
        .env("TZ", "UTC")
        .output()
        .expect("run go");
    assert!(out.status.success(), "go run failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("go output is JSON")
}

fn go_available() -> bool {
    Command::new("go").arg("version").output().map(|o| o.status.success()).unwrap_or(false)
}

#[test]
fn corpus_matches_go() {
    if !go_available() {
        eprintln!("skipped: go not installed (install golang-go to run the differential test)");
        return;
    }
    let dir = manifest_dir();
    let target =
        std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| dir.join("../../target"));
    let work = target.join("tocsin-template-godiff");
    std::fs::create_dir_all(&work).unwrap();
    let defaults = work.join("default.tmpl");
    std::fs::write(&defaults, DEFAULT_TEMPLATES).unwrap();
    let corpus = dir.join("tests/corpus");
    let data_path = dir.join("tests/data.json");
    let go = run_go(&work, &defaults, &corpus, &data_path);

    let datasets: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&data_path).unwrap()).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tmpl"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "corpus has {} templates", files.len());

    let base = Template::with_defaults();
    let mut failures = Vec::new();
    let mut compared = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(f).unwrap();
        for (ds, json) in &datasets {
            let key = format!("{name}/{ds}");
            let want = go.get(&key).unwrap_or_else(|| panic!("go produced no result for {key}"));
            let mut t = base.clone();
            let got = match t.parse_file(&name, &text) {
                Err(e) => format!("ERROR: {e}"),
                Ok(()) => match t.execute_text(&name, &data_from_json(json)) {
                    Ok(s) => s,
                    Err(e) => format!("ERROR: {e}"),
                },
            };
            compared += 1;
            if &got != want {
                failures.push(format!("--- {key}\n go:     {want:?}\n tocsin: {got:?}"));
            }
        }
    }
    eprintln!("compared {compared} renders with Go, {} differ", failures.len());
    assert!(failures.is_empty(), "{} renders differ from Go:\n{}", failures.len(), failures.join("\n"));
}
