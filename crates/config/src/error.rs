//! Errors from loading alertmanager.yml. Messages use upstream's wording, because operators grep for them and
//! `POST /-/reload` returns them verbatim (`failed to reload config: <err>`).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read; rendered like Go's `open <path>: no such file or directory`.
    #[error("open {}: {}", path.display(), go_io_text(source))]
    Read { path: PathBuf, source: std::io::Error },
    /// YAML syntax or schema error: `yaml: line 3 column 3: unknown field `foo`, expected one of …`.
    #[error("{0}")]
    Yaml(String),
    /// A semantic validation error, worded as upstream (`undefined receiver "x" used in route`).
    #[error("{0}")]
    Invalid(String),
}

impl From<String> for ConfigError {
    fn from(s: String) -> Self {
        ConfigError::Invalid(s)
    }
}

fn go_io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}
