//! `GET/POST /api/v2/silences`, `GET/DELETE /api/v2/silence/{silenceID}`.

use crate::alerts::parse_filters;
use crate::context::Api;
use crate::decode;
use crate::error::{empty_response, json_response, ApiError, CODE_INVALID_TYPE};
use crate::models::{GettableSilence, PostSilenceResponse};
use crate::query::Query;
use bytes::Bytes;
use chrono::Utc;
use tocsin_model::labels::go_quote;
use tocsin_model::MatchType;
use tocsin_state::{MatcherSpec, PostableSilence, SilenceError};
use warp::http::{Response, StatusCode};

/// `GET /api/v2/silences`: filtered by exact matcher equality, in upstream's state order.
pub fn get_silences(api: &Api, q: &Query) -> Result<Response<Bytes>, ApiError> {
    let filter = parse_filters(api, q)?;
    let views = api.silences.query(&filter, api.clock.now());
    let body: Vec<GettableSilence> =
        views.iter().map(|v| GettableSilence::new(&v.silence, v.state)).collect();
    Ok(json_response(StatusCode::OK, &body))
}

/// Go's zero time (`0001-01-01T00:00:00Z`) in Unix seconds: a start the client did not really set.
const GO_ZERO_UNIX: i64 = -62_135_596_800;

/// `POST /api/v2/silences`: create, or update (in place or as a new silence) when `id` is set.
pub async fn post_silence(api: &Api, body: &[u8]) -> Result<Response<Bytes>, ApiError> {
    let p = decode::postable_silence(body)?;
    let post = PostableSilence {
        id: p.id,
        matchers: p
            .matchers
            .into_iter()
            .map(|m| MatcherSpec {
                ty: MatchType::from_flags(m.is_regex, m.is_equal),
                name: m.name,
                value: m.value,
            })
            .collect(),
        starts_at: Some(p.starts_at.with_timezone(&Utc)).filter(|t| t.timestamp() != GO_ZERO_UNIX),
        ends_at: p.ends_at.with_timezone(&Utc),
        created_by: p.created_by,
        comment: p.comment,
    };
    match api.silences.set(post) {
        Ok(id) => {
            durable(api).await?;
            Ok(json_response(StatusCode::OK, &PostSilenceResponse { silence_id: id }))
        }
        Err(e @ SilenceError::NotFound) => {
            Err(ApiError::Handler { status: StatusCode::NOT_FOUND, message: e.to_string() })
        }
        Err(e) => Err(ApiError::bad_request(e.to_string())),
    }
}

/// Waits until the change just made is on disk (when the app has storage), so a 200 survives `kill -9`.
async fn durable(api: &Api) -> Result<(), ApiError> {
    match &api.silence_sync {
        Some(s) => s.sync().await.map_err(ApiError::internal),
        None => Ok(()),
    }
}

/// go-openapi's `uuid` format: 8-4-4-4-12 hex digits (hyphens optional), any case.
pub fn is_uuid(s: &str) -> bool {
    let hex: Vec<u8> = s.bytes().filter(|&b| b != b'-').collect();
    let hyphens_ok = match s.len() {
        36 => [8, 13, 18, 23].iter().all(|&i| s.as_bytes()[i] == b'-'),
        32 => true,
        _ => {
            // Some hyphens only: strfmt allows each one independently.
            let groups = [8, 4, 4, 4, 12];
            let mut rest = s;
            groups.iter().enumerate().all(|(i, &n)| {
                if rest.len() < n || !rest.as_bytes()[..n].iter().all(u8::is_ascii_hexdigit) {
                    return false;
                }
                rest = &rest[n..];
                if i < 4 {
                    rest = rest.strip_prefix('-').unwrap_or(rest);
                }
                true
            }) && rest.is_empty()
        }
    };
    hyphens_ok && hex.len() == 32 && hex.iter().all(u8::is_ascii_hexdigit)
}

fn check_id(id: &str) -> Result<(), ApiError> {
    if is_uuid(id) {
        Ok(())
    } else {
        Err(ApiError::validation(
            CODE_INVALID_TYPE,
            format!("silenceID in path must be of type uuid: {}", go_quote(id)),
        ))
    }
}

/// `GET /api/v2/silence/{id}`: 404 with an empty body when unknown.
pub fn get_silence(api: &Api, id: &str) -> Result<Response<Bytes>, ApiError> {
    check_id(id)?;
    let s = api.silences.get(id).ok_or(ApiError::Empty(StatusCode::NOT_FOUND))?;
    let state = s.state_at(api.clock.now());
    Ok(json_response(StatusCode::OK, &GettableSilence::new(&s, state)))
}

/// `DELETE /api/v2/silence/{id}`: expire; 404 (empty) when unknown, as 0.26+.
pub async fn delete_silence(api: &Api, id: &str) -> Result<Response<Bytes>, ApiError> {
    check_id(id)?;
    match api.silences.expire(id) {
        Ok(()) => {
            durable(api).await?;
            Ok(empty_response(StatusCode::OK))
        }
        Err(SilenceError::NotFound) => Err(ApiError::Empty(StatusCode::NOT_FOUND)),
        Err(e) => Err(ApiError::internal(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_format() {
        for (s, want) in [
            ("7a396e97-f579-40e3-b10f-70e090b5ee3a", true),
            ("7A396E97-F579-40E3-B10F-70E090B5EE3A", true),
            ("7a396e97f57940e3b10f70e090b5ee3a", true),
            ("7a396e97-f57940e3-b10f-70e090b5ee3a", true),
            ("notauuid", false),
            ("7a396e97-f579-40e3-b10f-70e090b5ee3", false),
            ("7a396e97-f579-40e3-b10f-70e090b5ee3g", false),
            ("", false),
            ("--------------------------------------------", false),
        ] {
            assert_eq!(is_uuid(s), want, "{s}");
        }
    }
}
