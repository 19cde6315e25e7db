//! What the chat integrations posting one JSON document to a webhook URL share (Slack, Discord, Microsoft
//! Teams): upstream's `notify.TmplText` (first template error wins), `notify.TruncateInRunes`, reading the URL
//! or its `_file`, and one POST whose outcome goes through upstream's `notify.Retrier{}` — which, unlike
//! [`classify::check_status`], does **not** retry 429 for these integrations (no `RetryCodes` upstream).

use crate::classify::{self, REDACTED};
use crate::http::{HttpClient, SecretSource};
use reqwest::header::CONTENT_TYPE;
use std::path::Path;
use std::sync::Arc;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, NotifyCtx, NotifyError, Retry};
use tocsin_template::{Data, Template};

/// Upstream's truncation marker (`notify.TruncateInRunes`).
pub const TRUNCATION_MARKER: &str = "…";

/// How much of a successful answer is read. Slack's `chat.postMessage` echoes the whole message, non-ASCII as
/// `\uXXXX` (six bytes a character), so a large message's answer far exceeds [`classify::MAX_ERROR_BODY`]. A
/// longer answer is cut ([`Answer::truncated`]) and must then be judged on its start, never retried for not
/// parsing: the message was posted, and a retry would post it again.
pub(crate) const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// `s` cut to at most `n` runes as upstream's `notify.TruncateInRunes`: the first `n - 1` runes plus `…`, or
/// the first `n` runes without marker when `n <= 3`. The flag tells whether anything was cut.
pub fn truncate_in_runes(s: &str, n: usize) -> (String, bool) {
    let Some((cut, _)) = s.char_indices().nth(n) else {
        return (s.to_owned(), false);
    };
    if n <= 3 {
        return (s[..cut].to_owned(), true);
    }
    let end = s.char_indices().nth(n - 1).map_or(cut, |(i, _)| i);
    (format!("{}{TRUNCATION_MARKER}", &s[..end]), true)
}

/// Renders config fields over one notification's data like upstream's `notify.TmplText`: after the first
/// failure every further field renders empty and [`Renderer::finish`] reports that failure. The data is built
/// once and shared by every field (never copied per field); empty fields do not touch it.
pub(crate) struct Renderer<'a> {
    template: &'a Template,
    pub data: Arc<Data>,
    error: Option<NotifyError>,
}

impl<'a> Renderer<'a> {
    pub fn new(template: &'a Template, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Self {
        Self { template, data: crate::dingtalk::robot::shared_data(ctx, alerts), error: None }
    }

    /// `text` rendered; the error (permanent, as upstream returns `false`) names the field.
    pub fn render(&mut self, field: &str, text: &str) -> String {
        if self.error.is_some() || text.is_empty() {
            return String::new();
        }
        match crate::dingtalk::robot::render_shared(self.template, field, text, &self.data) {
            Ok(s) => s,
            Err(e) => {
                self.error = Some(e);
                String::new()
            }
        }
    }

    /// `Ok` unless a field failed to render.
    pub fn finish(self) -> Result<Arc<Data>, NotifyError> {
        match self.error {
            None => Ok(self.data),
            Some(e) => Err(e),
        }
    }
}

/// A permanent failure with reason `other` (unreadable file, unencodable body).
pub(crate) fn permanent(message: String) -> NotifyError {
    NotifyError { retry: Retry::No, reason: FailureReason::Other, message }
}

/// A secret (URL, token, key): inline as is, or its file's content trimmed, read at every send so rotating it
/// needs no reload. This is the one place secrets are read; callers word the file error as their upstream does.
pub(crate) async fn read_source(src: &SecretSource) -> Result<String, (&Path, std::io::Error)> {
    match src {
        SecretSource::Inline(v) => Ok(v.clone()),
        SecretSource::File(path) => tokio::fs::read_to_string(path)
            .await
            .map(|s| s.trim().to_owned())
            .map_err(|e| (path.as_path(), e)),
    }
}

