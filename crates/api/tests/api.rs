//! API tests through `warp::test` (no sockets). Expected bodies of error cases were captured from the real
//! Alertmanager 0.25 on 127.0.0.1 (see the comments where tocsin follows a later version on purpose). Every 2xx
//! body is validated against the OpenAPI contract (tests/openapi), so a drift fails the build.

mod openapi;

use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};
use futures::future::BoxFuture;
use parking_lot::RwLock;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use tocsin_api::models::{ClusterState, ClusterStatus, PeerStatus};
use tocsin_api::*;
use tocsin_config::ParseMode;
use tocsin_model::clock::ManualClock;
use tocsin_state::{AlertStore, Silences, SilencesOptions};
use warp::http::Response;

const CONFIG: &str = r#"
global:
  resolve_timeout: 5m
route:
  receiver: default
  routes:
    - matchers: [team="b"]
      receiver: team-b
receivers:
  - name: default
  - name: team-b
"#;

#[derive(Debug)]
struct FakeReloader(Result<(), String>);

impl Reloader for FakeReloader {
    fn reload(&self) -> BoxFuture<'_, Result<(), String>> {
        let r = self.0.clone();
        Box::pin(async move { r })
    }
}

struct Opts {
    mode: ParseMode,
    prefix: &'static str,
    limit: u64,
    reload: Result<(), String>,
    cluster: Arc<dyn ClusterStatusSource>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            mode: ParseMode::Fallback,
            prefix: "/",
            limit: DEFAULT_MAX_REQUEST_BODY_BYTES,
            reload: Ok(()),
            cluster: Arc::new(ClusterDisabled),
        }
    }
}

fn now0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

struct H {
    api: Arc<Api>,
    clock: Arc<ManualClock>,
    spec: openapi::Spec,
}

fn harness(o: Opts) -> H {
    let clock = Arc::new(ManualClock::new(now0()));
    let config = tocsin_config::load_str(CONFIG, Path::new("."), o.mode).expect("test config loads");
    let names = match o.mode {
        ParseMode::Classic => tocsin_model::labels::NameValidation::Classic,
        _ => tocsin_model::labels::NameValidation::Utf8,
    };
    let api = Api::new(ApiDeps {
        alerts: Arc::new(AlertStore::new(clock.clone())),
        silences: Arc::new(Silences::new(SilencesOptions { names, ..Default::default() }, clock.clone())),
        config: Arc::new(RwLock::new(Arc::new(config))),
        cluster: o.cluster,
        reloader: Arc::new(FakeReloader(o.reload)),
        router: None,
        registry: Arc::new(RwLock::new(prometheus_client::registry::Registry::default())),
        version: build_version_info(),
        start_time: now0() - chrono::Duration::hours(1),
        clock: clock.clone(),
        options: ApiOptions {
            route_prefix: o.prefix.to_owned(),
            parse_mode: o.mode,
            max_request_body_bytes: o.limit,
        },
    });
    H { api, clock, spec: openapi::Spec::load() }
}

impl H {
    async fn req(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response<Bytes> {
        let mut r = warp::test::request().method(method).path(path);
        if let Some(b) = body {
            r = r.header("content-type", "application/json").body(b);
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.reply(&routes(Arc::clone(&self.api))).await
    }

    /// An API v2 call whose 2xx body is checked against the spec operation `template`.
    async fn call(&self, method: &str, path: &str, template: &str, body: Option<&str>) -> (u16, Value) {
        let resp = self.req(method, path, body, &[]).await;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            if let Err(e) = self.spec.check_response(template, method, status, resp.body()) {
                panic!("{method} {path}: contract violation: {e}");
            }
        }
        let v = if resp.body().is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(resp.body()).expect("JSON body")
        };
        (status, v)
    }

    async fn post_alerts(&self, body: &str) -> (u16, Value) {
        self.call("POST", "/api/v2/alerts", "/alerts", Some(body)).await
    }

    async fn get_alerts(&self, query: &str) -> Vec<Value> {
        let (s, v) = self.call("GET", &format!("/api/v2/alerts{query}"), "/alerts", None).await;
        assert_eq!(s, 200, "{v}");
        v.as_array().expect("array").clone()
    }
}

fn text(r: &Response<Bytes>) -> String {
    String::from_utf8_lossy(r.body()).into_owned()
}

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    body: &'static str,
    want_status: u16,
    want_body: &'static str,
}

