//! Black-box: the `tocsin` binary's command line, as a unit file or a CI job sees it (exit codes, the one-line
//! errors on stderr, `--version`, `check-config`).

use std::process::{Command, Output};

fn tocsin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tocsin")).args(args).output().expect("run tocsin")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn version_block() {
    let out = tocsin(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let first = regex::Regex::new(r"^tocsin, version (\d+\.\d+\.\d+\S*) \(branch: \S+, revision: \S+\)$")
        .expect("re");
    let line = text.lines().next().unwrap_or_default();
    let caps = first.captures(line).unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert_eq!(&caps[1], env!("CARGO_PKG_VERSION"));
    for key in ["  build user:", "  build date:", "  go version:", "  platform:"] {
        assert!(text.contains(key), "missing {key:?} in {text}");
    }
}

#[test]
fn help_goes_to_stdout() {
    let out = tocsin(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("--config.file"), "{}", stdout(&out));
}

#[test]
fn bad_flags_exit_1_with_one_line() {
    struct Case {
        name: &'static str,
        args: &'static [&'static str],
        want: &'static str,
    }
    let cases = [
        Case {
            name: "unknown flag",
            args: &["--bogus"],
            want: "tocsin: error: unknown long flag '--bogus', try --help",
        },
        Case {
            name: "repeated single flag",
            args: &["--config.file=a.yml", "--config.file", "b.yml"],
            want: "tocsin: error: flag 'config.file' cannot be repeated, try --help",
        },
        Case {
            name: "bad duration",
            args: &["--data.retention=5x"],
            want: "tocsin: error: time: unknown unit \"x\" in duration \"5x\", try --help",
        },
        Case {
            name: "bad log level",
            args: &["--log.level=trace"],
            want: "tocsin: error: unrecognized log level \"trace\", try --help",
        },
    ];
    for c in cases {
        let out = tocsin(c.args);
        assert_eq!(out.status.code(), Some(1), "{}", c.name);
        assert_eq!(stderr(&out), format!("{}\n", c.want), "{}", c.name);
        assert!(out.stdout.is_empty(), "{}", c.name);
    }
}

#[test]
fn repeatable_flags_accumulate() {
    // Two listen addresses and two peers parse; the process then fails on the missing config file, which proves
    // flag parsing accepted the repetition (exit 1 with a log line, not a flag error).
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tocsin(&[
        "--web.listen-address=127.0.0.1:0",
        "--web.listen-address=127.0.0.1:0",
        "--cluster.listen-address=",
        "--config.file",
        &dir.path().join("missing.yml").display().to_string(),
        "--storage.path",
        &dir.path().join("data").display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(!err.contains("try --help"), "{err}");
    assert!(err.contains("Loading configuration file failed"), "{err}");
    assert!(err.contains("no such file or directory"), "{err}");
}

#[test]
fn check_config_success_failure_and_missing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.yml");
    std::fs::write(&good, "route:\n  receiver: a\nreceivers:\n- name: a\n").expect("write");
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "route:\n  receiver: a\n  bogus: 1\nreceivers:\n- name: a\n").expect("write");

    let out = tocsin(&["check-config", &good.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with(&format!("Checking '{}'  SUCCESS\nFound:\n", good.display())));

    let out = tocsin(&["check-config", &good.display().to_string(), &bad.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains(&format!("Checking '{}'  FAILED: ", bad.display())), "{text}");
    assert!(text.contains("bogus"), "{text}");
    assert_eq!(stderr(&out), "tocsin: error: failed to validate 1 file(s)\n");

    let missing = dir.path().join("missing.yml");
    let out = tocsin(&["check-config", &missing.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), format!("tocsin: error: path '{}' does not exist\n", missing.display()));
    assert!(out.stdout.is_empty());
}
