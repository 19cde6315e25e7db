//! What the incident-management integrations (PagerDuty, OpsGenie, VictorOps) share: the incident key
//! (`notify.Key.Hash`: SHA-256 hex of the group key), upstream's `TmplText` (first template error wins, later
//! fields render empty), its `Retrier` (2xx success, 5xx plus a per-integration list retried), Go's URL path
//! and query escaping (used by every integration that writes a query), and one HTTP exchange.

use crate::classify;
use crate::http::{HttpClient, SecretSource};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use std::sync::Arc;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, NotifyCtx, NotifyError, Retry};
use tocsin_template::{Data, Template, TemplateError};

/// `notify.Key.Hash()`: the lowercase hex SHA-256 of the group key, which ties a resolve to its trigger
/// (PagerDuty `dedup_key`/`incident_key`, OpsGenie `alias`, VictorOps `entity_id`).
pub fn group_key_hash(group_key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, group_key.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The template data of a notification, built once and shared by every field (`notify.GetTemplateData`).
pub(crate) fn data(ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Arc<Data> {
    crate::dingtalk::robot::shared_data(ctx, alerts)
}

/// Upstream's `notify.TmplText`: renders config fields one after another; after the first error every later
/// field renders empty and the error is kept for the caller to report once.
pub(crate) struct Tmpl<'a> {
    template: &'a Template,
    data: &'a Arc<Data>,
    err: Option<TemplateError>,
}

impl<'a> Tmpl<'a> {
    pub(crate) fn new(template: &'a Template, data: &'a Arc<Data>) -> Self {
        Self { template, data, err: None }
    }

    pub(crate) fn text(&mut self, text: &str) -> String {
        if self.err.is_some() {
            return String::new();
        }
        match self.template.render_shared(text, self.data) {
            Ok(s) => s,
            Err(e) => {
                self.err = Some(e);
                String::new()
            }
        }
    }

    /// The first error, as `<context>: <error>`.
    pub(crate) fn check(&mut self, context: &str, retry: Retry) -> Result<(), NotifyError> {
        match self.err.take() {
            None => Ok(()),
            Some(e) => {
                Err(NotifyError { retry, reason: FailureReason::Other, message: format!("{context}: {e}") })
            }
        }
    }
}

/// A failure that another attempt cannot fix (bad template, unreadable key file, empty key).
pub(crate) use crate::chatpost::permanent;

/// Reads a key: inline as is, a file trimmed of surrounding white space (read at every send, so rotating the
/// key needs no reload). `what` prefixes the error, which names the file and never its content.
pub(crate) async fn read_key(src: Option<&SecretSource>, what: &str) -> Result<String, NotifyError> {
    match src {
        None => Ok(String::new()),
        Some(src) => crate::chatpost::read_secret(src, |_| what.to_owned()).await,
    }
}

/// Upstream's `notify.Retrier`: which non-2xx codes are retried besides 5xx, and how the error details are
/// taken from the response (the body by default).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retrier {
    pub codes: &'static [u16],
    /// `CustomDetailsFunc`: the details appended to the error instead of the body ("" = none).
    pub details: Option<fn(u16, &[u8]) -> String>,
}

impl Retrier {
    /// `Retrier.Check`: `unexpected status code N[: details]`, retried on 5xx and `codes`.
    pub(crate) fn check(&self, status: u16, body: &[u8]) -> Result<(), NotifyError> {
        classify::check_status_with(status, self.codes, || match self.details {
            Some(f) => f(status, body),
            None => classify::bounded_text(body),
        })
    }
}

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Post,
    Put,
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Authorization<'a> {
    /// The `http_config` credentials, if any (PagerDuty, VictorOps).
    HttpConfig,
    /// A fixed `Authorization` header, which takes precedence over `http_config` as in prometheus/common,
    /// whose round trippers leave a request that already has one alone (OpsGenie's `GenieKey`).
    Header(&'a str),
}

/// One request: where it goes and how it is judged.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    pub auth: Authorization<'a>,
    pub retrier: &'a Retrier,
    /// Prefixed to transport errors (upstream wraps them, e.g. `failed to post message to PagerDuty`).
    pub context: Option<&'a str>,
    /// Redacted from a failed answer's body before it is cut to [`classify::MAX_ERROR_BODY`] (see
    /// [`classify::redact_bounded`]); [`finish`] redacts the whole message again.
    pub secrets: &'a [&'a str],
}

/// Sends one JSON request and judges the answer with its retrier. Transport errors are retried and never show
/// the URL; a successful response's body is drained so the connection is reused.
pub(crate) async fn send(client: &HttpClient, r: Request<'_>, body: Vec<u8>) -> Result<(), NotifyError> {
    let Request { method, url, auth, retrier, context, secrets } = r;
    let prepare = |e: crate::http::HttpError| NotifyError {
        retry: Retry::Yes,
        reason: FailureReason::Other,
        message: e.to_string(),
    };
    let http = client.client().await.map_err(prepare)?;
    let mut req = match method {
        Method::Post => http.post(url),
        Method::Put => http.put(url),
    };
    req = match auth {
        Authorization::HttpConfig => client.authorize(req).await.map_err(prepare)?,
        Authorization::Header(value) => {
            let mut v = HeaderValue::from_str(value)
                .map_err(|_| permanent("invalid Authorization header value".to_owned()))?;
            v.set_sensitive(true);
            req.header(AUTHORIZATION, v)
        }
    };
    let resp = req.header(CONTENT_TYPE, "application/json").body(body).send().await.map_err(|e| {
        let mut e = classify::transport_error(e);
        if let Some(c) = context {
            e.message = format!("{c}: {}", e.message);
        }
        e
    })?;
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        classify::drain(resp);
        return Ok(());
    }
    let body = classify::read_bounded_redacted(resp, secrets).await;
    retrier.check(status, &body)
}

