//! The one warp filter serving everything, and the dispatch table behind it.
//!
//! A single catch-all filter (rather than one warp filter per route) because upstream's answers for unknown
//! paths, wrong methods, wrong content types and oversized bodies depend on which route *would* have matched,
//! and warp's rejection recovery cannot see that. Dispatch is a `match` on `(path, method)`; read it as the route
//! table of reference §7.1.

use crate::context::Api;
use crate::error::{empty_response, ApiError};
use crate::query::Query;
use crate::{alerts, general, silences};
use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};
use std::sync::Arc;
use tocsin_model::labels::go_quote;
use warp::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use warp::path::FullPath;
use warp::Filter;

/// All of tocsin's HTTP endpoints under the configured route prefix.
pub fn routes(api: Arc<Api>) -> impl Filter<Extract = (Response<Bytes>,), Error = warp::Rejection> + Clone {
    let raw_query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::method()
        .and(warp::path::full())
        .and(raw_query)
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .then(move |method: Method, path: FullPath, query: String, headers: HeaderMap, body| {
            let api = Arc::clone(&api);
            async move {
                let req = Request { method, path: path.as_str().to_owned(), query, headers };
                handle(&api, req, body).await
            }
        })
}

struct Request {
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
}

async fn handle<S, B>(api: &Api, req: Request, body: S) -> Response<Bytes>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    let prefix = api.options.route_prefix.as_str();
    let path = if prefix == "/" {
        Some(req.path.as_str())
    } else if req.path == prefix {
        Some("/")
    } else {
        req.path.strip_prefix(prefix).filter(|p| p.starts_with('/'))
    };
    let Some(path) = path else {
        if req.path == "/" && req.method == Method::GET {
            return redirect(prefix);
        }
        return general::not_found();
    };
    match path {
        "/-/healthy" | "/-/ready" => general::health(&req.method),
        "/-/reload" => general::reload(api, &req.method).await,
        "/metrics" => general::metrics(api, &req.method),
        p if p.starts_with("/api/v1/") || p == "/api/v1" => general::api_v1_gone(),
        "/api/v2" => redirect(&format!("{}/api/v2/", prefix.trim_end_matches('/'))),
        p if p.starts_with("/api/v2/") => {
            let mut resp = api_v2(api, &req, p, body).await;
            cors(&req.headers, resp.headers_mut());
            resp
        }
        _ => general::not_found(),
    }
}

fn redirect(to: &str) -> Response<Bytes> {
    let mut resp = empty_response(StatusCode::FOUND);
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// Headers every API v2 response carries: `Vary: Origin`, `Cache-Control: no-store` (0.26+), and
/// `Access-Control-Allow-Origin: *` when the request names an origin (rs/cors with `AllowedOrigins: *`).
fn cors(req: &HeaderMap, resp: &mut HeaderMap) {
    resp.append(header::VARY, HeaderValue::from_static("Origin"));
    resp.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if req.contains_key(header::ORIGIN) {
        resp.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
}

/// Methods rs/cors lets a preflight ask for.
const CORS_METHODS: [&str; 5] = ["GET", "HEAD", "POST", "PUT", "DELETE"];

/// A CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`): 200, allowed when the method is.
fn preflight(req: &Request) -> Option<Response<Bytes>> {
    if req.method != Method::OPTIONS || !req.headers.contains_key(header::ORIGIN) {
        return None;
    }
    let wanted = req.headers.get(header::ACCESS_CONTROL_REQUEST_METHOD)?.to_str().ok()?.to_ascii_uppercase();
    let mut resp = empty_response(StatusCode::OK);
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Access-Control-Request-Method"));
    h.append(header::VARY, HeaderValue::from_static("Access-Control-Request-Headers"));
    if CORS_METHODS.contains(&wanted.as_str()) {
        if let Ok(v) = HeaderValue::from_str(&wanted) {
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v);
        }
        if let Some(v) = req.headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
        }
    }
    Some(resp)
}

