//! The build context, shown the way Alertmanager (prometheus/common `version`) shows it: the `--version` block,
//! the "Starting" log line, `alertmanager_build_info` and `versionInfo` in `/api/v2/status`. The version is the
//! crate's semver, so dashboards that parse it keep working.

/// What this binary was built from; values come from `build.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    pub version: &'static str,
    pub revision: &'static str,
    pub branch: &'static str,
    pub build_user: &'static str,
    pub build_date: &'static str,
    /// The compiler, in the place of Go's `goVersion` (`rustc1.95.0`).
    pub compiler: &'static str,
}

/// This binary's build context.
pub const BUILD: BuildInfo = BuildInfo {
    version: env!("CARGO_PKG_VERSION"),
    revision: env!("TOCSIN_BUILD_REVISION"),
    branch: env!("TOCSIN_BUILD_BRANCH"),
    build_user: env!("TOCSIN_BUILD_USER"),
    build_date: env!("TOCSIN_BUILD_DATE"),
    compiler: env!("TOCSIN_BUILD_COMPILER"),
};

/// Go's `GOOS/GOARCH` spelling of the target (`linux/amd64`).
pub fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        other => other,
    };
    format!("{}/{}", std::env::consts::OS, arch)
}

impl BuildInfo {
    /// The `--version` block (`version.Print("alertmanager")`).
    pub fn print_block(&self, program: &str) -> String {
        format!(
            "{program}, version {} (branch: {}, revision: {})\n  build user:       {}\n  build date:       {}\n  \
             go version:       {}\n  platform:         {}\n",
            self.version,
            self.branch,
            self.revision,
            self.build_user,
            self.build_date,
            self.compiler,
            platform()
        )
    }

    /// The `version` value of the "Starting" log line: `(version=…, branch=…, revision=…)`.
    pub fn info(&self) -> String {
        format!("(version={}, branch={}, revision={})", self.version, self.branch, self.revision)
    }

    /// The `build_context` value of the second start-up line.
    pub fn build_context(&self) -> String {
        format!(
            "(go={}, platform={}, user={}, date={})",
            self.compiler,
            platform(),
            self.build_user,
            self.build_date
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_block_shape() {
        let block = BUILD.print_block("tocsin");
        let first = block.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("tocsin, version {} (branch: ", env!("CARGO_PKG_VERSION"))),
            "{first}"
        );
        assert_eq!(block.lines().count(), 5, "{block}");
        assert!(block.contains("  platform:         "), "{block}");
    }
}