/// Go's `url.PathEscape`-like escaping of a path as `URL.EscapedPath` writes it: unreserved characters and
/// `$&+,/:;=@` stay, everything else becomes `%XX`.
pub fn escape_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Go's `url.QueryEscape`: like [`escape_path`] but space becomes `+` and only `-_.~` stay besides letters
/// and digits.
pub fn escape_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Go's `url.Values.Encode()`: pairs sorted by key (stable for repeated keys), each [`escape_query`]d,
/// `key=value` joined by `&`.
pub fn encode_query<K: AsRef<str>, V: AsRef<str>>(pairs: &mut [(K, V)]) -> String {
    pairs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape_query(k.as_ref()), escape_query(v.as_ref())))
        .collect();
    parts.join("&")
}

/// `api_url` with `suffix` appended to its path (Go: `u.Path += suffix`) and, when `query` is given, that
/// parameter set in its query (Go: `q.Set(k, v); u.RawQuery = q.Encode()`, which sorts by key). The
/// fragment is dropped. Returns `None` when `api_url` is no absolute URL.
pub fn join_url(api_url: &str, suffix: &str, query: Option<(&str, &str)>) -> Option<String> {
    let base = reqwest::Url::parse(api_url).ok()?;
    let mut out = base.clone();
    out.set_fragment(None);
    out.set_query(None);
    // The base path is already escaped by the URL parser; only the appended part needs escaping.
    out.set_path(&format!("{}{}", base.path(), escape_path(suffix)));
    let mut s = out.to_string();
    if let Some((k, v)) = query {
        let mut pairs: Vec<(String, String)> = base
            .query_pairs()
            .filter(|(pk, _)| pk != k)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.push((k.to_owned(), v.to_owned()));
        s.push('?');
        s.push_str(&encode_query(&mut pairs));
    } else if let Some(q) = base.query() {
        s.push('?');
        s.push_str(q);
    }
    Some(s)
}

/// Go's `api_url.JoinPath(elem).String()`: the escaped path and `elem` (escaped as Go's `EscapedPath`) joined and
/// cleaned as `path.Join` does (`//`, `.` and `..` resolved, no trailing slash), query and fragment kept.
pub fn join_path(api_url: &str, elem: &str) -> String {
    let (prefix, rest) = match api_url.find("://") {
        Some(i) => {
            let after = i + 3;
            let end = api_url[after..].find(['/', '?', '#']).map_or(api_url.len(), |j| after + j);
            api_url.split_at(end)
        }
        None => ("", api_url),
    };
    let path_end = rest.find(['?', '#']).unwrap_or(rest.len());
    let (path, tail) = rest.split_at(path_end);
    let mut segments: Vec<&str> = Vec::new();
    let elem = escape_path(elem);
    for seg in path.split('/').chain(elem.split('/')) {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    format!("{prefix}/{}{tail}", segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_like_upstream() {
        // Captured from Alertmanager 0.25 (tests/golden_pagerduty): dedup_key of this group key.
        assert_eq!(
            group_key_hash("{}/{}:{alertname=\"Golden\"}"),
            "2f0311cfaa278b339668b5c3c62df87d002eeff4a4d229ec21b53b50ac07bd92"
        );
    }

    #[test]
    fn retrier_table() {
        let r = Retrier { codes: &[403], details: None };
        assert!(r.check(202, b"").is_ok());
        let e = r.check(403, b" slow down ").unwrap_err();
        assert_eq!(
            (e.retry, e.reason, e.message.as_str()),
            (Retry::Yes, FailureReason::ClientError, "unexpected status code 403: slow down")
        );
        let e = r.check(429, b"").unwrap_err();
        assert_eq!(e.retry, Retry::No);
        let e = r.check(503, b"").unwrap_err();
        assert_eq!((e.retry, e.reason), (Retry::Yes, FailureReason::ServerError));
        let r = Retrier { codes: &[], details: Some(|_, _| String::new()) };
        assert_eq!(r.check(400, b"body").unwrap_err().message, "unexpected status code 400");
    }

    #[test]
    fn query_escape_like_go() {
        assert_eq!(escape_query("a b+c/d&e=f*g~h.i-j_k"), "a+b%2Bc%2Fd%26e%3Df%2Ag~h.i-j_k");
        assert_eq!(escape_query("é\n"), "%C3%A9%0A");
        assert_eq!(escape_query("a b+c/é~*-_.!"), "a+b%2Bc%2F%C3%A9~%2A-_.%21");
        assert_eq!(escape_query("a b+c/d~e*f:é"), "a+b%2Bc%2Fd~e%2Af%3A%C3%A9");
        let mut pairs = vec![("z", "1".to_owned()), ("a", "x y".to_owned()), ("m", String::new())];
        assert_eq!(encode_query(&mut pairs), "a=x+y&m=&z=1");
    }

    #[test]
    fn joins_urls_as_go() {
        assert_eq!(
            join_url("http://h/og/", "v2/alerts/abc/close", Some(("identifierType", "alias"))).unwrap(),
            "http://h/og/v2/alerts/abc/close?identifierType=alias"
        );
        assert_eq!(
            join_url("http://h/x/?z=1&a=b c", "v2/alerts", Some(("identifierType", "alias"))).unwrap(),
            "http://h/x/v2/alerts?a=b+c&identifierType=alias&z=1"
        );
        assert_eq!(join_url("http://h/vo/", "key/rk a?#%", None).unwrap(), "http://h/vo/key/rk%20a%3F%23%25");
        assert_eq!(join_url("http://h/vo/?k=v", "a", None).unwrap(), "http://h/vo/a?k=v");
        assert!(join_url("not a url", "a", None).is_none());
    }
}
