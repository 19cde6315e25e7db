//! `tocsin check-config FILE...`: validates configuration files and prints exactly what `amtool check-config`
//! (0.25) prints, so CI jobs and pre-commit hooks written for amtool can switch binaries without editing their
//! expected output.
//!
//! ```text
//! Checking 'alertmanager.yml'  SUCCESS
//! Found:
//!  - global config
//!  - route
//!  - 0 inhibit rules
//!  - 1 receivers
//!  - 0 templates
//!
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use tocsin_config::{Config, ParseMode};

/// Why the command as a whole failed; the binary prints `tocsin: error: <this>` and exits 1.
#[derive(Debug, thiserror::Error)]
pub enum CheckConfigError {
    /// kingpin's `ExistingFiles` check, done before any file is read.
    #[error("path '{0}' does not exist")]
    NotExist(String),
    #[error("'{0}' is a directory")]
    IsDirectory(String),
    /// No file given and standard input is a terminal (or `/dev/null`).
    #[error("Failed to read from standard input")]
    NoStdin,
    #[error("failed to validate {0} file(s)")]
    Failed(usize),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Checks `files` (standard input when empty), writing amtool's report to `out`.
pub fn run(files: &[PathBuf], mode: ParseMode, out: &mut impl Write) -> Result<(), CheckConfigError> {
    let files = if files.is_empty() { vec![stdin_path()?] } else { files.to_vec() };
    for f in &files {
        match std::fs::metadata(f) {
            Err(_) => return Err(CheckConfigError::NotExist(f.display().to_string())),
            Ok(m) if m.is_dir() => {
                let name =
                    f.file_name().map_or_else(|| f.display().to_string(), |n| n.to_string_lossy().into());
                return Err(CheckConfigError::IsDirectory(name));
            }
            Ok(_) => {}
        }
    }
    let mut failed = 0;
    for f in &files {
        failed += check_one(f, mode, out)?;
    }
    if failed > 0 {
        return Err(CheckConfigError::Failed(failed));
    }
    Ok(())
}

/// amtool reads `/dev/stdin` when it is not a character device (a pipe or a redirected file).
fn stdin_path() -> Result<PathBuf, CheckConfigError> {
    use std::os::unix::fs::FileTypeExt;
    let path = PathBuf::from("/dev/stdin");
    match std::fs::metadata(&path) {
        Ok(m) if !m.file_type().is_char_device() => Ok(path),
        _ => Err(CheckConfigError::NoStdin),
    }
}

/// Prints one file's report; returns how many failures it counted (0, 1 or 2 as amtool counts them).
fn check_one(path: &Path, mode: ParseMode, out: &mut impl Write) -> Result<usize, CheckConfigError> {
    write!(out, "Checking '{}'", path.display())?;
    let mut failed = 0;
    match tocsin_config::load(path, mode) {
        Err(e) => {
            writeln!(out, "  FAILED: {e}")?;
            failed += 1;
        }
        Ok(config) => {
            writeln!(out, "  SUCCESS")?;
            failed += summary(&config, out)?;
        }
    }
    writeln!(out)?;
    Ok(failed)
}

fn summary(config: &Config, out: &mut impl Write) -> Result<usize, CheckConfigError> {
    writeln!(out, "Found:")?;
    writeln!(out, " - global config")?;
    writeln!(out, " - route")?;
    writeln!(out, " - {} inhibit rules", config.inhibit_rules.len())?;
    writeln!(out, " - {} receivers", config.receivers.len())?;
    writeln!(out, " - {} templates", config.templates.len())?;
    if config.templates.is_empty() {
        return Ok(0);
    }
    match check_templates(&config.templates) {
        Ok(()) => {
            writeln!(out, "  SUCCESS")?;
            Ok(0)
        }
        Err(e) => {
            writeln!(out, "  FAILED: {e}")?;
            Ok(1)
        }
    }
}

/// `template.FromGlobs`: every glob valid, every matched file readable and parsable (a glob matching nothing is
/// fine, as upstream).
fn check_templates(globs: &[PathBuf]) -> Result<(), String> {
    let globs: Vec<String> = globs.iter().map(|g| g.to_string_lossy().into_owned()).collect();
    tocsin_template::Template::from_globs(&globs).map(drop).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        files: Vec<(&'static str, &'static str)>,
        want_out: &'static str,
        want_err: Option<&'static str>,
    }

    const GOOD: &str = "route:\n  receiver: hook\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: http://127.0.0.1:9/\n";

    #[test]
    fn reports_like_amtool() {
        let cases = [
            Case {
                name: "good",
                files: vec![("good.yml", GOOD)],
                want_out: "Checking '{dir}/good.yml'  SUCCESS\nFound:\n - global config\n - route\n - 0 inhibit rules\n \
                           - 1 receivers\n - 0 templates\n\n",
                want_err: None,
            },
            Case {
                name: "bad receiver",
                files: vec![("bad.yml", "route:\n  receiver: nope\nreceivers:\n- name: hook\n")],
                want_out: "Checking '{dir}/bad.yml'  FAILED: undefined receiver \"nope\" used in route\n\n",
                want_err: Some("failed to validate 1 file(s)"),
            },
            Case {
                name: "templates",
                files: vec![
                    ("t.yml", "route:\n  receiver: a\nreceivers:\n- name: a\n- name: b\ntemplates:\n- '*.tmpl'\n- 'none/*.tmpl'\n"),
                    ("a.tmpl", "{{ define \"x\" }}hi{{ end }}"),
                ],
                want_out: "Checking '{dir}/t.yml'  SUCCESS\nFound:\n - global config\n - route\n - 0 inhibit rules\n \
                           - 2 receivers\n - 2 templates\n  SUCCESS\n\n",
                want_err: None,
            },
            Case {
                name: "template syntax error",
                files: vec![
                    ("t.yml", "route:\n  receiver: a\nreceivers:\n- name: a\ntemplates:\n- '*.tmpl'\n"),
                    ("b.tmpl", "{{ define \"y\" }}hi{{ end \n"),
                ],
                want_out: "Checking '{dir}/t.yml'  SUCCESS\nFound:\n - global config\n - route\n - 0 inhibit rules\n \
                           - 1 receivers\n - 1 templates\n  FAILED: template: b.tmpl:2: unclosed action started at \
                           b.tmpl:1\n\n",
                want_err: Some("failed to validate 1 file(s)"),
            },
        ];
        for c in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            for (name, text) in &c.files {
                std::fs::write(dir.path().join(name), text).expect("write");
            }
            let mut out = Vec::new();
            let res = run(&[dir.path().join(c.files[0].0)], ParseMode::default(), &mut out);
            let want = c.want_out.replace("{dir}", &dir.path().display().to_string());
            assert_eq!(String::from_utf8_lossy(&out), want, "{}", c.name);
            assert_eq!(res.err().map(|e| e.to_string()).as_deref(), c.want_err, "{}", c.name);
        }
    }

    #[test]
    fn missing_file_and_directory_fail_before_checking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut out = Vec::new();
        let missing = dir.path().join("missing.yml");
        let err = run(std::slice::from_ref(&missing), ParseMode::default(), &mut out).expect_err("missing");
        assert_eq!(err.to_string(), format!("path '{}' does not exist", missing.display()));
        let err = run(&[dir.path().to_owned()], ParseMode::default(), &mut out).expect_err("dir");
        assert!(err.to_string().ends_with("' is a directory"), "{err}");
        assert!(out.is_empty());
    }
}
