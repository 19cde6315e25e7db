//! Turning HTTP outcomes into [`NotifyError`]s with upstream's retry rules (`notify.Retrier.Check` and
//! `GetFailureReasonFromStatusCode`), bounded response bodies, and messages that never carry the URL.

use std::error::Error as StdError;
use tocsin_pipeline::notifier::{FailureReason, NotifyCtx, NotifyError, Retry};

/// How much of a failed response's body is appended to the error message.
pub const MAX_ERROR_BODY: usize = 1024;

/// The placeholder upstream uses for URLs in errors (`notify.RedactURL`).
pub const REDACTED: &str = "<redacted>";

/// 2xx is success; 5xx and 429 are retried; anything else is permanent. The reason is `clientError` for 4xx
/// (429 included, as upstream's metric label), `serverError` for 5xx, `other` otherwise.
pub fn check_status(status: u16, body: &[u8]) -> Result<(), NotifyError> {
    check_status_with(status, &[429], || bounded_text(body))
}

/// Upstream's `notify.Retrier.Check`, the one implementation every integration's status check goes through:
/// 2xx succeeds; 5xx and `retry_codes` are retried, everything else is permanent; the reason follows
/// `GetFailureReasonFromStatusCode`; the message is `unexpected status code N[: details]`.
pub fn check_status_with(
    status: u16,
    retry_codes: &[u16],
    details: impl FnOnce() -> String,
) -> Result<(), NotifyError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let retry = if status / 100 == 5 || retry_codes.contains(&status) { Retry::Yes } else { Retry::No };
    let reason = match status / 100 {
        4 => FailureReason::ClientError,
        5 => FailureReason::ServerError,
        _ => FailureReason::Other,
    };
    let mut message = format!("unexpected status code {status}");
    let details = details();
    if !details.is_empty() {
        message.push_str(": ");
        message.push_str(&details);
    }
    Err(NotifyError { retry, reason, message })
}

/// The first [`MAX_ERROR_BODY`] bytes as text (cut on a character boundary), trimmed.
pub fn bounded_text(body: &[u8]) -> String {
    let cut = &body[..body.len().min(MAX_ERROR_BODY)];
    let text = String::from_utf8_lossy(cut);
    // A multi-byte character split by the cut shows up as a trailing U+FFFD: drop it.
    let text = if body.len() > MAX_ERROR_BODY { text.trim_end_matches('\u{fffd}') } else { &text };
    text.trim().to_owned()
}

/// Reads at most [`MAX_ERROR_BODY`] bytes of a response body; the rest is not read.
pub async fn read_bounded(resp: reqwest::Response) -> Vec<u8> {
    read_at_most(resp, MAX_ERROR_BODY).await
}

/// Reads at most `limit` bytes of a response body, stopping as soon as it has them; the rest is not read.
pub async fn read_at_most(mut resp: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < limit {
        match resp.chunk().await {
            Ok(Some(chunk)) => out.extend_from_slice(&chunk),
            _ => break,
        }
    }
    out.truncate(limit);
    out
}

/// Reads what [`redact_bounded`] needs of a failed response's body: [`MAX_ERROR_BODY`] bytes plus the longest
/// secret, so a secret that starts before the cut is read whole and can be redacted. The rest is not read.
pub async fn read_bounded_redacted(resp: reqwest::Response, secrets: &[&str]) -> Vec<u8> {
    let limit = MAX_ERROR_BODY + secrets.iter().map(|s| s.len()).max().unwrap_or(0);
    redact_bounded(&read_at_most(resp, limit).await, secrets)
}

/// The shortest secret whose prefix is dropped from the end of a cut text (shorter ones would eat ordinary
/// text too often, and a few characters of one reveal little).
pub const MIN_PARTIAL_SECRET: usize = 8;