/// Every bad input of issue 2 point 8, with 0.25's status and body (0.25 in classic mode for label names).
#[tokio::test]
async fn bad_input_matches_alertmanager() {
    let j = Some("application/json");
    let sil = |s| s;
    let cases = [
        Case {
            name: "form content type",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: Some("application/x-www-form-urlencoded"),
            body: "[]",
            want_status: 415,
            want_body: r#"{"code":415,"message":"unsupported media type \"application/x-www-form-urlencoded\", only [application/json] are allowed"}"#,
        },
        Case {
            name: "text/plain",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: Some("text/plain"),
            body: "[]",
            want_status: 415,
            want_body: r#"{"code":415,"message":"unsupported media type \"text/plain\", only [application/json] are allowed"}"#,
        },
        Case {
            name: "bad mime",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: Some("bad//"),
            body: "[]",
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing Content-Type header from \"bad//\" failed, because mime: expected token after slash"}"#,
        },
        Case {
            name: "empty body",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: "",
            want_status: 422,
            want_body: r#"{"code":602,"message":"alerts in body is required"}"#,
        },
        Case {
            name: "blank body",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: "  ",
            want_status: 422,
            want_body: r#"{"code":602,"message":"alerts in body is required"}"#,
        },
        Case {
            name: "object not array",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: "{}",
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal object into Go value of type models.PostableAlerts"}"#,
        },
        Case {
            name: "truncated",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{"a":"b"}"#,
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because unexpected EOF"}"#,
        },
        Case {
            name: "truncated literal",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: "tru",
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because unexpected EOF"}"#,
        },
        Case {
            name: "trailing comma",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{"a":"b"},}]"#,
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because invalid character '}' looking for beginning of object key string"}"#,
        },
        Case {
            name: "bad date",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{"a":"b"},"startsAt":"notadate"}]"#,
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because parsing time \"notadate\" as \"2006-01-02 15:04:05\": cannot parse \"notadate\" as \"2006\""}"#,
        },
        Case {
            name: "date only",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{"a":"b"},"startsAt":"2026-01-01"}]"#,
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because parsing time \"2026-01-01\" as \"2006-01-02 15:04:05\": cannot parse \"\" as \"15\""}"#,
        },
        Case {
            name: "number date",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{"a":"b"},"startsAt":5}]"#,
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal number into Go struct field .startsAt of type string"}"#,
        },
        Case {
            name: "number label value",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{"a":1}}]"#,
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal number into Go struct field Alert.labels of type string"}"#,
        },
        Case {
            name: "string labels",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":"x"}]"#,
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal string into Go struct field Alert.labels of type models.LabelSet"}"#,
        },
        Case {
            name: "array annotations",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{"a":"b"},"annotations":[]}]"#,
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal array into Go struct field .annotations of type models.LabelSet"}"#,
        },
        Case {
            name: "number generatorURL",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{"a":"b"},"generatorURL":5}]"#,
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal number into Go struct field Alert.generatorURL of type string"}"#,
        },
        Case {
            name: "number element",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: "[1]",
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal number into Go value of type struct { Annotations models.LabelSet \"json:\\\"annotations,omitempty\\\"\"; EndsAt strfmt.DateTime \"json:\\\"endsAt,omitempty\\\"\"; StartsAt strfmt.DateTime \"json:\\\"startsAt,omitempty\\\"\" }"}"#,
        },
        Case {
            name: "missing labels",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: "[{}]",
            want_status: 422,
            want_body: r#"{"code":602,"message":"0.labels in body is required"}"#,
        },
        Case {
            name: "null labels",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":null}]"#,
            want_status: 422,
            want_body: r#"{"code":602,"message":"0.labels in body is required"}"#,
        },
        Case {
            name: "bad uri",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{"a":"b"},"generatorURL":"::not a url"}]"#,
            want_status: 422,
            want_body: r#"{"code":601,"message":"0.generatorURL in body must be of type uri: \"::not a url\""}"#,
        },
        Case {
            name: "uri before labels",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"generatorURL":"bad url"}]"#,
            want_status: 422,
            want_body: r#"{"code":601,"message":"0.generatorURL in body must be of type uri: \"bad url\""}"#,
        },
        Case {
            name: "second item uri",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{"a":"b"}},{"labels":{"a":"b"},"generatorURL":"x"}]"#,
            want_status: 422,
            want_body: r#"{"code":601,"message":"1.generatorURL in body must be of type uri: \"x\""}"#,
        },
        Case {
            name: "empty labels",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{}}]"#,
            want_status: 400,
            want_body: r#""at least one label pair required""#,
        },
        Case {
            name: "end before start",
            method: "POST",
            path: "/api/v2/alerts",
            content_type: j,
            body: r#"[{"labels":{"a":"b"},"startsAt":"2026-01-02T00:00:00Z","endsAt":"2026-01-01T00:00:00Z"}]"#,
            want_status: 400,
            want_body: r#""start time must be before end time""#,
        },
        // Silences.
        Case {
            name: "silence empty body",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: sil(""),
            want_status: 422,
            want_body: r#"{"code":602,"message":"silence in body is required"}"#,
        },
        Case {
            name: "silence array",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: "[]",
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing silence body from \"\" failed, because json: cannot unmarshal array into Go value of type struct { ID string \"json:\\\"id,omitempty\\\"\" }"}"#,
        },
        Case {
            name: "silence empty object",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: "{}",
            want_status: 422,
            want_body: r#"{"code":602,"message":"comment in body is required"}"#,
        },
        Case {
            name: "no matchers",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":[],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"a","comment":"c"}"#,
            want_status: 422,
            want_body: r#"{"code":612,"message":"matchers in body should have at least 1 items"}"#,
        },
        Case {
            name: "null matchers",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":null,"startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"","comment":""}"#,
            want_status: 422,
            want_body: r#"{"code":602,"message":"matchers in body is required"}"#,
        },
        Case {
            name: "no isRegex",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":[{"name":"a","value":"b"}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"a","comment":"c"}"#,
            want_status: 422,
            want_body: r#"{"code":602,"message":"matchers.0.isRegex in body is required"}"#,
        },
        Case {
            name: "no value",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":[{"name":"a","isRegex":false}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"","comment":""}"#,
            want_status: 422,
            want_body: r#"{"code":602,"message":"matchers.0.value in body is required"}"#,
        },
        Case {
            name: "no startsAt",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":[{"name":"a","value":"b","isRegex":false}],"endsAt":"2030-01-01T00:00:00Z","createdBy":"a","comment":"c"}"#,
            want_status: 422,
            want_body: r#"{"code":602,"message":"startsAt in body is required"}"#,
        },
        Case {
            name: "endsAt before matchers",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":[{}],"createdBy":"","comment":""}"#,
            want_status: 422,
            want_body: r#"{"code":602,"message":"endsAt in body is required"}"#,
        },
        Case {
            name: "string isRegex",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":[{"name":"a","value":"b","isRegex":"no"}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"","comment":""}"#,
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing silence body from \"\" failed, because json: cannot unmarshal string into Go struct field Matcher.matchers.isRegex of type bool"}"#,
        },
        Case {
            name: "object matchers",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":{},"startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"","comment":""}"#,
            want_status: 400,
            want_body: r#"{"code":400,"message":"parsing silence body from \"\" failed, because json: cannot unmarshal object into Go struct field Silence.matchers of type models.Matchers"}"#,
        },
        Case {
            name: "matches empty",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":[{"name":"a","value":"","isRegex":false}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"","comment":""}"#,
            want_status: 400,
            want_body: r#""silence invalid: at least one matcher must not match the empty string""#,
        },
        Case {
            name: "empty name",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":[{"name":"","value":"b","isRegex":false}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"","comment":""}"#,
            want_status: 400,
            want_body: r#""silence invalid: invalid label matcher 0: invalid label name \"\"""#,
        },
        Case {
            name: "start after end",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2030-01-01T00:00:00Z","endsAt":"2029-01-01T00:00:00Z","createdBy":"","comment":""}"#,
            want_status: 400,
            want_body: r#""Failed to create silence: start time must be before end time""#,
        },
        Case {
            name: "end in past",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2021-01-01T00:00:00Z","createdBy":"","comment":""}"#,
            want_status: 400,
            want_body: r#""Failed to create silence: end time can't be in the past""#,
        },
        Case {
            name: "unknown id",
            method: "POST",
            path: "/api/v2/silences",
            content_type: j,
            body: r#"{"id":"5b2b6d0f-0000-4000-8000-000000000000","matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"","comment":""}"#,
            want_status: 404,
            want_body: r#""silence not found""#,
        },
        // Filters and paths.
        Case {
            name: "filter braces",
            method: "GET",
            path: "/api/v2/alerts?filter=%7Balertname%3D%22A%22%7D",
            content_type: None,
            body: "",
            want_status: 400,
            want_body: "",
        },
        Case {
            name: "bad silence filter",
            method: "GET",
            path: "/api/v2/silences?filter=bad",
            content_type: None,
            body: "",
            want_status: 400,
            want_body: "",
        },
        Case {
            name: "not a uuid",
            method: "GET",
            path: "/api/v2/silence/notauuid",
            content_type: None,
            body: "",
            want_status: 422,
            want_body: r#"{"code":601,"message":"silenceID in path must be of type uuid: \"notauuid\""}"#,
        },
        Case {
            name: "delete not a uuid",
            method: "DELETE",
            path: "/api/v2/silence/notauuid",
            content_type: None,
            body: "",
            want_status: 422,
            want_body: r#"{"code":601,"message":"silenceID in path must be of type uuid: \"notauuid\""}"#,
        },
        Case {
            name: "unknown silence",
            method: "GET",
            path: "/api/v2/silence/5b2b6d0f-0000-4000-8000-000000000000",
            content_type: None,
            body: "",
            want_status: 404,
            want_body: "",
        },
        // 0.25 answers 500 "silence not found"; 0.26+ 404 with no body.
        Case {
            name: "delete unknown silence",
            method: "DELETE",
            path: "/api/v2/silence/5b2b6d0f-0000-4000-8000-000000000000",
            content_type: None,
            body: "",
            want_status: 404,
            want_body: "",
        },
        Case {
            name: "unknown path",
            method: "GET",
            path: "/api/v2/nonexistent",
            content_type: None,
            body: "",
            want_status: 404,
            want_body: r#"{"code":404,"message":"path /api/v2/nonexistent was not found"}"#,
        },
        Case {
            name: "api root",
            method: "GET",
            path: "/api/v2/",
            content_type: None,
            body: "",
            want_status: 404,
            want_body: r#"{"code":404,"message":"path /api/v2/ was not found"}"#,
        },
        Case {
            name: "wrong method",
            method: "PATCH",
            path: "/api/v2/status",
            content_type: None,
            body: "",
            want_status: 405,
            want_body: r#"{"code":405,"message":"method PATCH is not allowed, but [GET] are"}"#,
        },
        Case {
            name: "receiver regex",
            method: "GET",
            path: "/api/v2/alerts?receiver=(",
            content_type: None,
            body: "",
            want_status: 400,
            want_body: "",
        },
    ];
    let h = harness(Opts::default());
    for c in cases {
        let mut r = warp::test::request().method(c.method).path(c.path);
        if let Some(ct) = c.content_type {
            r = r.header("content-type", ct);
        }
        if !c.body.is_empty() || c.method == "POST" {
            r = r.body(c.body);
        }
        let resp = r.reply(&routes(Arc::clone(&h.api))).await;
        assert_eq!(resp.status().as_u16(), c.want_status, "{}: {}", c.name, text(&resp));
        if !c.want_body.is_empty() {
            assert_eq!(text(&resp), c.want_body, "{}", c.name);
        }
        assert_eq!(resp.headers()["vary"], "Origin", "{}", c.name);
        if resp.body().is_empty() {
            assert!(resp.headers().get("content-type").is_none(), "{}", c.name);
        } else {
            assert_eq!(resp.headers()["content-type"], "application/json", "{}", c.name);
        }
    }
}

