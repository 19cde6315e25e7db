//! The two error shapes clients of Alertmanager's API see.
//!
//! - Framework errors (go-openapi, before the handler runs): a JSON object `{"code":N,"message":"…"}` where `code`
//!   is the HTTP status, except schema violations, which are 422 with go-openapi's validation codes (601 invalid
//!   type/format, 602 required, 612 too few items).
//! - Handler errors: a bare JSON string, e.g. 400 `"at least one label pair required"`.
//!
//! Both are JSON (`Content-Type: application/json`); amtool, Grafana and karma parse them.

use bytes::Bytes;
use warp::http::{header, HeaderValue, Response, StatusCode};

/// go-openapi's validation error codes.
pub const CODE_INVALID_TYPE: u16 = 601;
pub const CODE_REQUIRED: u16 = 602;
pub const CODE_TOO_FEW_ITEMS: u16 = 612;

/// An error response of the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// `{"code":code,"message":message}` with the given HTTP status.
    #[error("{message}")]
    Framework { status: StatusCode, code: u16, message: String },
    /// A handler error: the message as a JSON string.
    #[error("{message}")]
    Handler { status: StatusCode, message: String },
    /// A status with an empty body (`GET /silence/{id}` not found).
    #[error("{0}")]
    Empty(StatusCode),
    /// go-openapi's 405, which also names the allowed methods in `Allow`.
    #[error("method {method} is not allowed")]
    MethodNotAllowed { method: String, allowed: &'static [&'static str] },
}

impl ApiError {
    /// A go-openapi error whose `code` equals its HTTP status.
    pub fn framework(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError::Framework { status, code: status.as_u16(), message: message.into() }
    }

    /// A schema violation: 422 with a go-openapi validation code.
    pub fn validation(code: u16, message: impl Into<String>) -> Self {
        ApiError::Framework { status: StatusCode::UNPROCESSABLE_ENTITY, code, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::Handler { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::Handler { status: StatusCode::INTERNAL_SERVER_ERROR, message: message.into() }
    }

    /// `path /api/v2/x was not found`.
    pub fn path_not_found(path: &str) -> Self {
        Self::framework(StatusCode::NOT_FOUND, format!("path {path} was not found"))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Framework { status, .. } | ApiError::Handler { status, .. } => *status,
            ApiError::Empty(s) => *s,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response<Bytes> {
        match self {
            ApiError::Framework { status, code, message } => {
                json_response(status, &serde_json::json!({ "code": code, "message": message }))
            }
            ApiError::Handler { status, message } => json_response(status, &message),
            ApiError::Empty(status) => empty_response(status),
            ApiError::MethodNotAllowed { method, allowed } => {
                let list = allowed.join(",");
                let mut resp = json_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    &serde_json::json!({
                        "code": 405,
                        "message": format!("method {method} is not allowed, but [{list}] are"),
                    }),
                );
                if let Ok(v) = HeaderValue::from_str(&list) {
                    resp.headers_mut().insert(header::ALLOW, v);
                }
                resp
            }
        }
    }
}

/// A JSON response of `value`.
pub fn json_response<T: serde::Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Bytes> {
    match serde_json::to_vec(value) {
        Ok(body) => json_bytes(status, body),
        // Serialising our own models cannot fail (string keys only); answer like a handler error if it ever did.
        Err(e) => json_bytes(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::to_vec(&e.to_string()).unwrap_or_default(),
        ),
    }
}

/// A response whose body is already-encoded JSON.
pub fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// An empty body: `Content-Length: 0`, no `Content-Type` (as go-openapi's empty 200s).
pub fn empty_response(status: StatusCode) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::new());
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    resp
}

/// A `text/plain; charset=utf-8` response (health, reload).
pub fn text_response(status: StatusCode, body: impl Into<Bytes>) -> Response<Bytes> {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    resp
}
