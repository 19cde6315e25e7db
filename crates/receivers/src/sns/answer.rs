//! SNS's answers: an XML `ErrorResponse` (`<Error><Type/><Code/><Message/></Error>`) on failure, turned into a
//! [`NotifyError`] that names the AWS error code and message.
//!
//! Retries follow what upstream's stack does in total: aws-sdk-go v1 retries 5xx, 429 and throttling codes
//! itself before Alertmanager's `Retrier` sees the failure (which then retries 5xx). We have no inner retry loop,
//! so 5xx, 429 and the SDK's throttling codes are all retryable here; other 4xx are permanent.

use crate::classify;
use tocsin_pipeline::notifier::{FailureReason, NotifyError, Retry};

/// aws-sdk-go v1's throttle codes (`request/retryer.go`), plus SNS's own `Throttled` and `KMSThrottling`.
pub const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottledException",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "PriorRequestNotComplete",
    "TransactionInProgressException",
    "EC2ThrottledException",
    "Throttled",
    "KMSThrottling",
];

/// The code and message of an AWS XML error, if the body is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub code: String,
    pub message: String,
}

/// The text of the first `<tag>…</tag>` in `xml`, entities decoded.
fn element(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    Some(unescape(xml[start..start + len].trim()))
}

/// Decodes XML's predefined entities and numeric character references; anything else is kept as written.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses an AWS query-protocol error body.
pub fn parse_error(body: &str) -> Option<AwsError> {
    let code = element(body, "Code")?;
    let message = element(body, "Message").unwrap_or_default();
    Some(AwsError { code, message })
}

/// The outcome of a non-2xx answer. The message reads like upstream's `unexpected status code 400: <message>`,
/// with the AWS error code in front of the message.
pub fn failure(status: u16, body: &[u8]) -> NotifyError {
    let text = classify::bounded_text(body);
    let parsed = parse_error(&text);
    let throttled = parsed.as_ref().is_some_and(|e| THROTTLING_CODES.contains(&e.code.as_str()));
    let retry = if status / 100 == 5 || status == 429 || throttled { Retry::Yes } else { Retry::No };
    let reason = match status / 100 {
        4 => FailureReason::ClientError,
        5 => FailureReason::ServerError,
        _ => FailureReason::Other,
    };
    let detail = match parsed {
        Some(e) if e.message.is_empty() => e.code,
        Some(e) => format!("{}: {}", e.code, e.message),
        None => text,
    };
    let mut message = format!("unexpected status code {status}");
    if !detail.is_empty() {
        message.push_str(": ");
        message.push_str(&detail);
    }
    NotifyError { retry, reason, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_xml(code: &str, message: &str) -> String {
        format!(
            "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type>\
             <Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
        )
    }

    #[test]
    fn retry_table() {
        struct Case {
            name: &'static str,
            status: u16,
            code: &'static str,
            want: (Retry, FailureReason),
        }
        let cases = [
            Case {
                name: "bad parameter",
                status: 400,
                code: "InvalidParameter",
                want: (Retry::No, FailureReason::ClientError),
            },
            Case {
                name: "auth",
                status: 403,
                code: "AuthorizationError",
                want: (Retry::No, FailureReason::ClientError),
            },
            Case {
                name: "throttling 400",
                status: 400,
                code: "Throttling",
                want: (Retry::Yes, FailureReason::ClientError),
            },
            Case {
                name: "throttled 429",
                status: 429,
                code: "Throttled",
                want: (Retry::Yes, FailureReason::ClientError),
            },
            Case {
                name: "kms throttling",
                status: 400,
                code: "KMSThrottling",
                want: (Retry::Yes, FailureReason::ClientError),
            },
            Case {
                name: "internal",
                status: 500,
                code: "InternalError",
                want: (Retry::Yes, FailureReason::ServerError),
            },
            Case {
                name: "unavailable",
                status: 503,
                code: "ServiceUnavailable",
                want: (Retry::Yes, FailureReason::ServerError),
            },
            Case {
                name: "not found",
                status: 404,
                code: "NotFound",
                want: (Retry::No, FailureReason::ClientError),
            },
        ];
        for c in cases {
            let e = failure(c.status, error_xml(c.code, "m").as_bytes());
            assert_eq!((e.retry, e.reason), c.want, "{}", c.name);
        }
    }

    #[test]
    fn message_names_code_and_text() {
        let e = failure(
            400,
            error_xml("InvalidParameter", "Invalid parameter: Topic &amp; &lt;x&gt; &#233;").as_bytes(),
        );
        assert_eq!(
            e.message,
            "unexpected status code 400: InvalidParameter: Invalid parameter: Topic & <x> é"
        );
        let e = failure(502, b"<html>bad gateway</html>");
        assert_eq!(e.message, "unexpected status code 502: <html>bad gateway</html>");
        let e = failure(500, b"");
        assert_eq!(e.message, "unexpected status code 500");
    }

    #[test]
    fn unescape_keeps_unknown_entities() {
        assert_eq!(unescape("a &bogus; &amp; & b &#xZZ;"), "a &bogus; & & b &#xZZ;");
    }
}
