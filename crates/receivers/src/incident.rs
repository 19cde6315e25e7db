//! What the incident-management integrations (PagerDuty, OpsGenie, VictorOps) share: the incident key
//! (`notify.Key.Hash`: SHA-256 hex of the group key), rune truncation with upstream's `…`, upstream's
//! `TmplText` (first template error wins, later fields render empty), its `Retrier` (2xx success, 5xx plus a
//! per-integration list retried), Go's URL path and query escaping, and one HTTP exchange.

use crate::classify;
use crate::http::{HttpClient, SecretSource};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use std::sync::Arc;
use tocsin_model::time::utc;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, NotifyCtx, NotifyError, Retry};
use tocsin_template::{Data, Template, TemplateError};

/// `notify.Key.Hash()`: the lowercase hex SHA-256 of the group key, which ties a resolve to its trigger
/// (PagerDuty `dedup_key`/`incident_key`, OpsGenie `alias`, VictorOps `entity_id`).
pub fn group_key_hash(group_key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, group_key.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Upstream's truncation marker (one rune).
pub const MARKER: char = '…';

/// `notify.TruncateInRunes`: at most `n` runes; when cut, the last kept rune is replaced by `…` (for `n > 3`).
/// Returns whether the text was cut. Never splits a character.
pub fn truncate_runes(s: &str, n: usize) -> (String, bool) {
    let Some((cut, _)) = s.char_indices().nth(n) else {
        return (s.to_owned(), false);
    };
    if n <= 3 {
        return (s[..cut].to_owned(), true);
    }
    let keep = s.char_indices().nth(n - 1).map_or(cut, |(i, _)| i);
    let mut out = String::with_capacity(keep + MARKER.len_utf8());
    out.push_str(&s[..keep]);
    out.push(MARKER);
    (out, true)
}

/// The template data of a notification (`notify.GetTemplateData`).
pub(crate) fn data(ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Data {
    let owned: Vec<Alert> = alerts.iter().map(|a| Alert::clone(a)).collect();
    Data::new(&ctx.receiver, &ctx.group_labels, &owned, &ctx.external_url, utc(ctx.now))
}

/// Upstream's `notify.TmplText`: renders config fields one after another; after the first error every later
/// field renders empty and the error is kept for the caller to report once.
pub(crate) struct Tmpl<'a> {
    template: &'a Template,
    data: &'a Data,
    err: Option<TemplateError>,
}

impl<'a> Tmpl<'a> {
    pub(crate) fn new(template: &'a Template, data: &'a Data) -> Self {
        Self { template, data, err: None }
    }

    pub(crate) fn text(&mut self, text: &str) -> String {
        if self.err.is_some() {
            return String::new();
        }
        match self.template.render_string(text, self.data) {
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
pub(crate) fn permanent(message: String) -> NotifyError {
    NotifyError { retry: Retry::No, reason: FailureReason::Other, message }
}

/// An inline secret or its `_file` sibling (none when both are empty).
pub(crate) fn secret_source(inline: &str, file: &str) -> Option<SecretSource> {
    if !inline.is_empty() {
        Some(SecretSource::Inline(inline.to_owned()))
    } else if !file.is_empty() {
        Some(SecretSource::File(file.into()))
    } else {
        None
    }
}

/// Reads a key: inline as is, a file trimmed of surrounding white space (read at every send, so rotating the
/// key needs no reload). `what` prefixes the error, which names the file and never its content.
pub(crate) async fn read_key(src: Option<&SecretSource>, what: &str) -> Result<String, NotifyError> {
    match src {
        None => Ok(String::new()),
        Some(SecretSource::Inline(v)) => Ok(v.clone()),
        Some(SecretSource::File(path)) => tokio::fs::read_to_string(path)
            .await
            .map(|s| s.trim().to_owned())
            .map_err(|e| permanent(format!("{what}: open {}: {e}", path.display()))),
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
        if status / 100 == 2 {
            return Ok(());
        }
        let retry = if status / 100 == 5 || self.codes.contains(&status) { Retry::Yes } else { Retry::No };
        let reason = match status / 100 {
            4 => FailureReason::ClientError,
            5 => FailureReason::ServerError,
            _ => FailureReason::Other,
        };
        let details = match self.details {
            Some(f) => f(status, body),
            None => classify::bounded_text(body),
        };
        let mut message = format!("unexpected status code {status}");
        if !details.is_empty() {
            message.push_str(": ");
            message.push_str(&details);
        }
        Err(NotifyError { retry, reason, message })
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

/// Redacts `secrets` from a failure and logs it at debug level, as the webhook does.
pub(crate) fn finish(
    result: Result<(), NotifyError>,
    ctx: &NotifyCtx,
    integration: &'static str,
    secrets: &[&str],
) -> Result<(), NotifyError> {
    result.map_err(|mut e| {
        e.message = classify::redact(e.message, secrets);
        tracing::debug!(receiver = %ctx.receiver, integration, error = %e.message, "notify failed");
        e
    })
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
    let mut pairs: Vec<(String, String)> =
        base.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if let Some((k, v)) = query {
        pairs.retain(|(pk, _)| pk != k);
        pairs.push((k.to_owned(), v.to_owned()));
    }
    let mut s = out.to_string();
    if query.is_some() {
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let q: Vec<String> =
            pairs.iter().map(|(k, v)| format!("{}={}", escape_query(k), escape_query(v))).collect();
        s.push('?');
        s.push_str(&q.join("&"));
    } else if let Some(q) = base.query() {
        s.push('?');
        s.push_str(q);
    }
    Some(s)
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
    fn truncates_by_runes() {
        struct Case {
            name: &'static str,
            input: &'static str,
            n: usize,
            want: (&'static str, bool),
        }
        let cases = [
            Case { name: "short", input: "abc", n: 5, want: ("abc", false) },
            Case { name: "exact", input: "ééééé", n: 5, want: ("ééééé", false) },
            Case { name: "cut", input: "éééééé", n: 5, want: ("éééé…", true) },
            Case { name: "tiny n", input: "日本語です", n: 3, want: ("日本語", true) },
            Case { name: "zero", input: "x", n: 0, want: ("", true) },
            Case { name: "emoji", input: "🚨🚨🚨🚨🚨🚨", n: 4, want: ("🚨🚨🚨…", true) },
        ];
        for c in cases {
            let (got, cut) = truncate_runes(c.input, c.n);
            assert_eq!((got.as_str(), cut), c.want, "{}", c.name);
        }
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
