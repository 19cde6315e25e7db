//! The embedded files. Adding a file under `assets/static/` means adding one line to [`ASSETS`]; a unit test fails
//! when a file on disk is missing from the table, so the binary can never ship a page that imports a 404.

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Path under `static/` (empty for index.html, which is served at `/`).
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

impl Asset {
    /// A strong ETag from the content (FNV-1a 64): stable across builds of the same file, changes with any edit.
    pub fn etag(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.body {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("\"{h:016x}\"")
    }
}

macro_rules! asset {
    ($path:literal, $ct:expr) => {
        Asset {
            path: $path,
            content_type: $ct,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/static/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// The page itself, served at the prefix root.
pub static INDEX_HTML: Asset = Asset {
    path: "",
    content_type: "text/html; charset=utf-8",
    body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/index.html")),
};

/// Everything under `/static/`.
pub static ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/alerts.js", JS),
    asset!("js/api.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/format.js", JS),
    asset!("js/i18n.js", JS),
    asset!("js/main.js", JS),
    asset!("js/matchers.js", JS),
    asset!("js/router.js", JS),
    asset!("js/silence-form.js", JS),
    asset!("js/silences.js", JS),
    asset!("js/status.js", JS),
];

/// The asset at `path` (relative to `static/`), if embedded.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}