#[tokio::test]
async fn filter_and_receiver_errors_are_json_strings() {
    let h = harness(Opts { mode: ParseMode::Classic, ..Opts::default() });
    let (s, v) = h.call("GET", "/api/v2/alerts?filter=bad", "/alerts", None).await;
    assert_eq!((s, v), (400, json!("bad matcher format: bad")));
    let (s, v) = h.call("GET", "/api/v2/alerts?filter=%7Balertname%3D%22A%22%7D", "/alerts", None).await;
    assert_eq!((s, v), (400, json!("bad matcher format: {alertname=\"A\"}")));
    let (s, v) = h.call("GET", "/api/v2/alerts?receiver=(", "/alerts", None).await;
    assert_eq!(s, 400);
    assert!(v.as_str().unwrap().starts_with("failed to parse receiver param: error parsing regexp: "), "{v}");
    assert!(v.as_str().unwrap().ends_with(": `^(?:()$`"), "{v}");
}

#[tokio::test]
async fn classic_mode_label_names_and_mixed_batch() {
    let h = harness(Opts { mode: ParseMode::Classic, ..Opts::default() });
    let (s, v) =
        h.post_alerts(r#"[{"labels":{"bad-name":"x"}},{"labels":{"alertname":"ok"}},{"labels":{}}]"#).await;
    assert_eq!(s, 400);
    assert_eq!(v, json!("invalid label set: invalid name \"bad-name\"; at least one label pair required"));
    let alerts = h.get_alerts("").await;
    assert_eq!(alerts.len(), 1, "the valid alert of the batch is stored");
    assert_eq!(alerts[0]["labels"], json!({"alertname": "ok"}));
    let (s, v) = h.post_alerts(r#"[{"labels":{"a":"b"},"annotations":{"bad-name":"x"}}]"#).await;
    assert_eq!((s, v), (400, json!("invalid annotations: invalid name \"bad-name\"")));
    let (s, v) = h
        .call(
            "POST",
            "/api/v2/silences",
            "/silences",
            Some(r#"{"matchers":[{"name":"bad-name","value":"b","isRegex":false}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"","comment":""}"#),
        )
        .await;
    assert_eq!(
        (s, v),
        (400, json!("silence invalid: invalid label matcher 0: invalid label name \"bad-name\""))
    );
    let (s, v) = h
        .call(
            "POST",
            "/api/v2/silences",
            "/silences",
            Some(r#"{"matchers":[{"name":"a","value":"(","isRegex":true}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","createdBy":"","comment":""}"#),
        )
        .await;
    assert_eq!(s, 400);
    assert!(v.as_str().unwrap().starts_with("silence invalid: invalid label matcher 0: invalid regular expression \"(\": error parsing regexp: "), "{v}");
    // Default (0.27+ fallback) mode accepts UTF-8 names.
    let h = harness(Opts::default());
    assert_eq!(h.post_alerts(r#"[{"labels":{"bad-name":"x"}}]"#).await.0, 200);
}

#[tokio::test]
async fn post_and_get_alerts() {
    let h = harness(Opts::default());
    let (s, v) = h
        .post_alerts(
            r#"[{"labels":{"alertname":"A","team":"b","empty":""},"annotations":{"x":"y"},"generatorURL":"http://g/x"},
                {"labels":{"alertname":"B"},"startsAt":"2026-11-26T10:00:00.123456+02:00"},
                {"labels":{"alertname":"C"},"startsAt":"2026-11-26T10:00:00Z","endsAt":"2026-11-26T11:00:00Z"}]"#,
        )
        .await;
    assert_eq!((s, v), (200, Value::Null));
    let resp = h.req("POST", "/api/v2/alerts", Some("[]"), &[]).await;
    assert_eq!(resp.headers()["content-length"], "0");
    assert!(resp.headers().get("content-type").is_none());
    assert_eq!(resp.headers()["cache-control"], "no-store");

    let alerts = h.get_alerts("").await;
    assert_eq!(alerts.len(), 2, "resolved C is hidden: {alerts:?}");
    let fps: Vec<&str> = alerts.iter().map(|a| a["fingerprint"].as_str().unwrap()).collect();
    let mut sorted = fps.clone();
    sorted.sort();
    assert_eq!(fps, sorted, "sorted by fingerprint");
    // Fingerprints as measured on 0.25.
    let a = alerts.iter().find(|a| a["labels"]["alertname"] == "A").unwrap();
    assert_eq!(a["fingerprint"], "a0bc776337276a7c");
    assert_eq!(a["labels"], json!({"alertname":"A","team":"b"}), "empty label dropped");
    assert_eq!(a["receivers"], json!([{"name":"team-b"}]));
    assert_eq!(a["generatorURL"], "http://g/x");
    assert_eq!(a["startsAt"], "2026-11-26T12:00:00.000Z");
    assert_eq!(a["endsAt"], "2026-11-26T12:05:00.000Z", "now + resolve_timeout");
    assert_eq!(a["status"], json!({"inhibitedBy":[],"mutedBy":[],"silencedBy":[],"state":"active"}));
    let b = alerts.iter().find(|a| a["labels"]["alertname"] == "B").unwrap();
    assert_eq!(b["fingerprint"], "d2c2efc389db2050");
    assert_eq!(b["startsAt"], "2026-11-26T10:00:00.123+02:00", "client offset kept");
    assert!(b.get("generatorURL").is_none(), "omitted when empty, as 0.25");
    assert_eq!(b["receivers"], json!([{"name":"default"}]));

    // Filters.
    assert_eq!(h.get_alerts("?filter=alertname%3DA").await.len(), 1);
    assert_eq!(h.get_alerts("?filter=alertname%3D~%22A%7CB%22").await.len(), 2);
    assert_eq!(h.get_alerts("?filter=alertname%3D~A.&filter=team%3Db").await.len(), 0);
    assert_eq!(h.get_alerts("?receiver=team-b").await.len(), 1);
    assert_eq!(h.get_alerts("?receiver=team").await.len(), 0, "receiver regex is anchored");
    // API filter quirk: `team=""` is skipped for B (no team) and false for A; `team!=""` the other way round.
    let only = |v: Vec<Value>| {
        v.iter().map(|a| a["labels"]["alertname"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(only(h.get_alerts("?filter=team%3D%22%22").await), ["B"]);
    assert_eq!(only(h.get_alerts("?filter=team!%3D%22%22").await), ["A"]);
    assert_eq!(h.get_alerts("?active=false").await.len(), 0);
    assert_eq!(h.get_alerts("?active=notbool").await.len(), 0, "0.25 reads a bad bool as false");
    assert_eq!(h.get_alerts("?unprocessed=false").await.len(), 2, "unprocessed is ignored");
    assert_eq!(h.get_alerts("?silenced=false&inhibited=false").await.len(), 2);

    // Time passes: the derived ends (now + resolve_timeout) pass and both disappear from the API.
    h.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(h.get_alerts("").await.len(), 0);
    assert_eq!(h.api.alerts.len(), 3, "still stored until GC");
}

/// Above 20,000 alerts the list is rendered on several threads and joined: the result must be what one thread
/// writes, in fingerprint order, with filters applied in every part.
#[tokio::test]
async fn a_large_list_rendered_in_parts_is_one_sorted_valid_list() {
    let h = harness(Opts::default());
    for batch in 0..25 {
        let body: Vec<String> = (0..1000)
            .map(|i| {
                let n = batch * 1000 + i;
                format!(r#"{{"labels":{{"alertname":"Big","n":"{n}","team":"{}"}},"annotations":{{"s":"<{n}>"}}}}"#, if n % 2 == 0 { "b" } else { "x" })
            })
            .collect();
        assert_eq!(h.post_alerts(&format!("[{}]", body.join(","))).await.0, 200);
    }
    let alerts = h.get_alerts("").await;
    assert_eq!(alerts.len(), 25_000);
    let fps: Vec<&str> = alerts.iter().map(|a| a["fingerprint"].as_str().unwrap()).collect();
    assert!(fps.windows(2).all(|w| w[0] < w[1]), "strictly sorted by fingerprint");
    let mut ns: Vec<u64> =
        alerts.iter().map(|a| a["labels"]["n"].as_str().unwrap().parse().unwrap()).collect();
    ns.sort_unstable();
    assert_eq!(ns, (0..25_000).collect::<Vec<_>>(), "every alert exactly once");
    assert!(alerts
        .iter()
        .all(|a| a["annotations"]["s"] == format!("<{}>", a["labels"]["n"].as_str().unwrap())));
    // A filter that keeps half, and one that keeps none (every part empty).
    assert_eq!(h.get_alerts("?filter=team%3Db").await.len(), 12_500);
    assert_eq!(h.get_alerts("?filter=team%3Dnobody").await.len(), 0);
}

#[tokio::test]
async fn empty_string_start_is_unix_epoch_like_strfmt() {
    let h = harness(Opts::default());
    let (s, _) =
        h.post_alerts(r#"[{"labels":{"a":"b"},"startsAt":"","annotations":null,"generatorURL":""}]"#).await;
    assert_eq!(s, 200);
    let alerts = h.get_alerts("").await;
    assert_eq!(alerts[0]["startsAt"], "1970-01-01T00:00:00.000Z");
    assert_eq!(alerts[0]["fingerprint"], "d2b371819297f98a");
    // null body: an empty batch; trailing bytes after the first JSON value are ignored, as Go's decoder does.
    assert_eq!(h.post_alerts("null").await.0, 200);
    assert_eq!(h.post_alerts(r#"[{"labels":{"a":"c"}}] x"#).await.0, 200);
    assert_eq!(h.get_alerts("").await.len(), 2);
}

fn silence_body(id: Option<&str>, matchers: &str, start: &str, end: &str) -> String {
    let id = id.map(|i| format!(r#""id":"{i}","#)).unwrap_or_default();
    format!(
        r#"{{{id}"matchers":{matchers},"startsAt":"{start}","endsAt":"{end}","createdBy":"me","comment":"c"}}"#
    )
}

#[tokio::test]
async fn silences_flow() {
    let h = harness(Opts::default());
    h.post_alerts(r#"[{"labels":{"alertname":"A","team":"b"}},{"labels":{"alertname":"B"}}]"#).await;
    let m = r#"[{"name":"alertname","value":"A","isRegex":false}]"#;
    let (s, v) = h
        .call(
            "POST",
            "/api/v2/silences",
            "/silences",
            Some(&silence_body(None, m, "2026-11-26T11:00:00Z", "2026-11-27T00:00:00Z")),
        )
        .await;
    assert_eq!(s, 200);
    let id = v["silenceID"].as_str().unwrap().to_owned();

    let (s, v) = h.call("GET", &format!("/api/v2/silence/{id}"), "/silence/{silenceID}", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["status"]["state"], "active");
    assert_eq!(v["startsAt"], "2026-11-26T12:00:00.000Z", "a past start moves to now");
    assert_eq!(v["matchers"], json!([{"isEqual":true,"isRegex":false,"name":"alertname","value":"A"}]));

    // The API recomputes silencing on read.
    let alerts = h.get_alerts("").await;
    let a = alerts.iter().find(|a| a["labels"]["alertname"] == "A").unwrap();
    assert_eq!(a["status"]["state"], "suppressed");
    assert_eq!(a["status"]["silencedBy"], json!([id]));
    assert_eq!(h.get_alerts("?silenced=false").await.len(), 1);

    // Update in place: same matchers, same start, later end.
    let (s, v) = h
        .call(
            "POST",
            "/api/v2/silences",
            "/silences",
            Some(&silence_body(Some(&id), m, "2026-11-26T12:00:00Z", "2026-11-28T00:00:00Z")),
        )
        .await;
    assert_eq!((s, v["silenceID"].as_str()), (200, Some(id.as_str())));

    // Changed matchers: a new id, the old one expired.
    let m2 = r#"[{"name":"alertname","value":"B","isRegex":false}]"#;
    let (s, v) = h
        .call(
            "POST",
            "/api/v2/silences",
            "/silences",
            Some(&silence_body(Some(&id), m2, "2026-11-26T12:00:00Z", "2026-11-28T00:00:00Z")),
        )
        .await;
    assert_eq!(s, 200);
    let id2 = v["silenceID"].as_str().unwrap().to_owned();
    assert_ne!(id2, id);
    h.clock.advance(chrono::Duration::seconds(1));
    let (_, v) = h.call("GET", "/api/v2/silences", "/silences", None).await;
    let states: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["status"]["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, vec![(id2.as_str(), "active"), (id.as_str(), "expired")]);

    // Filter: exact matcher equality.
    let (_, v) = h.call("GET", "/api/v2/silences?filter=alertname%3DB", "/silences", None).await;
    assert_eq!(v.as_array().unwrap().len(), 1);

    // Expire, then expiring again is fine; unknown ids are 404.
    let (s, _) = h.call("DELETE", &format!("/api/v2/silence/{id2}"), "/silence/{silenceID}", None).await;
    assert_eq!(s, 200);
    let (s, _) = h.call("DELETE", &format!("/api/v2/silence/{id2}"), "/silence/{silenceID}", None).await;
    assert_eq!(s, 200);
    h.clock.advance(chrono::Duration::seconds(1));
    let (_, v) = h.call("GET", &format!("/api/v2/silence/{id2}"), "/silence/{silenceID}", None).await;
    assert_eq!(v["status"]["state"], "expired");
    let alerts = h.get_alerts("?silenced=false").await;
    assert_eq!(alerts.len(), 2, "nothing silenced any more");
}

#[tokio::test]
async fn status_and_receivers() {
    let h = harness(Opts::default());
    let (s, v) = h.call("GET", "/api/v2/status", "/status", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["cluster"], json!({"peers":[],"status":"disabled"}));
    assert_eq!(v["uptime"], "2026-11-26T11:00:00.000Z");
    assert!(v["config"]["original"].as_str().unwrap().contains("team-b"));
    assert_eq!(v["versionInfo"]["version"], env!("CARGO_PKG_VERSION"));
    let (s, v) = h.call("GET", "/api/v2/receivers", "/receivers", None).await;
    assert_eq!((s, v), (200, json!([{"name":"default"},{"name":"team-b"}])));

    let me = ClusterStatus {
        name: Some("01ABC".into()),
        peers: vec![PeerStatus { address: "127.0.0.1:9094".into(), name: "01ABC".into() }],
        status: ClusterState::Ready,
    };
    let h = harness(Opts { cluster: Arc::new(StaticClusterStatus(me)), ..Opts::default() });
    let (_, v) = h.call("GET", "/api/v2/status", "/status", None).await;
    assert_eq!(
        v["cluster"],
        json!({"name":"01ABC","peers":[{"address":"127.0.0.1:9094","name":"01ABC"}],"status":"ready"})
    );
    let (s, v) = h.call("GET", "/api/v2/alerts/groups", "/alerts/groups", None).await;
    assert_eq!((s, v), (200, json!([])));
}

#[tokio::test]
async fn health_reload_metrics_and_v1() {
    let h = harness(Opts::default());
    for path in ["/-/healthy", "/-/ready"] {
        let r = h.req("GET", path, None, &[]).await;
        assert_eq!((r.status().as_u16(), text(&r)), (200, "OK".to_owned()));
        assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
        assert_eq!(h.req("HEAD", path, None, &[]).await.status(), 200);
        let r = h.req("POST", path, None, &[]).await;
        assert_eq!(r.status(), 405);
        assert_eq!(r.headers()["allow"], "GET, HEAD, OPTIONS");
    }
    let r = h.req("POST", "/-/reload", None, &[]).await;
    assert_eq!((r.status().as_u16(), r.body().len()), (200, 0));
    let r = h.req("GET", "/-/reload", None, &[]).await;
    assert_eq!((r.status().as_u16(), text(&r)), (405, "Method Not Allowed\n".to_owned()));
    assert_eq!(r.headers()["allow"], "OPTIONS, POST");
    let bad = harness(Opts { reload: Err("bad config".into()), ..Opts::default() });
    let r = bad.req("POST", "/-/reload", None, &[]).await;
    assert_eq!((r.status().as_u16(), text(&r)), (500, "failed to reload config: bad config\n".to_owned()));
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");

    h.post_alerts(r#"[{"labels":{"a":"b"}},{"labels":{"a":"c"},"endsAt":"2026-11-26T11:00:00Z","startsAt":"2026-11-26T10:00:00Z"},{"labels":{}}]"#)
        .await;
    let r = h.req("GET", "/metrics", None, &[]).await;
    let m = text(&r);
    assert!(m.contains(r#"alertmanager_alerts_received_total{status="firing",version="v2"} 2"#), "{m}");
    assert!(m.contains(r#"alertmanager_alerts_received_total{status="resolved",version="v2"} 1"#), "{m}");
    assert!(m.contains(r#"alertmanager_alerts_invalid_total{version="v2"} 1"#), "{m}");

    let r = h.req("GET", "/api/v1/alerts", None, &[]).await;
    assert_eq!(r.status(), 410);
    let v: Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(v["status"], "deprecated");
    assert_eq!(h.req("GET", "/nothing", None, &[]).await.status(), 404);
}

#[tokio::test]
async fn cors_and_methods() {
    let h = harness(Opts::default());
    let r = h.req("GET", "/api/v2/receivers", None, &[("origin", "http://x")]).await;
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(r.headers()["vary"], "Origin");
    let r = h.req("GET", "/api/v2/receivers", None, &[]).await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = h
        .req(
            "OPTIONS",
            "/api/v2/alerts",
            None,
            &[("origin", "http://x"), ("access-control-request-method", "POST")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-methods"], "POST");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let r = h.req("PUT", "/api/v2/silence/5b2b6d0f-0000-4000-8000-000000000000", None, &[]).await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "DELETE,GET");
    assert_eq!(text(&r), r#"{"code":405,"message":"method PUT is not allowed, but [DELETE,GET] are"}"#);
    // Trailing slashes are tolerated, as upstream's router does.
    assert_eq!(h.req("GET", "/api/v2/alerts/", None, &[]).await.status(), 200);
}

#[tokio::test]
async fn route_prefix() {
    let h = harness(Opts { prefix: "/am/", ..Opts::default() });
    let r = h.req("GET", "/", None, &[]).await;
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "/am");
    assert_eq!(h.req("GET", "/am/-/healthy", None, &[]).await.status(), 200);
    assert_eq!(h.req("GET", "/-/healthy", None, &[]).await.status(), 404);
    assert_eq!(h.req("GET", "/am/api/v2/status", None, &[]).await.status(), 200);
    assert_eq!(h.req("GET", "/api/v2/status", None, &[]).await.status(), 404);
    assert_eq!(h.req("GET", "/amx/api/v2/status", None, &[]).await.status(), 404);
}

#[tokio::test]
async fn body_size_limit() {
    let h = harness(Opts { limit: 100, ..Opts::default() });
    let big = format!(r#"[{{"labels":{{"a":"{}"}}}}]"#, "x".repeat(200));
    let r = h.req("POST", "/api/v2/alerts", Some(&big), &[]).await;
    assert_eq!(r.status(), 413);
    assert_eq!(text(&r), r#"{"code":413,"message":"http: request body too large"}"#);
    // Still healthy and still accepting small batches.
    assert_eq!(h.req("GET", "/-/healthy", None, &[]).await.status(), 200);
    assert_eq!(h.post_alerts(r#"[{"labels":{"a":"b"}}]"#).await.0, 200);
}

#[tokio::test]
async fn no_panic_on_odd_input() {
    let h = harness(Opts::default());
    for body in [
        "[null]",
        r#"{"matchers":[null]}"#,
        "\u{0}",
        "[[[[",
        r#"[{"labels":{"a":"\ud800"}}]"#,
        "1e999",
        "\"x\"",
    ] {
        let r = h.req("POST", "/api/v2/alerts", Some(body), &[]).await;
        assert!(r.status().is_client_error(), "{body}: {}", r.status());
        let r = h.req("POST", "/api/v2/silences", Some(body), &[]).await;
        assert!(r.status().is_client_error(), "{body}: {}", r.status());
    }
    let r = h.req("GET", "/api/v2/silence/%ZZ", None, &[]).await;
    assert_eq!(r.status(), 422);
}

#[test]
fn contract_validator_catches_drift() {
    let spec = openapi::Spec::load();
    let good = br#"[{"annotations":{},"endsAt":"2026-11-26T12:05:00.000Z","fingerprint":"a0bc776337276a7c","receivers":[{"name":"x"}],"startsAt":"2026-11-26T12:00:00.000Z","status":{"inhibitedBy":[],"mutedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-26T12:00:00.000Z","labels":{"a":"b"}}]"#;
    spec.check_response("/alerts", "GET", 200, good).unwrap();
    let drifts: [(&str, &[u8]); 5] = [
        ("missing mutedBy", br#"[{"annotations":{},"endsAt":"2026-11-26T12:05:00.000Z","fingerprint":"f","receivers":[],"startsAt":"2026-11-26T12:00:00.000Z","status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-26T12:00:00.000Z","labels":{}}]"#),
        ("bad enum", br#"[{"annotations":{},"endsAt":"2026-11-26T12:05:00.000Z","fingerprint":"f","receivers":[],"startsAt":"2026-11-26T12:00:00.000Z","status":{"inhibitedBy":[],"mutedBy":[],"silencedBy":[],"state":"firing"},"updatedAt":"2026-11-26T12:00:00.000Z","labels":{}}]"#),
        ("bad date", br#"[{"annotations":{},"endsAt":"yesterday","fingerprint":"f","receivers":[],"startsAt":"2026-11-26T12:00:00.000Z","status":{"inhibitedBy":[],"mutedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-26T12:00:00.000Z","labels":{}}]"#),
        ("unknown field", br#"[{"extra":1,"annotations":{},"endsAt":"2026-11-26T12:05:00.000Z","fingerprint":"f","receivers":[],"startsAt":"2026-11-26T12:00:00.000Z","status":{"inhibitedBy":[],"mutedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-26T12:00:00.000Z","labels":{}}]"#),
        ("label not string", br#"[{"annotations":{},"endsAt":"2026-11-26T12:05:00.000Z","fingerprint":"f","receivers":[],"startsAt":"2026-11-26T12:00:00.000Z","status":{"inhibitedBy":[],"mutedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-26T12:00:00.000Z","labels":{"a":1}}]"#),
    ];
    for (name, body) in drifts {
        assert!(spec.check_response("/alerts", "GET", 200, body).is_err(), "{name} must fail");
    }
    assert!(spec.check_response("/alerts", "POST", 200, b"x").is_err(), "empty 200 must be empty");
}
