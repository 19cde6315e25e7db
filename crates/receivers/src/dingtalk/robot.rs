//! What the three chat robots (DingTalk, WeCom, Feishu) share: reading the URL and signing secret, rendering
//! templates over the notification's data, fitting a message into the robot's size limit by dropping whole
//! alerts first (with a visible "… N more alerts" line) and cutting at a UTF-8 boundary last, posting the JSON,
//! and turning the robot's `errcode` answer into a [`NotifyError`] whose text carries no secret.

use crate::chatpost::ReadBody;
use crate::classify;
use crate::http::{HttpClient, SecretSource};
use crate::ratelimit::RateLimiter;
use std::sync::Arc;
use tocsin_model::time::utc;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, NotifyCtx, NotifyError, Retry};
use tocsin_template::{Data, Template};

/// The most of a robot's answer that is read; their JSON answers are a few hundred bytes.
const MAX_RESPONSE: usize = 64 * 1024;

/// Titles longer than this are cut (they show in the chat list and count toward the body limit).
pub(crate) const MAX_TITLE: usize = 512;

/// The line that says alerts were left out: `… 3 more alerts`.
pub fn more_alerts_line(n: usize) -> String {
    format!("… {n} more alerts")
}

/// A permanent failure with reason `other` (bad template, unreadable file).
pub(crate) use crate::chatpost::permanent;

/// The URL, read from `url_file` (trimmed) at every send so a rotated token needs no reload.
pub(crate) async fn read_url(src: &SecretSource) -> Result<String, NotifyError> {
    crate::chatpost::read_url(src, "url_file").await
}

/// The signing secret, if one is configured.
pub(crate) async fn read_secret(src: Option<&SecretSource>) -> Result<Option<String>, NotifyError> {
    match src {
        None => Ok(None),
        Some(s) => {
            crate::chatpost::read_url(s, "secret_file").await.map(|v| Some(v).filter(|v| !v.is_empty()))
        }
    }
}

