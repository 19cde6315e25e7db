//! Captures the build context Alertmanager prints in `--version`, `alertmanager_build_info` and
//! `/api/v2/status` (`versionInfo`): git revision and branch, build user and date, and the compiler version.
//! Every value falls back to `unknown` so a build from a source tarball without git still works.

use std::path::Path;
use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let git_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.git");
    // Re-run when HEAD moves (checkout, commit); only existing paths, or cargo would re-run every build.
    for p in ["HEAD", "logs/HEAD"] {
        let path = git_dir.join(p);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TOCSIN_REVISION");
    println!("cargo:rerun-if-env-changed=TOCSIN_BRANCH");

    let unknown = || "unknown".to_owned();
    let revision = std::env::var("TOCSIN_REVISION")
        .ok()
        .or_else(|| run("git", &["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(unknown);
    let branch = std::env::var("TOCSIN_BRANCH")
        .ok()
        .or_else(|| run("git", &["rev-parse", "--abbrev-ref", "HEAD"]))
        .unwrap_or_else(unknown);
    let user = std::env::var("USER").unwrap_or_else(|_| "root".to_owned());
    let host = run("hostname", &[]).unwrap_or_else(|| "localhost".to_owned());
    let date = run("date", &["-u", "+%Y%m%d-%H:%M:%S"]).unwrap_or_else(unknown);
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    // "rustc 1.95.0 (59807616e 2026-04-14)" → "rustc1.95.0", shaped like Go's "go1.19.8".
    let compiler = run(&rustc, &["--version"])
        .and_then(|v| v.split_whitespace().nth(1).map(|n| format!("rustc{n}")))
        .unwrap_or_else(|| "rust".to_owned());

    println!("cargo:rustc-env=TOCSIN_BUILD_REVISION={revision}");
    println!("cargo:rustc-env=TOCSIN_BUILD_BRANCH={branch}");
    println!("cargo:rustc-env=TOCSIN_BUILD_USER={user}@{host}");
    println!("cargo:rustc-env=TOCSIN_BUILD_DATE={date}");
    println!("cargo:rustc-env=TOCSIN_BUILD_COMPILER={compiler}");
}
