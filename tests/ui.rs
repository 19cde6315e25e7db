//! Browser tests of the web UI: the real `tocsin` binary, headless Debian Chromium driven by playwright-core from
//! `tests/ui/run.mjs`. Checks: alerts posted through the API show; the filter narrows them; a silence created
//! through the form appears in `GET /api/v2/silences` and the alert shows as silenced; expire works; the status page
//! lists the cluster peers; a silence created in node A's UI shows in node B's UI; and the time to render 10,000
//! alerts is printed. Screenshots land in `target/ui-screenshots/`.
//!
//! Skipped, with a visible notice, when Chromium, node or playwright-core (`npm ci`) is missing.
//! `TOCSIN_UPDATE_SCREENSHOT=1` also refreshes `docs/screenshot-alerts.png` for the README.

use std::path::{Path, PathBuf};
use std::process::Command;
use tocsin_testkit::{free_port, tool, Node, NodeBuilder};

const CONFIG: &str = r#"
route:
  receiver: team-db
  group_by: [alertname]
  group_wait: 1h
  routes:
  - matchers: [team="web"]
    receiver: web-pager
receivers:
- name: team-db
  webhook_configs:
  - url: http://127.0.0.1:9/
- name: web-pager
  webhook_configs:
  - url: http://127.0.0.1:9/
    http_config:
      basic_auth: {username: pager, password: do-not-show-me}
"#;

/// One browser at a time: the machine is small and the 10,000-alert timing must not compete with another test.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Tools {
    chromium: PathBuf,
    node: PathBuf,
}

/// The browser stack, or `None` after printing why the test is skipped.
fn tools() -> Option<Tools> {
    let Some(chromium) = tool("/usr/bin/chromium").or_else(|| tool("chromium")) else {
        println!("skipped: chromium not installed");
        return None;
    };
    let Some(node) = tool("node") else {
        println!("skipped: node not installed");
        return None;
    };
    if !repo_root().join("node_modules/playwright-core/package.json").is_file() {
        println!("skipped: playwright-core not installed (run npm ci)");
        return None;
    }
    Some(Tools { chromium, node })
}

/// Runs the browser script (bounded by `timeout`), echoes its report and fails the test on any failed check.
fn run_script(tools: &Tools, scenario: &str, ui: &Node, extra: &[(&str, String)]) {
    let root = repo_root();
    let shots = root.join("target/ui-screenshots");
    let mut cmd = Command::new("timeout");
    cmd.arg("300")
        .arg(&tools.node)
        .arg("tests/ui/run.mjs")
        .current_dir(&root)
        .env("UI_URL", ui.url("/"))
        .env("SCREENSHOTS", &shots)
        .env("CHROMIUM", &tools.chromium)
        .env("SCENARIO", scenario)
        .env("ASSETS_DIR", root.join("crates/ui/assets"));
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run node tests/ui/run.mjs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser checks failed ({scenario}); node log:\n{}", ui.log());
    println!("screenshots: {}", shots.display());
}

fn node_with(args: &[String]) -> Node {
    let mut b = NodeBuilder::new(env!("CARGO_BIN_EXE_tocsin")).config(CONFIG);
    for a in args {
        b = b.arg(a.clone());
    }
    b.start().expect("start tocsin")
}

#[test]
fn ui_alerts_filter_silence_expire_status() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(tools) = tools() else { return };
    let node = node_with(&[]);
    let mut extra = Vec::new();
    if std::env::var_os("TOCSIN_UPDATE_SCREENSHOT").is_some() {
        extra.push(("README_SHOT", repo_root().join("docs/screenshot-alerts.png").display().to_string()));
    }
    run_script(&tools, "main", &node, &extra);
}

/// Two clustered nodes: the status page lists both peers, and a silence created in A's UI shows in B's UI.
#[test]
fn ui_cluster_silence_created_on_a_shows_on_b() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(tools) = tools() else { return };
    let (pa, pb) = (free_port(), free_port());
    let a =
        node_with(&[format!("--cluster.listen-address=127.0.0.1:{pa}"), "--cluster.peer-timeout=1s".into()]);
    let b = node_with(&[
        format!("--cluster.listen-address=127.0.0.1:{pb}"),
        format!("--cluster.peer=127.0.0.1:{pa}"),
        "--cluster.peer-timeout=1s".into(),
    ]);
    run_script(&tools, "main", &a, &[("PEER_UI_URL", b.url("/")), ("EXPECT_PEERS", "2".into())]);
}

/// Prints how long the alerts page takes to render 10,000 alerts in headless Chromium.
#[test]
fn ui_renders_10000_alerts() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(tools) = tools() else { return };
    let node = node_with(&[]);
    run_script(&tools, "scale", &node, &[("SCALE_ALERTS", "10000".into())]);
}
