//! Good configs: they load, amtool 0.25 agrees (when installed), and our normalised YAML equals what
//! Alertmanager 0.25 showed as `config.original` for the same file (compared as YAML values).
mod common;
use std::path::Path;
use std::process::Command;
use tocsin_config::{load, load_str, ParseMode};

#[test]
fn good_corpus_loads() {
    for path in common::yml_files("corpus").into_iter().chain(common::yml_files("corpus-new")) {
        let cfg = load(&path, ParseMode::Fallback).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // The normalised YAML parses again to the same normalised YAML (secrets stay `<secret>`).
        let again = load_str(&cfg.to_yaml(), path.parent().unwrap(), ParseMode::Fallback)
            .unwrap_or_else(|e| panic!("{} re-parse: {e}\n{}", path.display(), cfg.to_yaml()));
        assert_eq!(again.to_yaml(), cfg.to_yaml(), "{}", path.display());
    }
}

#[test]
fn example_config_loads() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/alertmanager.yml");
    let cfg = load(&p, ParseMode::Fallback).unwrap();
    assert_eq!(cfg.route.routes.len(), 2);
    assert_eq!(cfg.receivers[0].webhook_configs.len(), 1);
}

#[test]
fn amtool_accepts_corpus_and_example() {
    let amtool = Path::new("/usr/bin/amtool");
    if !amtool.exists() {
        println!("skipped: amtool not installed");
        return;
    }
    let mut files = common::yml_files("corpus");
    files.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/alertmanager.yml"));
    for f in files {
        let out = Command::new(amtool).arg("check-config").arg(&f).output().unwrap();
        assert!(
            out.status.success(),
            "amtool check-config {}: {}{}",
            f.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Known, intended differences from 0.25's rendering: webhook `url` is a secret since 0.26, TLS versions
/// render as names (0.25's common rendered the raw number, `771`), and 0.28's `global.rocketchat_api_url`.
fn normalise_am025(v: &mut serde_yaml_ng::Value) {
    use serde_yaml_ng::Value;
    match v {
        Value::Mapping(m) => {
            for (k, val) in m.iter_mut() {
                if k.as_str() == Some("webhook_configs") {
                    if let Value::Sequence(s) = val {
                        for wh in s {
                            if let Some(u) = wh.get_mut("url") {
                                *u = Value::String("<secret>".into());
                            }
                        }
                    }
                }
                if matches!(k.as_str(), Some("min_version" | "max_version")) {
                    let name = match val.as_u64() {
                        Some(769) => "TLS10",
                        Some(770) => "TLS11",
                        Some(771) => "TLS12",
                        Some(772) => "TLS13",
                        _ => continue,
                    };
                    *val = Value::String(name.into());
                }
                normalise_am025(val);
            }
        }
        Value::Sequence(s) => s.iter_mut().for_each(normalise_am025),
        _ => {}
    }
}

#[test]
fn normalised_yaml_matches_alertmanager_025() {
    for want_path in common::yml_files("corpus-am025") {
        let name = want_path.file_name().unwrap();
        let text = std::fs::read_to_string(common::dir("corpus").join(name)).unwrap();
        // Alertmanager was started from the corpus directory with a relative --config.file.
        let cfg = load_str(&text, Path::new("."), ParseMode::Fallback).unwrap();
        let mut got: serde_yaml_ng::Value = serde_yaml_ng::from_str(&cfg.to_yaml()).unwrap();
        // 0.28 added a default rocketchat_api_url to global; 0.25 has no such field.
        if let Some(serde_yaml_ng::Value::Mapping(g)) = got.get_mut("global") {
            g.remove("rocketchat_api_url");
        }
        let mut want: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(&want_path).unwrap()).unwrap();
        normalise_am025(&mut want);
        if got != want {
            panic!(
                "{}:\n--- ours\n{}\n--- alertmanager 0.25\n{}",
                want_path.display(),
                serde_yaml_ng::to_string(&got).unwrap(),
                serde_yaml_ng::to_string(&want).unwrap()
            );
        }
    }
}

#[test]
fn hash_matches_alertmanager_025() {
    // alertmanager_config_hash 2.41643882828743e+14 measured for corpus/full.yml.
    let text = std::fs::read_to_string(common::dir("corpus").join("full.yml")).unwrap();
    let cfg = load_str(&text, Path::new("."), ParseMode::Fallback).unwrap();
    assert_eq!(format!("{:e}", cfg.hash() as f64).get(..14), Some("2.416438828287"));
}

/// Every shipped example (`examples/*.yml`, `examples/ha/alertmanager.yml`) loads; those Alertmanager 0.25 can
/// read also pass `amtool check-config` (when installed).
#[test]
fn every_example_loads_and_amtool_025_accepts_the_portable_ones() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files: Vec<_> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files.push(examples.join("ha/alertmanager.yml"));
    assert!(files.len() >= 7, "{files:?}");
    for f in &files {
        load(f, ParseMode::Fallback).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }

    // The rest are not Alertmanager 0.25 files: dingtalk.yml, feishu.yml, wecom.yml and ha/alertmanager.yml use
    // tocsin's own dingtalk_configs/feishu_configs/wecom_configs; webhook.yml uses webhook `url_file` (0.26+).
    const AMTOOL_025: [&str; 2] = ["alertmanager.yml", "email.yml"];
    let amtool = Path::new("/usr/bin/amtool");
    if !amtool.exists() {
        println!("skipped: amtool not installed");
        return;
    }
    for name in AMTOOL_025 {
        let f = examples.join(name);
        let out = Command::new(amtool).arg("check-config").arg(&f).output().unwrap();
        assert!(
            out.status.success(),
            "amtool check-config {}: {}{}",
            f.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