/// The template data of a notification: upstream's `template.Data` at the flush time, built straight from the
/// shared alerts (no intermediate copy of every alert).
pub(crate) fn data(ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Data {
    Data::from_alerts(&ctx.receiver, &ctx.group_labels, alerts, &ctx.external_url, utc(ctx.now))
}

/// [`data`] built once and shared by every field rendered for the notification (see [`render_shared`]).
pub(crate) fn shared_data(ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Arc<Data> {
    Arc::new(data(ctx, alerts))
}

/// Renders one config field over shared data (no copy of the alerts, and `""` without touching them when
/// `text` is empty); the error names the field (`title`, `text`, `message`).
pub(crate) fn render_shared(
    template: &Template,
    field: &str,
    text: &str,
    data: &Arc<Data>,
) -> Result<String, NotifyError> {
    template.render_shared(text, data).map_err(|e| permanent(format!("render {field} template: {e}")))
}

/// The data over the first `k` alerts only (status and common labels stay those of the whole notification),
/// for [`fit`]; the whole data itself, without any copy, when `k` covers every alert.
pub(crate) fn first_alerts(data: &Arc<Data>, k: usize) -> Arc<Data> {
    if k >= data.alerts.len() {
        return Arc::clone(data);
    }
    Arc::new(Data {
        receiver: data.receiver.clone(),
        status: data.status.clone(),
        alerts: data.alerts[..k].to_vec(),
        group_labels: data.group_labels.clone(),
        common_labels: data.common_labels.clone(),
        common_annotations: data.common_annotations.clone(),
        external_url: data.external_url.clone(),
    })
}

/// `s` cut to at most `max` bytes at a character boundary.
pub fn cut_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A title cut to [`MAX_TITLE`] bytes, with `…` when cut.
pub(crate) fn short_title(title: String) -> String {
    if title.len() <= MAX_TITLE {
        return title;
    }
    let mut t = cut_at_char_boundary(&title, MAX_TITLE - '…'.len_utf8()).to_owned();
    t.push('…');
    t
}

/// Fits a message into `limit` as measured by `size` (the encoded body, or the content field, of the final
/// text). `render(k)` renders the text over the first `k` alerts.
///
/// Order of concessions: `max_alerts` (0 = all) first; then as many whole alerts as fit (binary search);
/// then, when even one alert is too large, its text cut at a UTF-8 boundary and ended with `…`. Whenever alerts
/// are left out the text ends with a [`more_alerts_line`], so readers know the message is incomplete.
pub(crate) fn fit(
    total: usize,
    max_alerts: u64,
    limit: usize,
    render: &mut dyn FnMut(usize) -> Result<String, NotifyError>,
    size: &dyn Fn(&str) -> usize,
) -> Result<String, NotifyError> {
    let cap = match usize::try_from(max_alerts) {
        Ok(m) if m != 0 && m < total => m,
        _ => total,
    };
    let with_notice = |text: String, k: usize| -> String {
        let omitted = total - k;
        if omitted == 0 {
            return text;
        }
        let mut t = text.trim_end().to_owned();
        t.push_str("\n\n");
        t.push_str(&more_alerts_line(omitted));
        t
    };
    let first_text = render(cap)?;
    let first = with_notice(first_text.clone(), cap);
    if size(&first) <= limit {
        return Ok(first);
    }
    if cap <= 1 {
        return Ok(cut_to_fit(first_text, cap, total, limit, size));
    }
    // Largest k in [1, cap) that fits; `lo` always fits (or is 0), `hi` never does.
    let (mut lo, mut hi, mut best) = (0usize, cap, None);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let text = with_notice(render(mid)?, mid);
        if size(&text) <= limit {
            lo = mid;
            best = Some(text);
        } else {
            hi = mid;
        }
    }
    if let Some(text) = best {
        return Ok(text);
    }
    // Not even one alert fits: cut the one-alert text.
    let one = render(1)?;
    Ok(cut_to_fit(one, 1, total, limit, size))
}

/// Cuts `text` (over the first `shown` alerts) until text + `…` + notice fits. Each raw byte encodes to at least
/// one byte, so cutting the excess converges in one or two rounds; an empty text is the last resort.
fn cut_to_fit(
    text: String,
    shown: usize,
    total: usize,
    limit: usize,
    size: &dyn Fn(&str) -> usize,
) -> String {
    let notice =
        if total > shown { format!("\n\n{}", more_alerts_line(total - shown)) } else { String::new() };
    let build = |body: &str| format!("{body}…{notice}");
    let mut keep = text.len();
    for _ in 0..8 {
        let candidate = build(cut_at_char_boundary(&text, keep));
        let s = size(&candidate);
        if s <= limit {
            return candidate;
        }
        let excess = s - limit;
        if keep == 0 {
            break;
        }
        keep = keep.saturating_sub(excess.max(1));
    }
    build("")
}

/// How a robot reports the outcome inside a JSON answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answer {
    /// JSON fields that may hold the result code, tried in order (`errcode`; Feishu's `code` or `StatusCode`).
    pub code_fields: &'static [&'static str],
    /// The matching message fields (`errmsg`; `msg` or `StatusMessage`).
    pub message_fields: &'static [&'static str],
    /// The prefix of error texts: `errcode` or `code`.
    pub label: &'static str,
    /// Codes worth retrying (rate limits, "system busy").
    pub retryable: &'static [i64],
    /// Codes that mean "sending too fast": their reason is `clientError`, as HTTP 429.
    pub rate_limited: &'static [i64],
}

impl Answer {
    /// The code and message of a JSON answer, if it has a code.
    fn parse(&self, body: &[u8]) -> Option<(i64, String)> {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        let code = self.code_fields.iter().find_map(|f| v.get(*f).and_then(serde_json::Value::as_i64))?;
        let msg = self
            .message_fields
            .iter()
            .find_map(|f| v.get(*f).and_then(serde_json::Value::as_str))
            .unwrap_or_default()
            .to_owned();
        Some((code, msg))
    }

    /// Success on 2xx with code 0 (or no code at all); otherwise an error naming the code.
    pub(crate) fn check(&self, status: u16, body: &[u8]) -> Result<(), NotifyError> {
        let parsed = self.parse(body);
        let http = classify::check_status(status, body);
        match (parsed, http) {
            (None, http) | (Some((0, _)), http) => http,
            (Some((code, msg)), http) => {
                let retry_code = self.retryable.contains(&code);
                let (retry, reason) = match http {
                    // A non-2xx answer keeps its HTTP classification unless the code says "retry".
                    Err(e) => (if retry_code { Retry::Yes } else { e.retry }, e.reason),
                    Ok(()) if self.rate_limited.contains(&code) => (Retry::Yes, FailureReason::ClientError),
                    Ok(()) if retry_code => (Retry::Yes, FailureReason::ServerError),
                    Ok(()) => (Retry::No, FailureReason::ClientError),
                };
                let msg = classify::bounded_text(msg.as_bytes());
                let message = if msg.is_empty() {
                    format!("{} {code}", self.label)
                } else {
                    format!("{} {code}: {msg}", self.label)
                };
                Err(NotifyError { retry, reason, message })
            }
        }
    }
}