async fn api_v2<S, B>(api: &Api, req: &Request, path: &str, body: S) -> Response<Bytes>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    if let Some(resp) = preflight(req) {
        return resp;
    }
    let route = path.strip_prefix("/api/v2").unwrap_or(path);
    let route = if route.len() > 1 { route.trim_end_matches('/') } else { route };
    let q = Query::parse(&req.query);
    let m = &req.method;
    let not_allowed = |allowed: &'static [&'static str]| {
        Err(ApiError::MethodNotAllowed { method: m.as_str().to_owned(), allowed })
    };
    let result = match route {
        "/status" => match *m {
            Method::GET => Ok(general::status(api)),
            _ => not_allowed(&["GET"]),
        },
        "/receivers" => match *m {
            Method::GET => Ok(general::receivers(api)),
            _ => not_allowed(&["GET"]),
        },
        "/alerts" => match *m {
            Method::GET => alerts::get_alerts(api, &q),
            Method::POST => match read_json_body(api, req, body).await {
                Ok(b) => alerts::post_alerts(api, &b),
                Err(e) => Err(e),
            },
            _ => not_allowed(&["GET", "POST"]),
        },
        "/alerts/groups" => match *m {
            Method::GET => alerts::get_alert_groups(api, &q),
            _ => not_allowed(&["GET"]),
        },
        "/silences" => match *m {
            Method::GET => silences::get_silences(api, &q),
            Method::POST => match read_json_body(api, req, body).await {
                Ok(b) => silences::post_silence(api, &b).await,
                Err(e) => Err(e),
            },
            _ => not_allowed(&["GET", "POST"]),
        },
        r => match r.strip_prefix("/silence/").filter(|id| !id.is_empty() && !id.contains('/')) {
            Some(id) => {
                let id = percent_decode(id);
                match *m {
                    Method::GET => silences::get_silence(api, &id),
                    Method::DELETE => silences::delete_silence(api, &id).await,
                    _ => not_allowed(&["DELETE", "GET"]),
                }
            }
            None => Err(ApiError::path_not_found(&format!("/api/v2{route}"))),
        },
    };
    result.unwrap_or_else(ApiError::into_response)
}

fn percent_decode(s: &str) -> String {
    Query::parse(&format!("x={}", s.replace('+', "%2B"))).get("x").unwrap_or(s).to_owned()
}

/// Checks `Content-Type` (415 unless JSON) and reads the body up to the limit (413 beyond it).
async fn read_json_body<S, B>(api: &Api, req: &Request, mut body: S) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    check_content_type(&req.headers)?;
    let limit = api.options.max_request_body_bytes;
    let too_large = || ApiError::framework(StatusCode::PAYLOAD_TOO_LARGE, "http: request body too large");
    let declared = req
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(0).min(limit) as usize);
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|e| ApiError::framework(StatusCode::BAD_REQUEST, e.to_string()))?;
        if buf.len() as u64 + chunk.remaining() as u64 > limit {
            return Err(too_large());
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            let n = part.len();
            buf.extend_from_slice(part);
            chunk.advance(n);
        }
    }
    Ok(buf.freeze())
}

/// go-openapi's content negotiation for JSON-only operations.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let raw = match headers.get(header::CONTENT_TYPE) {
        Some(v) if !v.is_empty() => String::from_utf8_lossy(v.as_bytes()).into_owned(),
        _ => "application/octet-stream".to_owned(),
    };
    let media = raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let parse_err = |why: &str| {
        ApiError::framework(
            StatusCode::BAD_REQUEST,
            format!("parsing Content-Type header from {} failed, because mime: {why}", go_quote(&raw)),
        )
    };
    let is_token = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    match media.split_once('/') {
        None if media.is_empty() => return Err(parse_err("no media type")),
        None => return Err(parse_err("expected slash after first token")),
        Some((t, _)) if !is_token(t) => return Err(parse_err("expected token after slash")),
        Some((_, s)) if !is_token(s) => return Err(parse_err("expected token after slash")),
        Some(_) => {}
    }
    if media == "application/json" {
        Ok(())
    } else {
        Err(ApiError::framework(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported media type {}, only [application/json] are allowed", go_quote(&media)),
        ))
    }
}
