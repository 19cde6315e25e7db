//! Decoding and schema validation of posted bodies, with go-openapi's and Go's `encoding/json` error texts.
//!
//! Upstream runs in two steps and so do we: first the JSON is decoded into the model (`400 parsing alerts body
//! from "" failed, because …`: syntax errors, type mismatches, unparsable timestamps), then the model is validated
//! against the schema (`422`, first violation only: required fields, minimum items, `uri` format). Only then
//! does the handler see the body. Serde's own messages never reach the client.
//!
//! Decoding goes through `serde_json::Value` so every type mismatch can be named the way Go names it
//! (`json: cannot unmarshal number into Go struct field Alert.labels of type string`). Like Go's decoder, only the
//! first JSON value of the body is read (trailing bytes are ignored) and keys match case-insensitively.

use crate::datetime;
use crate::error::{ApiError, CODE_INVALID_TYPE, CODE_REQUIRED, CODE_TOO_FEW_ITEMS};
use crate::models::{PostableAlert, PostableMatcher, PostableSilence};
use serde_json::{Map, Value};
use tocsin_model::labels::go_quote;
use tocsin_model::time::Timestamp;
use tocsin_model::LabelSet;
use warp::http::StatusCode;

const ALERT_ANON_STRUCT: &str = r#"struct { Annotations models.LabelSet "json:\"annotations,omitempty\""; EndsAt strfmt.DateTime "json:\"endsAt,omitempty\""; StartsAt strfmt.DateTime "json:\"startsAt,omitempty\"" }"#;
const SILENCE_ANON_STRUCT: &str = r#"struct { ID string "json:\"id,omitempty\"" }"#;

/// Decodes and validates `POST /api/v2/alerts`.
pub fn postable_alerts(body: &[u8]) -> Result<Vec<PostableAlert>, ApiError> {
    if let Some(alerts) = crate::decode_fast::postable_alerts(body) {
        return Ok(alerts);
    }
    postable_alerts_slow(body)
}

/// The `serde_json::Value` path: the only one that produces errors (see [`crate::decode_fast`]).
pub(crate) fn postable_alerts_slow(body: &[u8]) -> Result<Vec<PostableAlert>, ApiError> {
    let fail = |msg: String| body_error("alerts", msg);
    let value = first_value(body).map_err(fail)?.ok_or_else(|| required("alerts"))?;
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => return Err(fail(unmarshal_value(&other, "models.PostableAlerts"))),
    };
    let mut raw = Vec::with_capacity(items.len());
    for item in items {
        raw.push(match item {
            Value::Null => None,
            Value::Object(obj) => Some(decode_alert(obj).map_err(fail)?),
            other => return Err(fail(unmarshal_value(&other, ALERT_ANON_STRUCT))),
        });
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, a)| {
            // Upstream crashes on a null element (0.25); a required error is the sane answer.
            let (alert, has_labels) = a.ok_or_else(|| required(&i.to_string()))?;
            if !alert.generator_url.is_empty() && !is_request_uri(&alert.generator_url) {
                return Err(ApiError::validation(
                    CODE_INVALID_TYPE,
                    format!(
                        "{i}.generatorURL in body must be of type uri: {}",
                        go_quote(&alert.generator_url)
                    ),
                ));
            }
            if !has_labels {
                return Err(required(&format!("{i}.labels")));
            }
            Ok(alert)
        })
        .collect()
}

