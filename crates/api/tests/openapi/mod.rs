//! A small Swagger 2.0 response validator for the contract test: `$ref`, `allOf`, `type`, `required`,
//! `properties`, `additionalProperties`, `items`, `minItems`, `enum`, formats `date-time`, `uuid`, `uri`.
//!
//! Stricter than Swagger on one point, on purpose: an object schema with `properties` and no
//! `additionalProperties` rejects unknown fields, so a field we add that Alertmanager does not have fails the build.

use serde_json::{Map, Value};
use std::path::PathBuf;

pub struct Spec {
    root: Value,
}

impl Spec {
    /// The crate's copy of the spec, or the shared reference when the copy is missing.
    pub fn load() -> Spec {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let copy = dir.join("tests/openapi/alertmanager-openapi.yaml");
        let shared = dir.join("../../../shared/reference/alertmanager-openapi.yaml");
        let path = if copy.exists() { copy } else { shared };
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("spec is YAML");
        let root = serde_json::to_value(yaml).expect("spec converts to JSON");
        Spec { root }
    }

    /// Validates a response body against the spec's schema for `(path template, method, status)`. A response
    /// without a schema must have an empty body.
    pub fn check_response(&self, path: &str, method: &str, status: u16, body: &[u8]) -> Result<(), String> {
        let op = self
            .root
            .pointer(&format!("/paths/{}/{}", escape(path), method.to_ascii_lowercase()))
            .ok_or_else(|| format!("no operation {method} {path} in the spec"))?;
        let mut resp = op
            .pointer(&format!("/responses/{status}"))
            .ok_or_else(|| format!("{method} {path}: status {status} not in the spec"))?;
        if let Some(r) = resp.get("$ref").and_then(Value::as_str) {
            resp = self.resolve(r)?;
        }
        match resp.get("schema") {
            None if body.is_empty() => Ok(()),
            None => Err(format!(
                "{method} {path} {status}: spec has no body, got {}",
                String::from_utf8_lossy(body)
            )),
            Some(schema) => {
                let v: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
                self.validate(schema, &v, "body")
            }
        }
    }

    fn resolve(&self, r: &str) -> Result<&Value, String> {
        let ptr = r.strip_prefix('#').ok_or_else(|| format!("external $ref {r}"))?;
        self.root.pointer(ptr).ok_or_else(|| format!("dangling $ref {r}"))
    }

    /// Resolves `$ref` and merges `allOf` parts into one object schema.
    fn flatten(&self, schema: &Value) -> Result<Value, String> {
        let mut schema = schema.clone();
        while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            schema = self.resolve(r)?.clone();
        }
        let Some(parts) = schema.get("allOf").and_then(Value::as_array).cloned() else {
            return Ok(schema);
        };
        let mut props = Map::new();
        let mut required = Vec::new();
        for p in parts {
            let p = self.flatten(&p)?;
            if let Some(m) = p.get("properties").and_then(Value::as_object) {
                props.extend(m.clone());
            }
            if let Some(r) = p.get("required").and_then(Value::as_array) {
                required.extend(r.clone());
            }
        }
        Ok(serde_json::json!({"type": "object", "properties": props, "required": required}))
    }

    pub fn validate(&self, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
        let s = self.flatten(schema)?;
        if let Some(t) = s.get("type").and_then(Value::as_str) {
            let ok = match t {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "boolean" => v.is_boolean(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                other => return Err(format!("{at}: unsupported type {other}")),
            };
            if !ok {
                return Err(format!("{at}: want {t}, got {v}"));
            }
        }
        if let Some(allowed) = s.get("enum").and_then(Value::as_array) {
            if !allowed.contains(v) {
                return Err(format!("{at}: {v} not in enum {allowed:?}"));
            }
        }
        if let (Some(f), Some(text)) = (s.get("format").and_then(Value::as_str), v.as_str()) {
            check_format(f, text).map_err(|e| format!("{at}: {e}"))?;
        }
        if let Some(obj) = v.as_object() {
            for r in s.get("required").and_then(Value::as_array).into_iter().flatten() {
                let name = r.as_str().unwrap_or_default();
                if !obj.contains_key(name) {
                    return Err(format!("{at}: required property {name} missing"));
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            for (k, val) in obj {
                let at = format!("{at}.{k}");
                match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                    (Some(ps), _) => self.validate(ps, val, &at)?,
                    (None, Some(Value::Bool(false))) => return Err(format!("{at}: not allowed")),
                    (None, Some(ap)) if ap.is_object() => self.validate(ap, val, &at)?,
                    (None, _) if props.is_some() => return Err(format!("{at}: not in the spec")),
                    (None, _) => {}
                }
            }
        }
        if let Some(items) = v.as_array() {
            if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
                if (items.len() as u64) < min {
                    return Err(format!("{at}: fewer than {min} items"));
                }
            }
            if let Some(is) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.validate(is, item, &format!("{at}.{i}"))?;
                }
            }
        }
        Ok(())
    }
}

fn escape(path: &str) -> String {
    path.replace('~', "~0").replace('/', "~1")
}

fn check_format(format: &str, s: &str) -> Result<(), String> {
    let ok = match format {
        "date-time" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        "uuid" => uuid::Uuid::parse_str(s).is_ok() && s.len() == 36,
        "uri" => tocsin_api::decode::is_request_uri(s),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{s:?} is not a valid {format}"))
    }
}
