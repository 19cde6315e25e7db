//! `GET /api/v2/status`, `GET /api/v2/receivers`, and the endpoints outside API v2: health, readiness, reload,
//! metrics and the removed API v1.

use crate::context::Api;
use crate::error::{empty_response, json_response, text_response};
use crate::models::{AlertmanagerConfig, AlertmanagerStatus, Millis, Receiver};
use bytes::Bytes;
use warp::http::{header, HeaderValue, Method, Response, StatusCode};

/// `GET /api/v2/status`.
pub fn status(api: &Api) -> Response<Bytes> {
    let config = api.config();
    let body = AlertmanagerStatus {
        cluster: api.cluster.status(),
        config: AlertmanagerConfig { original: config.to_yaml() },
        uptime: Millis::from(api.start_time),
        version_info: api.version.clone(),
    };
    json_response(StatusCode::OK, &body)
}

/// `GET /api/v2/receivers`: every receiver of the configuration, in file order.
pub fn receivers(api: &Api) -> Response<Bytes> {
    let config = api.config();
    let body: Vec<Receiver> = config.receivers.iter().map(|r| Receiver { name: r.name.clone() }).collect();
    json_response(StatusCode::OK, &body)
}

/// Go's `http.Error`: text with a trailing newline and `X-Content-Type-Options: nosniff`.
fn http_error(status: StatusCode, text: &str) -> Response<Bytes> {
    let mut resp = text_response(status, format!("{text}\n"));
    resp.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    resp
}

/// 405 as Go's router gives it, with the allowed methods.
pub fn method_not_allowed(allow: &'static str) -> Response<Bytes> {
    let mut resp = http_error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// Go's `http.NotFound`.
pub fn not_found() -> Response<Bytes> {
    http_error(StatusCode::NOT_FOUND, "404 page not found")
}

/// `/-/healthy` and `/-/ready`: `OK` for GET and HEAD (hyper drops the body of a HEAD response).
pub fn health(method: &Method) -> Response<Bytes> {
    match *method {
        Method::GET | Method::HEAD => text_response(StatusCode::OK, "OK"),
        Method::OPTIONS => {
            let mut resp = empty_response(StatusCode::OK);
            resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
            resp
        }
        _ => method_not_allowed("GET, HEAD, OPTIONS"),
    }
}

/// `POST /-/reload`: 200 empty, or 500 `failed to reload config: <err>`.
pub async fn reload(api: &Api, method: &Method) -> Response<Bytes> {
    match *method {
        Method::POST => match api.reloader.reload().await {
            Ok(()) => empty_response(StatusCode::OK),
            Err(e) => http_error(StatusCode::INTERNAL_SERVER_ERROR, &format!("failed to reload config: {e}")),
        },
        Method::OPTIONS => {
            let mut resp = empty_response(StatusCode::OK);
            resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("OPTIONS, POST"));
            resp
        }
        _ => method_not_allowed("OPTIONS, POST"),
    }
}

/// `GET /metrics`: the injected registry in the text exposition format.
pub fn metrics(api: &Api, method: &Method) -> Response<Bytes> {
    if *method != Method::GET && *method != Method::HEAD {
        return method_not_allowed("GET, HEAD, OPTIONS");
    }
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &api.registry.read()) {
        return http_error(StatusCode::INTERNAL_SERVER_ERROR, &format!("error encoding metrics: {e}"));
    }
    let mut resp = Response::new(Bytes::from(out));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}

/// Any `/api/v1/*` request: 410, as Alertmanager 0.27+.
pub fn api_v1_gone() -> Response<Bytes> {
    json_response(
        StatusCode::GONE,
        &serde_json::json!({
            "status": "deprecated",
            "error": "The Alertmanager v1 API was deprecated in version 0.16.0 and is removed as of version 0.27.0 - please use the equivalent route in the v2 API",
        }),
    )
}