/// [`read_source`] with upstream's usual wording of a file error, permanent: `<context>: open <path>: <err>`
/// (Go's `os.ReadFile` error wrapped once). It names the file, never its content.
pub(crate) async fn read_secret(
    src: &SecretSource,
    context: impl FnOnce(&Path) -> String,
) -> Result<String, NotifyError> {
    read_source(src)
        .await
        .map_err(|(path, e)| permanent(format!("{}: open {}: {e}", context(path), path.display())))
}

/// The URL, inline or read (trimmed) from its file at every send; a file error is permanent, as upstream's
/// `read webhook_url_file: <err>`. `what` names the file field (`webhook_url_file`, `api_url_file`).
pub(crate) async fn read_url(src: &SecretSource, what: &str) -> Result<String, NotifyError> {
    read_secret(src, |_| format!("read {what}")).await
}

/// The answer to a POST: status, `Content-Type`, and the body when it was read.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Whether the server sent more than [`MAX_ANSWER`] bytes and `body` holds only the start.
    pub truncated: bool,
}

/// How much of the answer [`post_json`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadBody {
    /// Only a failed answer's start, for the error text; a successful answer is drained in the background.
    OnFailure,
    /// Up to this many bytes whatever the status (Slack and Telegram judge 2xx answers by their body).
    UpTo(usize),
}

/// POSTs `body` as `application/json` to `url` (see [`post`]).
pub(crate) async fn post_json(
    client: &HttpClient,
    url: &str,
    body: Vec<u8>,
    read: ReadBody,
) -> Result<Answer, NotifyError> {
    post(client, url, "application/json", body, read).await
}

/// POSTs `body` as `content_type` to `url`. Preparation failures (credential or TLS files) and transport errors
/// are retryable with reason `other`, as upstream retries round-tripper errors; texts carry no URL.
pub(crate) async fn post(
    client: &HttpClient,
    url: impl reqwest::IntoUrl,
    content_type: &'static str,
    body: Vec<u8>,
    read: ReadBody,
) -> Result<Answer, NotifyError> {
    let req = client.post(url, None).await.map_err(|e| NotifyError {
        retry: Retry::Yes,
        reason: FailureReason::Other,
        message: e.to_string(),
    })?;
    let resp =
        req.header(CONTENT_TYPE, content_type).body(body).send().await.map_err(classify::transport_error)?;
    let status = resp.status().as_u16();
    let content_type =
        resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (body, truncated) = match read {
        ReadBody::OnFailure if resp.status().is_success() => {
            classify::drain(resp);
            (Vec::new(), false)
        }
        ReadBody::OnFailure => (classify::read_bounded(resp).await, false),
        ReadBody::UpTo(limit) => read_limited(resp, limit).await,
    };
    Ok(Answer { status, content_type, body, truncated })
}

/// One JSON POST judged by upstream's `Retrier{}` ([`check_status`]): what Teams, Discord and Webex do.
pub(crate) async fn post_checked(client: &HttpClient, url: &str, body: Vec<u8>) -> Result<(), NotifyError> {
    let answer = post_json(client, url, body, ReadBody::OnFailure).await?;
    check_status(answer.status, &answer.body)
}

/// Upstream's Discord and Webex return the retrier's error unwrapped, so its metric reason is `other`.
pub(crate) fn unwrapped(mut e: NotifyError) -> NotifyError {
    e.reason = FailureReason::Other;
    e
}

/// At most `limit` bytes of the answer, and whether there was more (the rest is left unread).
pub(crate) async fn read_limited(mut resp: reqwest::Response, limit: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                out.extend_from_slice(&chunk);
                if out.len() > limit {
                    out.truncate(limit);
                    return (out, true);
                }
            }
            _ => return (out, false),
        }
    }
}

/// Upstream's `notify.Retrier{}.Check`: 2xx succeeds; 5xx is retried; everything else, 429 included, is
/// permanent. The reason follows `GetFailureReasonFromStatusCode`; the error carries the answer's start.
pub fn check_status(status: u16, body: &[u8]) -> Result<(), NotifyError> {
    classify::check_status_with(status, &[], || classify::bounded_text(body))
}

