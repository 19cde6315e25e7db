//! Dev-only helpers shared by tocsin's black-box tests: run the real binary (and Alertmanager) as child processes on
//! loopback, receive notifications in a webhook sink, and drive `amtool`. Everything here is bounded in time and
//! kills what it starts, by PID.

pub mod process;
pub mod sink;

pub use process::{free_port, Node, NodeBuilder};
pub use sink::{Sink, SinkRequest};

/// The path of an installed tool, or `None` (tests then print `skipped: <tool> not installed`).
pub fn tool(path: &str) -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(path);
    if p.is_file() {
        return Some(p.to_path_buf());
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(path)).find(|c| c.is_file()))
}