/// A response body made fit for an error message: every secret replaced by `<redacted>` first, then cut to
/// [`MAX_ERROR_BODY`] bytes on a character boundary. Cutting first would let a secret that straddles the cut
/// escape redaction (AWS's `SignatureDoesNotMatch` echoes the canonical request, session token included).
///
/// `body` should hold [`MAX_ERROR_BODY`] bytes plus the longest secret when there are that many. When it holds
/// more than [`MAX_ERROR_BODY`] (so it was, or is now, cut), a trailing partial secret is dropped too: the longest
/// suffix that is a prefix of a secret of at least [`MIN_PARTIAL_SECRET`] bytes, which is what remains of a
/// secret cut by the read once redactions before it shortened the text. A body that was not cut keeps its end:
/// there a secret's first letters are just text (`…/rk-defaults` and a key starting with `s`).
pub fn redact_bounded(body: &[u8], secrets: &[&str]) -> Vec<u8> {
    let was_cut = body.len() > MAX_ERROR_BODY;
    let mut out = body.to_vec();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = replace_bytes(&out, s.as_bytes(), REDACTED.as_bytes());
    }
    if out.len() > MAX_ERROR_BODY {
        // Back up to the first byte of a character the cut would split (at most 3 continuation bytes).
        let mut cut = MAX_ERROR_BODY;
        while cut > MAX_ERROR_BODY - 3 && out.get(cut).is_some_and(|b| b & 0xC0 == 0x80) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    let partial = secrets
        .iter()
        .filter(|s| was_cut && s.len() >= MIN_PARTIAL_SECRET)
        .filter_map(|s| (1..s.len()).rev().find(|&k| out.ends_with(&s.as_bytes()[..k])))
        .max()
        .unwrap_or(0);
    out.truncate(out.len() - partial);
    out
}

/// `haystack` with every non-overlapping occurrence of `needle` (not empty) replaced, left to right.
fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// How much of a successful response's body [`drain`] reads before giving the connection up.
pub const MAX_DRAINED_BODY: usize = 64 * 1024;

/// How long [`drain`] waits for a body that trickles in (upstream's drain is bounded by the flush deadline).
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads and discards the body of a successful response in the background (upstream's `notify.Drain`), so its
/// connection goes back to the pool: a body left unread closes the connection, and the next notification to the
/// same receiver pays a new TCP (and TLS) handshake. Nothing is spawned when the body is known to be empty, and a
/// body over [`MAX_DRAINED_BODY`] is dropped unread (its connection then closes).
pub fn drain(mut resp: reqwest::Response) {
    if resp.content_length() == Some(0) {
        return;
    }
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    handle.spawn(tokio::time::timeout(DRAIN_TIMEOUT, async move {
        let mut read = 0usize;
        while read <= MAX_DRAINED_BODY {
            match resp.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
    }));
}

/// A failed exchange (connect, TLS, I/O): retryable, reason `other`. The message reads like Go's
/// `Post "<redacted>": <cause>`.
pub fn transport_error(err: reqwest::Error) -> NotifyError {
    NotifyError {
        retry: Retry::Yes,
        reason: FailureReason::Other,
        message: format!("Post \"{REDACTED}\": {}", error_chain(&err.without_url())),
    }
}

/// An error and its sources joined by ": ", skipping a source whose text repeats its parent's.
pub fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut last = out.clone();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !s.is_empty() && !last.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        last = s;
        cur = e.source();
    }
    out
}

/// Replaces every occurrence of each non-empty secret with `<redacted>`: the last line of defence for texts
/// built from third-party errors.
pub fn redact(mut message: String, secrets: &[&str]) -> String {
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        if message.contains(s) {
            message = message.replace(s, REDACTED);
        }
    }
    message
}

