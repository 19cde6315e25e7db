//! tocsin-ui: the web UI operators open on `http://server:9093/` (Alertmanager's `ui/app` Elm single-page app and
//! `ui/web.go`). It is plain JavaScript modules, CSS and HTML under `assets/`, embedded in the binary so the UI works
//! offline and always matches the server it ships with. The page talks only to the API v2, with URLs relative to the
//! page, so it works under any `--web.route-prefix` without knowing it.
//!
//! The app mounts [`routes`] under the route prefix. Paths it answers (relative to the prefix):
//! `/` (index.html, never cached: a new binary must never be paired with an old page) and `/static/<file>`.

mod assets;

pub use assets::{find, Asset, ASSETS, INDEX_HTML};

use warp::filters::BoxedFilter;
use warp::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply};

/// The Content-Security-Policy of the page: everything comes from this server, nothing inline, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'self'; form-action 'self'; \
                   frame-ancestors 'none'";

/// The UI's routes, to be mounted under the route prefix at `/`: `GET|HEAD /` and `GET|HEAD /static/<file>`.
/// Unknown `/static/*` paths reject with not-found so other filters (the API) can still be tried.
pub fn routes() -> BoxedFilter<(Response,)> {
    let method = warp::get().or(warp::head()).unify();
    let index = method
        .and(warp::path::end())
        .and(warp::header::optional::<String>("if-none-match"))
        .map(|inm: Option<String>| respond(&INDEX_HTML, inm.as_deref()));
    let statics = method
        .and(warp::path("static"))
        .and(warp::path::tail())
        .and(warp::header::optional::<String>("if-none-match"))
        .and_then(|tail: warp::path::Tail, inm: Option<String>| async move {
            match find(tail.as_str()) {
                Some(asset) => Ok(respond(asset, inm.as_deref())),
                None => Err(warp::reject::not_found()),
            }
        });
    index.or(statics).unify().boxed()
}

/// One embedded file as a response: its content type, `no-cache` (revalidate every time: file names carry no hash)
/// with an ETag so revalidation is a cheap 304.
fn respond(asset: &Asset, if_none_match: Option<&str>) -> Response {
    let etag = asset.etag();
    let not_modified =
        if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if not_modified {
        let mut r = "".into_response();
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        asset.body.into_response()
    };
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    let cache = if asset.path.is_empty() { "no-cache, no-store, must-revalidate" } else { "no-cache" };
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, v);
    }
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if asset.path.is_empty() {
        headers.insert("content-security-policy", HeaderValue::from_static(CSP));
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    }
    resp
}

#[cfg(test)]
mod tests;
