//! The HTTP surface of the process: the web UI (`tocsin_ui::routes()`) and the API (`tocsin_api::routes`) under
//! `--web.route-prefix`, as upstream's `ui.Register` + `api.Register` on one router.
//!
//! The UI is tried first because the API's filter answers every path (its own 404s included); the UI only takes
//! `GET|HEAD <prefix>/` and `<prefix>/static/<known file>` and rejects the rest, which then reaches the API.
//! `<prefix>` without its slash redirects to `<prefix>/`, so the page's relative URLs resolve under the prefix.

use bytes::Bytes;
use warp::filters::BoxedFilter;
use warp::http::{header, Response, StatusCode};
use warp::path::FullPath;
use warp::{Filter, Rejection, Reply};

/// The UI under `prefix` (normalised: `/` or `/a/b` without trailing slash), then the API.
pub fn routes<A>(prefix: &str, api: A) -> BoxedFilter<(warp::reply::Response,)>
where
    A: Filter<Extract = (Response<Bytes>,), Error = Rejection> + Clone + Send + Sync + 'static,
{
    let api = api.map(Reply::into_response);
    ui(prefix).or(api).unify().boxed()
}

fn ui(prefix: &str) -> BoxedFilter<(warp::reply::Response,)> {
    let mut base: BoxedFilter<()> = warp::any().boxed();
    for segment in prefix.split('/').filter(|s| !s.is_empty()) {
        base = base.and(warp::path(segment.to_owned())).boxed();
    }
    if prefix == "/" {
        return base.and(tocsin_ui::routes()).boxed();
    }
    let exact = prefix.to_owned();
    let to = format!("{prefix}/");
    let redirect =
        warp::get().or(warp::head()).unify().and(warp::path::full()).and_then(move |full: FullPath| {
            let (exact, to) = (exact.clone(), to.clone());
            async move {
                if full.as_str() != exact {
                    return Err(warp::reject::not_found());
                }
                let mut resp = warp::reply::Response::default();
                *resp.status_mut() = StatusCode::FOUND;
                if let Ok(v) = header::HeaderValue::from_str(&to) {
                    resp.headers_mut().insert(header::LOCATION, v);
                }
                Ok::<_, Rejection>(resp)
            }
        });
    base.and(redirect.or(tocsin_ui::routes()).unify()).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> impl Filter<Extract = (Response<Bytes>,), Error = Rejection> + Clone + Send + Sync + 'static {
        warp::any()
            .and_then(|| async { Ok::<_, Rejection>(()) })
            .untuple_one()
            .and(warp::path::full())
            .map(|p: FullPath| Response::new(Bytes::from(format!("api {}", p.as_str()))))
    }

    struct Case {
        name: &'static str,
        prefix: &'static str,
        path: &'static str,
        want_status: u16,
        want: &'static str,
    }

    #[tokio::test]
    async fn ui_then_api_under_prefix() {
        let cases = [
            Case { name: "root index", prefix: "/", path: "/", want_status: 200, want: "tocsin-ui" },
            Case { name: "root api", prefix: "/", path: "/api/v2/status", want_status: 200, want: "api " },
            Case {
                name: "unknown static",
                prefix: "/",
                path: "/static/nope.js",
                want_status: 200,
                want: "api ",
            },
            Case { name: "prefix index", prefix: "/am", path: "/am/", want_status: 200, want: "tocsin-ui" },
            Case { name: "prefix redirect", prefix: "/am", path: "/am", want_status: 302, want: "" },
            Case {
                name: "prefix api",
                prefix: "/am",
                path: "/am/api/v2/status",
                want_status: 200,
                want: "api ",
            },
            Case { name: "outside prefix", prefix: "/am", path: "/", want_status: 200, want: "api /" },
        ];
        for c in cases {
            let f = routes(c.prefix, api());
            let resp = warp::test::request().path(c.path).reply(&f).await;
            assert_eq!(resp.status().as_u16(), c.want_status, "{}", c.name);
            let body = String::from_utf8_lossy(resp.body());
            assert!(body.contains(c.want), "{}: {body}", c.name);
            if c.want_status == 302 {
                assert_eq!(resp.headers()["location"], "/am/", "{}", c.name);
            }
        }
    }
}