/// The last step of every integration's `notify`: redacts `secrets` from a failure and logs it at debug level.
pub fn finish(
    result: Result<(), NotifyError>,
    ctx: &NotifyCtx,
    integration: &str,
    secrets: &[&str],
) -> Result<(), NotifyError> {
    result.map_err(|mut e| {
        e.message = redact(e.message, secrets);
        tracing::debug!(receiver = %ctx.receiver, integration, error = %e.message, "notify failed");
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        struct Case {
            name: &'static str,
            status: u16,
            want: Option<(Retry, FailureReason)>,
        }
        let cases = [
            Case { name: "200", status: 200, want: None },
            Case { name: "204", status: 204, want: None },
            Case { name: "302 unfollowed", status: 302, want: Some((Retry::No, FailureReason::Other)) },
            Case { name: "400", status: 400, want: Some((Retry::No, FailureReason::ClientError)) },
            Case { name: "404", status: 404, want: Some((Retry::No, FailureReason::ClientError)) },
            Case { name: "429", status: 429, want: Some((Retry::Yes, FailureReason::ClientError)) },
            Case { name: "500", status: 500, want: Some((Retry::Yes, FailureReason::ServerError)) },
            Case { name: "503", status: 503, want: Some((Retry::Yes, FailureReason::ServerError)) },
        ];
        for c in cases {
            let got = check_status(c.status, b"").err().map(|e| (e.retry, e.reason));
            assert_eq!(got, c.want, "{}", c.name);
        }
    }

    #[test]
    fn body_is_appended_and_bounded() {
        let e = check_status(500, b" oops \n").unwrap_err();
        assert_eq!(e.message, "unexpected status code 500: oops");
        let e = check_status(400, b"").unwrap_err();
        assert_eq!(e.message, "unexpected status code 400");
        let mut big = vec![b'a'; MAX_ERROR_BODY - 1];
        big.extend_from_slice("é and more".as_bytes());
        let e = check_status(502, &big).unwrap_err();
        assert_eq!(e.message.len(), "unexpected status code 502: ".len() + MAX_ERROR_BODY - 1);
    }

    #[test]
    fn secrets_across_the_cut_are_redacted_or_dropped() {
        struct Case {
            name: &'static str,
            body: Vec<u8>,
            want_end: &'static str,
        }
        const TOKEN: &str = "FQoGZXIvYXdzEXAMPLEsessiontoken+/==";
        let pad = |n: usize| vec![b'a'; n];
        let with = |n: usize, tail: &str| [pad(n), tail.as_bytes().to_vec()].concat();
        let cases = [
            // The token starts 10 bytes before the cut: cutting first would keep those 10 bytes.
            Case { name: "straddles", body: with(MAX_ERROR_BODY - 10, TOKEN), want_end: "a<redacted>" },
            Case {
                name: "straddles, more after",
                body: with(MAX_ERROR_BODY - 30, &format!("{TOKEN} rest")),
                want_end: "a<redacted> rest",
            },
            // The read stopped 12 bytes into a token that redactions before it pulled under the cut.
            Case {
                name: "partial at the read limit",
                body: [TOKEN.repeat(3).into_bytes(), with(MAX_ERROR_BODY - 3 * 10 - 12, &TOKEN[..12])]
                    .concat(),
                want_end: "aaa",
            },
            // A body that was not cut keeps its end, even when it looks like a token's start.
            Case { name: "not cut", body: with(100, &TOKEN[..12]), want_end: &TOKEN[..12] },
            Case { name: "whole", body: with(5, &format!("x{TOKEN}y")), want_end: "ax<redacted>y" },
        ];
        for c in cases {
            let got = redact_bounded(&c.body, &[TOKEN, ""]);
            let text = String::from_utf8(got.clone()).unwrap();
            assert!(text.ends_with(c.want_end), "{}: …{}", c.name, &text[text.len().saturating_sub(40)..]);
            assert!(got.len() <= MAX_ERROR_BODY, "{}", c.name);
            if c.name != "not cut" {
                for k in MIN_PARTIAL_SECRET..=TOKEN.len() {
                    assert!(!text.contains(&TOKEN[..k]), "{}: {k} bytes of the token", c.name);
                }
            }
        }
        // A redaction that shortens the text pulls bytes from beyond the old cut into the message.
        let body = [TOKEN.repeat(40).into_bytes(), pad(2000)].concat();
        let got = redact_bounded(&body[..MAX_ERROR_BODY + TOKEN.len()], &[TOKEN]);
        assert!(!String::from_utf8_lossy(&got).contains(&TOKEN[..MIN_PARTIAL_SECRET]));
        // A character split by the cut is dropped whole.
        let body = with(MAX_ERROR_BODY - 1, "é");
        assert_eq!(redact_bounded(&body, &[]), pad(MAX_ERROR_BODY - 1));
    }

    #[test]
    fn redacts() {
        assert_eq!(redact("a tok b tok".into(), &["tok", ""]), "a <redacted> b <redacted>");
    }
}