/// Decodes and validates `POST /api/v2/silences`.
pub fn postable_silence(body: &[u8]) -> Result<PostableSilence, ApiError> {
    let fail = |msg: String| body_error("silence", msg);
    let value = first_value(body).map_err(fail)?.ok_or_else(|| required("silence"))?;
    let obj = match value {
        Value::Null => Map::new(),
        Value::Object(obj) => obj,
        other => return Err(fail(unmarshal_value(&other, SILENCE_ANON_STRUCT))),
    };
    let id = opt_string(get(&obj, "id"), ".id").map_err(fail)?;
    let comment = opt_string(get(&obj, "comment"), "Silence.comment").map_err(fail)?;
    let created_by = opt_string(get(&obj, "createdBy"), "Silence.createdBy").map_err(fail)?;
    let ends_at = opt_time(get(&obj, "endsAt"), "Silence.endsAt").map_err(fail)?;
    let matchers = match get(&obj, "matchers") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            Some(items.iter().map(|m| decode_matcher(m).map_err(fail)).collect::<Result<Vec<_>, _>>()?)
        }
        Some(other) => return Err(fail(unmarshal_field(other, "Silence.matchers", "models.Matchers"))),
    };
    let starts_at = opt_time(get(&obj, "startsAt"), "Silence.startsAt").map_err(fail)?;

    // Schema validation, in go-swagger's order (fields sorted by name).
    let comment = comment.ok_or_else(|| required("comment"))?;
    let created_by = created_by.ok_or_else(|| required("createdBy"))?;
    let ends_at = ends_at.ok_or_else(|| required("endsAt"))?;
    let matchers = matchers.ok_or_else(|| required("matchers"))?;
    if matchers.is_empty() {
        return Err(ApiError::validation(
            CODE_TOO_FEW_ITEMS,
            "matchers in body should have at least 1 items",
        ));
    }
    let matchers = matchers
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let m = m.ok_or_else(|| required(&format!("matchers.{i}")))?;
            let is_regex = m.is_regex.ok_or_else(|| required(&format!("matchers.{i}.isRegex")))?;
            let name = m.name.ok_or_else(|| required(&format!("matchers.{i}.name")))?;
            let value = m.value.ok_or_else(|| required(&format!("matchers.{i}.value")))?;
            Ok(PostableMatcher { name, value, is_regex, is_equal: m.is_equal.unwrap_or(true) })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let starts_at = starts_at.ok_or_else(|| required("startsAt"))?;
    Ok(PostableSilence {
        id: id.filter(|s| !s.is_empty()),
        matchers,
        starts_at,
        ends_at,
        created_by,
        comment,
    })
}

fn required(what: &str) -> ApiError {
    ApiError::validation(CODE_REQUIRED, format!("{what} in body is required"))
}

fn body_error(what: &str, msg: String) -> ApiError {
    ApiError::framework(
        StatusCode::BAD_REQUEST,
        format!("parsing {what} body from \"\" failed, because {msg}"),
    )
}

/// The first JSON value of `body` (`None` for an empty or blank body), or Go's error text.
fn first_value(body: &[u8]) -> Result<Option<Value>, String> {
    match serde_json::Deserializer::from_slice(body).into_iter::<Value>().next() {
        None => Ok(None),
        Some(Ok(v)) => Ok(Some(v)),
        Some(Err(e)) => Err(syntax_error(body, &e)),
    }
}

/// Go's `encoding/json` wording for a syntax error serde_json reported.
fn syntax_error(body: &[u8], e: &serde_json::Error) -> String {
    if e.is_eof() {
        return "unexpected EOF".to_owned();
    }
    let full = e.to_string();
    let msg = full.rsplit_once(" at line ").map_or(full.as_str(), |(m, _)| m);
    let ch = char_at(body, e.line(), e.column());
    let context = match msg {
        "expected value" => "looking for beginning of value",
        "key must be a string" => "looking for beginning of object key string",
        "expected `:`" => "after object key",
        "expected `,` or `}`" => "after object key:value pair",
        "expected `,` or `]`" => "after array element",
        "trailing comma" if ch == Some('}') => "looking for beginning of object key string",
        "trailing comma" => "looking for beginning of value",
        "expected ident" => return literal_error(body, e.line(), e.column()),
        "invalid number" => "in numeric literal",
        "invalid escape" => "in string escape code",
        m if m.starts_with("control character") => "in string literal",
        _ => return msg.to_owned(),
    };
    match ch {
        Some(c) => format!("invalid character {} {context}", go_quote_char(c)),
        None => "unexpected EOF".to_owned(),
    }
}