/// Redacts `url` from the error, and its secret-looking parts (query values, the last path segment: the token
/// of Slack, Discord and Teams webhook URLs) which a server may echo in its answer; then logs it at debug level.
pub(crate) fn finish(
    result: Result<(), NotifyError>,
    ctx: &NotifyCtx,
    integration: &'static str,
    url: &str,
) -> Result<(), NotifyError> {
    if result.is_ok() {
        return result;
    }
    let secrets = crate::dingtalk::robot::url_secrets(url);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    classify::finish(result, ctx, integration, &secrets)
}

/// `Debug` for a config URL that may carry a token.
pub(crate) fn redacted_debug(src: &SecretSource) -> &'static str {
    match src {
        SecretSource::Inline(_) => REDACTED,
        SecretSource::File(_) => "<file>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_like_upstream() {
        struct Case {
            name: &'static str,
            input: &'static str,
            n: usize,
            want: (&'static str, bool),
        }
        let cases = [
            Case { name: "short", input: "abc", n: 5, want: ("abc", false) },
            Case { name: "exact", input: "ééé", n: 3, want: ("ééé", false) },
            Case { name: "marker", input: "éééééé", n: 4, want: ("ééé…", true) },
            Case {
                name: "tiny n, no marker", input: "日本語テキスト", n: 3, want: ("日本語", true)
            },
            Case { name: "zero", input: "ab", n: 0, want: ("", true) },
            Case {
                name: "emoji", input: "🚨🚨🚨🚨🚨🚨", n: 5, want: ("🚨🚨🚨🚨…", true)
            },
            Case { name: "empty", input: "", n: 0, want: ("", false) },
        ];
        for c in cases {
            let (got, cut) = truncate_in_runes(c.input, c.n);
            assert_eq!((got.as_str(), cut), c.want, "{}", c.name);
        }
    }

    #[test]
    fn retrier_without_retry_codes() {
        struct Case {
            status: u16,
            want: Option<(Retry, FailureReason)>,
        }
        let cases = [
            Case { status: 200, want: None },
            Case { status: 204, want: None },
            Case { status: 400, want: Some((Retry::No, FailureReason::ClientError)) },
            Case { status: 429, want: Some((Retry::No, FailureReason::ClientError)) },
            Case { status: 500, want: Some((Retry::Yes, FailureReason::ServerError)) },
            Case { status: 503, want: Some((Retry::Yes, FailureReason::ServerError)) },
            Case { status: 302, want: Some((Retry::No, FailureReason::Other)) },
        ];
        for c in cases {
            let got = check_status(c.status, b"x").err().map(|e| (e.retry, e.reason));
            assert_eq!(got, c.want, "{}", c.status);
        }
        assert_eq!(check_status(404, b"no_team").unwrap_err().message, "unexpected status code 404: no_team");
    }

    #[test]
    fn renderer_shares_one_data_and_skips_empty_fields() {
        let template = Template::with_defaults();
        let ctx = NotifyCtx {
            receiver: "r".into(),
            group_key: "{}:{}".into(),
            group_labels: Default::default(),
            repeat_interval: std::time::Duration::from_secs(3600),
            now: chrono::DateTime::UNIX_EPOCH,
            external_url: "http://am".into(),
        };
        let mut r = Renderer::new(&template, &ctx, &[]);
        let built = Arc::clone(&r.data);
        for _ in 0..25 {
            assert_eq!(r.render("field", ""), "");
        }
        // Empty fields neither rendered nor copied: the only references are the Renderer's and ours.
        assert_eq!(Arc::strong_count(&built), 2);
        assert_eq!(r.render("title", "{{ .Status }}"), "resolved");
        assert_eq!(Arc::strong_count(&built), 2, "rendering borrowed the shared data, kept nothing");
        let data = r.finish().unwrap();
        assert!(Arc::ptr_eq(&data, &built), "every field saw the one data built for the notification");
    }
}