/// One POST of a JSON body to a robot after waiting for the robot's rate limit; the answer is judged by
/// `answer`. Errors are redacted of every secret in `secrets` (URL, token, signing secret).
pub(crate) async fn post(
    client: &HttpClient,
    limiters: &[Arc<RateLimiter>],
    robot: &str,
    url: &str,
    body: Vec<u8>,
    answer: &Answer,
) -> Result<(), NotifyError> {
    let mut waited = std::time::Duration::ZERO;
    for l in limiters {
        waited += l.acquire(robot).await;
    }
    if !waited.is_zero() {
        tracing::debug!(waited_ms = waited.as_millis() as u64, "robot rate limit: send delayed");
    }
    let reply = crate::chatpost::post(
        client,
        url,
        "application/json; charset=utf-8",
        body,
        ReadBody::UpTo(MAX_RESPONSE),
    )
    .await?;
    answer.check(reply.status, &reply.body)
}

/// The secret parts of a URL worth redacting besides the URL itself, which a server may echo in its answer:
/// every query value, raw and percent-decoded (`+` as space too, as form decoding reads it); the last path
/// segment (Feishu's hook token, Slack's and Discord's webhook token); and every path segment of at least
/// [`MIN_SECRET_SEGMENT`] characters (legacy Teams URLs keep their secret in a middle segment:
/// `/webhook/<uuid>@<uuid>/IncomingWebhook/<hex>/<uuid>`). Parts shorter than 8 bytes are left alone, as they
/// would mostly hit common words.
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    let without_fragment = url.split('#').next().unwrap_or_default();
    let (before_query, query) = without_fragment.split_once('?').unwrap_or((without_fragment, ""));
    for pair in query.split('&') {
        if let Some((_, v)) = pair.split_once('=') {
            out.push(v.to_owned());
            out.push(percent_decode(v));
            out.push(percent_decode(&v.replace('+', " ")));
        }
    }
    // The path starts after `scheme://authority`; without a scheme the whole text is taken as a path.
    let path = match before_query.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => before_query,
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(last) = segments.last() {
        out.push((*last).to_owned());
    }
    for seg in segments {
        if seg.chars().count() >= MIN_SECRET_SEGMENT {
            out.push(seg.to_owned());
            out.push(percent_decode(seg));
        }
    }
    out.retain(|s| s.len() >= 8);
    out.sort();
    out.dedup();
    // Longest first, so a secret containing another is replaced whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// Path segments at least this long are redacted wherever they sit (UUIDs, hex tokens).
pub(crate) const MIN_SECRET_SEGMENT: usize = 16;