/// Go's `invalid character 'x' in literal true (expecting 'r')`.
fn literal_error(body: &[u8], line: usize, column: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let Some(l) = line.checked_sub(1).and_then(|i| text.split('\n').nth(i)) else {
        return "unexpected EOF".to_owned();
    };
    let idx = column.saturating_sub(1).min(l.len());
    let Some(bad) = l.get(idx..).and_then(|s| s.chars().next()) else {
        return "unexpected EOF".to_owned();
    };
    let Some(before) = l.get(..idx) else {
        return "unexpected EOF".to_owned();
    };
    let start = before.rfind(|c: char| !c.is_ascii_lowercase()).map_or(0, |i| i + 1);
    let literal = match l.as_bytes().get(start) {
        Some(b't') => "true",
        Some(b'f') => "false",
        _ => "null",
    };
    match literal.as_bytes().get(idx - start) {
        Some(&want) => {
            format!(
                "invalid character {} in literal {literal} (expecting {})",
                go_quote_char(bad),
                go_quote_char(want as char)
            )
        }
        None => format!("invalid character {} after array element", go_quote_char(bad)),
    }
}

/// The character serde_json points at (1-based line, 1-based column counted in bytes).
fn char_at(body: &[u8], line: usize, column: usize) -> Option<char> {
    let text = String::from_utf8_lossy(body);
    let l = text.split('\n').nth(line.checked_sub(1)?)?;
    let idx = column.checked_sub(1)?;
    l.get(idx..).and_then(|s| s.chars().next()).or_else(|| l.get(idx.saturating_sub(1)..)?.chars().next())
}

/// Go's `quoteChar`.
fn go_quote_char(c: char) -> String {
    match c {
        '\'' => r"'\''".to_owned(),
        '"' => "'\"'".to_owned(),
        c => {
            let q = go_quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn unmarshal_value(v: &Value, go_type: &str) -> String {
    format!("json: cannot unmarshal {} into Go value of type {go_type}", json_kind(v))
}

fn unmarshal_field(v: &Value, field: &str, go_type: &str) -> String {
    format!("json: cannot unmarshal {} into Go struct field {field} of type {go_type}", json_kind(v))
}

/// A key, matched case-insensitively like Go's decoder (an exact match wins).
fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn opt_string(v: Option<&Value>, field: &str) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(unmarshal_field(other, field, "string")),
    }
}

fn opt_bool(v: Option<&Value>, field: &str) -> Result<Option<bool>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(unmarshal_field(other, field, "bool")),
    }
}

fn opt_time(v: Option<&Value>, field: &str) -> Result<Option<Timestamp>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => datetime::parse(s).map(Some),
        Some(other) => Err(unmarshal_field(other, field, "string")),
    }
}

/// A `labelSet`; `null` values decode to "" as in Go.
fn label_set(v: Option<&Value>, field: &str) -> Result<Option<LabelSet>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => {
            let mut ls = LabelSet::new();
            for (k, v) in m {
                match v {
                    Value::String(s) => ls.insert(k.clone(), s.clone()),
                    Value::Null => ls.insert(k.clone(), ""),
                    other => return Err(unmarshal_field(other, field, "string")),
                };
            }
            Ok(Some(ls))
        }
        Some(other) => Err(unmarshal_field(other, field, "models.LabelSet")),
    }
}

/// One alert object; the flag says whether `labels` was present and non-null.
fn decode_alert(obj: Map<String, Value>) -> Result<(PostableAlert, bool), String> {
    // Upstream decodes the alert twice: first its own fields, then the embedded `Alert` ones.
    let annotations = label_set(get(&obj, "annotations"), ".annotations")?.unwrap_or_default();
    let ends_at = opt_time(get(&obj, "endsAt"), ".endsAt")?;
    let starts_at = opt_time(get(&obj, "startsAt"), ".startsAt")?;
    let generator_url = opt_string(get(&obj, "generatorURL"), "Alert.generatorURL")?.unwrap_or_default();
    let generator_url = tocsin_model::alert::intern_generator_url(&generator_url);
    let labels = label_set(get(&obj, "labels"), "Alert.labels")?;
    let has_labels = labels.is_some();
    let alert =
        PostableAlert { labels: labels.unwrap_or_default(), annotations, starts_at, ends_at, generator_url };
    Ok((alert, has_labels))
}

#[derive(Debug, Default)]
struct RawMatcher {
    name: Option<String>,
    value: Option<String>,
    is_regex: Option<bool>,
    is_equal: Option<bool>,
}

