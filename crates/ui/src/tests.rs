use super::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn files_under(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("read assets dir") {
        let p = entry.expect("dir entry").path();
        if p.is_dir() {
            files_under(&p, base, out);
        } else {
            let rel = p.strip_prefix(base).expect("under base").to_string_lossy().replace('\\', "/");
            out.insert(rel);
        }
    }
}

fn static_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/static")
}

#[test]
fn every_file_on_disk_is_embedded_and_nothing_else() {
    let mut on_disk = BTreeSet::new();
    files_under(&static_dir(), &static_dir(), &mut on_disk);
    let embedded: BTreeSet<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
    assert_eq!(on_disk, embedded, "assets/static and ASSETS must list the same files");
}

/// Every `import … from './x.js'` resolves to an embedded module, and index.html only references embedded files.
#[test]
fn imports_and_references_resolve() {
    let import = regex_lite_imports();
    for a in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
        let text = std::str::from_utf8(a.body).expect("utf-8 js");
        for target in import(text) {
            let dir = Path::new(a.path).parent().expect("has a parent").to_string_lossy().into_owned();
            let resolved =
                format!("{}/{}", dir, target.trim_start_matches("./")).trim_start_matches('/').to_owned();
            assert!(
                find(&resolved).is_some(),
                "{} imports {target} ({resolved}), which is not embedded",
                a.path
            );
        }
    }
    let html = std::str::from_utf8(INDEX_HTML.body).expect("utf-8 html");
    for part in html.split("\"static/").skip(1) {
        let path = part.split('"').next().expect("closing quote");
        assert!(find(path).is_some(), "index.html references static/{path}, which is not embedded");
    }
    assert!(!html.contains("http://") && !html.contains("https://"), "no external resources");
}

/// `from './x.js'` targets, without a regex dependency.
fn regex_lite_imports() -> impl Fn(&str) -> Vec<String> {
    |text: &str| {
        text.split("from '")
            .skip(1)
            .filter_map(|rest| rest.split('\'').next())
            .filter(|t| t.starts_with("./"))
            .map(str::to_owned)
            .collect()
    }
}

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    want_status: u16,
    want_type: Option<&'static str>,
}

#[tokio::test]
async fn serves_index_and_assets() {
    let cases = [
        Case {
            name: "index",
            method: "GET",
            path: "/",
            want_status: 200,
            want_type: Some("text/html; charset=utf-8"),
        },
        Case {
            name: "head index",
            method: "HEAD",
            path: "/",
            want_status: 200,
            want_type: Some("text/html; charset=utf-8"),
        },
        Case {
            name: "css",
            method: "GET",
            path: "/static/app.css",
            want_status: 200,
            want_type: Some("text/css; charset=utf-8"),
        },
        Case {
            name: "module",
            method: "GET",
            path: "/static/js/main.js",
            want_status: 200,
            want_type: Some("text/javascript; charset=utf-8"),
        },
        Case {
            name: "svg",
            method: "GET",
            path: "/static/favicon.svg",
            want_status: 200,
            want_type: Some("image/svg+xml"),
        },
        Case {
            name: "unknown asset",
            method: "GET",
            path: "/static/nope.js",
            want_status: 404,
            want_type: None,
        },
        Case {
            name: "traversal",
            method: "GET",
            path: "/static/../Cargo.toml",
            want_status: 404,
            want_type: None,
        },
        Case { name: "post", method: "POST", path: "/", want_status: 405, want_type: None },
        Case {
            name: "api is not ours",
            method: "GET",
            path: "/api/v2/status",
            want_status: 404,
            want_type: None,
        },
    ];
    for c in cases {
        let resp = warp::test::request().method(c.method).path(c.path).reply(&routes()).await;
        assert_eq!(resp.status().as_u16(), c.want_status, "{}", c.name);
        if let Some(ct) = c.want_type {
            assert_eq!(resp.headers()["content-type"], ct, "{}", c.name);
        }
    }
}

#[tokio::test]
async fn index_is_never_cached_and_locked_down() {
    let resp = warp::test::request().path("/").reply(&routes()).await;
    assert_eq!(resp.headers()["cache-control"], "no-cache, no-store, must-revalidate");
    assert!(resp.headers()["content-security-policy"].to_str().expect("ascii").contains("script-src 'self'"));
    assert!(std::str::from_utf8(resp.body()).expect("utf-8").contains("static/js/main.js"));
}

#[tokio::test]
async fn etag_revalidation_is_a_304() {
    let first = warp::test::request().path("/static/app.css").reply(&routes()).await;
    let etag = first.headers()["etag"].to_str().expect("ascii").to_owned();
    let again =
        warp::test::request().path("/static/app.css").header("if-none-match", &etag).reply(&routes()).await;
    assert_eq!(again.status(), 304);
    assert!(again.body().is_empty());
    let stale =
        warp::test::request().path("/static/app.css").header("if-none-match", "\"0\"").reply(&routes()).await;
    assert_eq!(stale.status(), 200);
}

/// The app mounts the routes under `--web.route-prefix`; relative URLs in the page then resolve under it.
#[tokio::test]
async fn works_under_a_route_prefix() {
    let app = warp::path("alertmanager").and(routes());
    let resp = warp::test::request().path("/alertmanager/").reply(&app).await;
    assert_eq!(resp.status(), 200);
    let resp = warp::test::request().path("/alertmanager/static/js/api.js").reply(&app).await;
    assert_eq!(resp.status(), 200);
    let api = std::str::from_utf8(resp.body()).expect("utf-8");
    assert!(api.contains("new URL('api/v2/'"), "API URLs are relative to the page");
}
