#![allow(dead_code)]
use std::path::{Path, PathBuf};
use tocsin_config::{load_str, Config, ConfigError, ParseMode};

pub fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(name)
}

pub fn yml_files(name: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir(name))
        .expect("corpus directory exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    v.sort();
    v
}

pub fn load(text: &str) -> Result<Config, ConfigError> {
    load_str(text, Path::new("/etc/am"), ParseMode::Fallback)
}

pub fn err(text: &str) -> String {
    load(text).expect_err("config should be rejected").to_string()
}