fn decode_matcher(v: &Value) -> Result<Option<RawMatcher>, String> {
    let obj = match v {
        Value::Null => return Ok(None),
        Value::Object(obj) => obj,
        other => return Err(unmarshal_field(other, "Silence.matchers", "models.Matcher")),
    };
    Ok(Some(RawMatcher {
        is_equal: opt_bool(get(obj, "isEqual"), "Matcher.matchers.isEqual")?,
        is_regex: opt_bool(get(obj, "isRegex"), "Matcher.matchers.isRegex")?,
        name: opt_string(get(obj, "name"), "Matcher.matchers.name")?,
        value: opt_string(get(obj, "value"), "Matcher.matchers.value")?,
    }))
}

/// go-openapi's `uri` format: Go's `url.ParseRequestURI` succeeds.
pub fn is_request_uri(s: &str) -> bool {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return false;
    }
    if s == "*" {
        return true;
    }
    let rest = match scheme_split(s) {
        Some((_, rest)) => rest,
        None if s.starts_with('/') => s,
        None => return false,
    };
    let rest = rest.split_once('?').map_or(rest, |(p, _)| p);
    if !rest.starts_with('/') {
        // Opaque (`mailto:x`): accepted as is.
        return true;
    }
    let path = match rest.strip_prefix("//") {
        Some(after) => {
            let (authority, path) = after.find('/').map_or((after, ""), |i| after.split_at(i));
            if !valid_authority(authority) {
                return false;
            }
            path
        }
        None => rest,
    };
    valid_escapes(path)
}

/// `getScheme`: a letter, then letters, digits, `+`, `-`, `.`, up to `:`.
fn scheme_split(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic() || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return None;
    }
    Some((scheme, rest))
}

fn valid_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

fn valid_authority(authority: &str) -> bool {
    let (userinfo, host) = authority.rsplit_once('@').map_or(("", authority), |(u, h)| (u, h));
    if !userinfo.chars().all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c)) {
        return false;
    }
    let (host, port) = if let Some(v6) = host.strip_prefix('[') {
        match v6.split_once(']') {
            Some((_, after)) => ("", after),
            None => return false,
        }
    } else {
        match host.rfind(':') {
            Some(i) => host.split_at(i),
            None => (host, ""),
        }
    };
    let port_ok =
        port.is_empty() || port.strip_prefix(':').is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !port_ok {
        return false;
    }
    host.chars().all(|c| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:[]<>\"%".contains(c) || !c.is_ascii())
        && valid_escapes(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> String {
        match postable_alerts(body.as_bytes()) {
            Err(ApiError::Framework { message, .. }) => message,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_like_go() {
        // Measured on Alertmanager 0.25.
        let cases = [
            ("[x]", "invalid character 'x' looking for beginning of value"),
            (r#"[{"labels" 1}]"#, "invalid character '1' after object key"),
            ("[1 2]", "invalid character '2' after array element"),
            (r#"["\x"]"#, "invalid character 'x' in string escape code"),
            (r#"[{"labels":{"a":"b"}},]"#, "invalid character ']' looking for beginning of value"),
            ("[-]", "invalid character ']' in numeric literal"),
            ("[tx]", "invalid character 'x' in literal true (expecting 'r')"),
        ];
        for (body, want) in cases {
            assert_eq!(
                message(body),
                format!("parsing alerts body from \"\" failed, because {want}"),
                "{body}"
            );
        }
    }

    #[test]
    fn request_uri_table() {
        // Measured on Alertmanager 0.25 (`generatorURL` accepted or 422).
        let cases = [
            ("/a b", true),
            ("http://x y/", false),
            ("mailto:x", true),
            ("http://", true),
            ("x:y", true),
            ("http://a/%zz", false),
            ("http://[::1]:90/x", true),
            ("HTTP://a", true),
            ("1http://a", false),
            ("http://a b", false),
            ("*", true),
            ("http://a/\u{1}", false),
            ("//host/p", true),
            ("a?b", false),
            ("relative/path", false),
            ("::not a url", false),
        ];
        for (s, want) in cases {
            assert_eq!(is_request_uri(s), want, "{s}");
        }
    }
}