/// `%XX` sequences decoded (invalid ones kept as written; invalid UTF-8 replaced).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_respects_utf8() {
        assert_eq!(cut_at_char_boundary("告警abc", 4), "告");
        assert_eq!(cut_at_char_boundary("告警abc", 6), "告警");
        assert_eq!(cut_at_char_boundary("ab", 10), "ab");
        assert_eq!(short_title("t".repeat(600)).len(), MAX_TITLE);
    }

    fn lines(k: usize) -> String {
        (0..k).map(|i| format!("alert {i} 告警\n")).collect()
    }

    #[test]
    fn fit_drops_whole_alerts_first() {
        struct Case {
            name: &'static str,
            total: usize,
            max: u64,
            limit: usize,
            want_tail: &'static str,
        }
        let cases = [
            Case { name: "fits", total: 3, max: 0, limit: 1000, want_tail: "alert 2 告警\n" },
            Case {
                name: "max_alerts",
                total: 10,
                max: 2,
                limit: 1000,
                want_tail: "alert 1 告警\n\n… 8 more alerts",
            },
            Case { name: "limit", total: 100, max: 0, limit: 200, want_tail: "\n\n… 89 more alerts" },
        ];
        for c in cases {
            let got = fit(c.total, c.max, c.limit, &mut |k| Ok(lines(k)), &|s| s.len()).unwrap();
            assert!(got.len() <= c.limit, "{}", c.name);
            assert!(got.ends_with(c.want_tail), "{}: {got:?}", c.name);
        }
    }

    #[test]
    fn fit_cuts_a_single_huge_alert() {
        let huge = |k: usize| Ok("告".repeat(1000 * k));
        let got = fit(5, 0, 100, &mut |k| huge(k), &|s| s.len()).unwrap();
        assert!(got.len() <= 100, "{}", got.len());
        assert!(got.ends_with("…\n\n… 4 more alerts"), "{got}");
        assert!(got.starts_with('告'));
        // The size function may count an encoding that is larger than the text (JSON escaping).
        let got = fit(1, 0, 50, &mut |_| Ok("\"".repeat(200)), &|s| serde_json::to_string(s).unwrap().len())
            .unwrap();
        assert!(serde_json::to_string(&got).unwrap().len() <= 50);
        assert!(got.ends_with('…'));
    }

    #[test]
    fn answers() {
        let a = Answer {
            code_fields: &["errcode"],
            message_fields: &["errmsg"],
            label: "errcode",
            retryable: &[130101, -1],
            rate_limited: &[130101],
        };
        struct Case {
            name: &'static str,
            status: u16,
            body: &'static str,
            want: Result<(), (Retry, FailureReason, &'static str)>,
        }
        let cases = [
            Case { name: "ok", status: 200, body: r#"{"errcode":0,"errmsg":"ok"}"#, want: Ok(()) },
            Case { name: "no code", status: 200, body: "", want: Ok(()) },
            Case {
                name: "sign",
                status: 200,
                body: r#"{"errcode":310000,"errmsg":"sign not match"}"#,
                want: Err((Retry::No, FailureReason::ClientError, "errcode 310000: sign not match")),
            },
            Case {
                name: "throttled",
                status: 200,
                body: r#"{"errcode":130101,"errmsg":"send too fast"}"#,
                want: Err((Retry::Yes, FailureReason::ClientError, "errcode 130101: send too fast")),
            },
            Case {
                name: "busy",
                status: 200,
                body: r#"{"errcode":-1,"errmsg":"busy"}"#,
                want: Err((Retry::Yes, FailureReason::ServerError, "errcode -1: busy")),
            },
            Case {
                name: "http 502",
                status: 502,
                body: "bad gateway",
                want: Err((
                    Retry::Yes,
                    FailureReason::ServerError,
                    "unexpected status code 502: bad gateway",
                )),
            },
            Case {
                name: "http 400 with code",
                status: 400,
                body: r#"{"errcode":40035,"errmsg":"bad json"}"#,
                want: Err((Retry::No, FailureReason::ClientError, "errcode 40035: bad json")),
            },
        ];
        for c in cases {
            let got = a.check(c.status, c.body.as_bytes()).map_err(|e| (e.retry, e.reason, e.message));
            let want = c.want.map_err(|(r, f, m)| (r, f, m.to_owned()));
            assert_eq!(got, want, "{}", c.name);
        }
    }

    #[test]
    fn secrets_of_urls() {
        let s = url_secrets("https://oapi.dingtalk.com/robot/send?access_token=abcdef123456");
        assert!(s.contains(&"abcdef123456".to_owned()));
        let s = url_secrets("https://open.feishu.cn/open-apis/bot/v2/hook/0123-4567-89ab");
        assert!(s.contains(&"0123-4567-89ab".to_owned()));
    }

    #[test]
    fn secrets_in_middle_segments_and_encoded_queries() {
        struct Case {
            name: &'static str,
            url: &'static str,
            want: &'static [&'static str],
            not: &'static [&'static str],
        }
        let cases = [
            Case {
                name: "legacy teams",
                url: "https://outlook.office.com/webhook/0a1b2c3d-1111-2222-3333-444455556666@9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff/IncomingWebhook/0123456789abcdef0123456789abcdef/11112222-3333-4444-5555-666677778888",
                want: &[
                    "0a1b2c3d-1111-2222-3333-444455556666@9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff",
                    "0123456789abcdef0123456789abcdef",
                    "11112222-3333-4444-5555-666677778888",
                ],
                // Short segments and the host stay readable.
                not: &["webhook", "IncomingWebhook", "outlook.office.com"],
            },
            Case {
                name: "percent-encoded query value",
                url: "https://oapi.dingtalk.com/robot/send?access_token=ab%2Bcd%2Fef%3D12&x=a+b+c+d+e",
                want: &["ab%2Bcd%2Fef%3D12", "ab+cd/ef=12", "a+b+c+d+e", "a b c d e"],
                not: &["oapi.dingtalk.com", "robot", "send"],
            },
            Case {
                name: "invalid escapes kept",
                url: "http://h/p?k=%zz%4-long-value",
                want: &["%zz%4-long-value"],
                not: &[],
            },
        ];
        for c in cases {
            let got = url_secrets(c.url);
            for w in c.want {
                assert!(got.iter().any(|s| s == w), "{}: {w} missing from {got:?}", c.name);
            }
            for n in c.not {
                assert!(!got.iter().any(|s| s == n), "{}: {n} in {got:?}", c.name);
            }
            let leaked = format!("server said: {} and {}", c.url, c.want.join(" "));
            let secrets: Vec<&str> = got.iter().map(String::as_str).collect();
            let redacted = classify::redact(leaked, &secrets);
            for w in c.want {
                assert!(!redacted.contains(w), "{}: {w} survived in {redacted}", c.name);
            }
        }
    }
}
