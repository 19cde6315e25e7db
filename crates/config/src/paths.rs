//! Relative paths in alertmanager.yml are relative to the config file's directory, not the working directory.

use std::path::{Component, Path, PathBuf};

/// Go's `config.JoinDir`: empty and absolute paths stay as they are, others are joined and cleaned.
pub fn resolve(base: &Path, p: &str) -> String {
    if p.is_empty() || Path::new(p).is_absolute() {
        return p.to_owned();
    }
    clean(&base.join(p)).to_string_lossy().into_owned()
}

/// A lexical `filepath.Clean`: drops `.` components and folds `dir/..`.
pub fn clean(p: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_like_go() {
        assert_eq!(resolve(Path::new("/etc/am"), "t/*.tmpl"), "/etc/am/t/*.tmpl");
        assert_eq!(resolve(Path::new("."), "t/*.tmpl"), "t/*.tmpl");
        assert_eq!(resolve(Path::new("/etc/am"), "../x"), "/etc/x");
        assert_eq!(resolve(Path::new("/etc/am"), "/abs"), "/abs");
        assert_eq!(resolve(Path::new("/etc/am"), ""), "");
    }
}
