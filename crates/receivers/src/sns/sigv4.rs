//! AWS Signature Version 4 (header-based, `AWS4-HMAC-SHA256`), written out rather than pulled in with an AWS SDK:
//! SNS's Publish is one form POST, and the signature is a few HMACs over a canonical text of the request.
//!
//! Shaped like aws-sdk-go v1's signer, which Alertmanager 0.25 uses for SNS: every header given is signed (the
//! caller passes `content-length`, `content-type`, `host`, `x-amz-date` and, with temporary credentials,
//! `x-amz-security-token`, which is what v1 signs for a Publish), and the URI path is escaped once more on top of
//! its wire encoding (services other than S3 expect that double encoding).

use chrono::{DateTime, Utc};
use ring::{digest, hmac};
use std::fmt;

/// The algorithm name in the `Authorization` header and the string to sign.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// An access key pair and, for temporary credentials (STS), the session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
}

/// Only the access key id (not secret, it shows in every `Authorization` header) is printed.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<secret>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<secret>"))
            .finish()
    }
}

/// The parts of a request that the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as sent on the wire (already percent-encoded), e.g. `/` or `/a%20b/`.
    pub path: &'a str,
    /// The raw query string without `?` (empty for none).
    pub query: &'a str,
    /// Every header to sign, `x-amz-date` included; names in any case.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
}

/// Where and as whom a request is signed.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
}

/// The intermediate texts and the result, exposed so tests can compare each with AWS's published vectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub canonical_request: String,
    pub string_to_sign: String,
    /// Lower-case header names joined by `;`.
    pub signed_headers: String,
    /// Hex HMAC.
    pub signature: String,
    /// The `Authorization` header value.
    pub authorization: String,
}

/// `X-Amz-Date`'s format: ISO 8601 basic, UTC.
pub fn amz_date(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> hmac::Tag {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg)
}

/// RFC 3986 percent-encoding of everything but unreserved characters (and `/` when `keep_slash`).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    uri_encode_bytes(s.as_bytes(), keep_slash)
}

fn uri_encode_bytes(bytes: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query component decoded as Go's `url.QueryUnescape` does (`+` is a space); an invalid `%` escape is kept
/// as written, so it is signed as the literal text it will be read as (`%25…`).
fn query_unescape(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(decoded)) if hex.is_some_and(|h| h.bytes().all(|c| c.is_ascii_hexdigit())) => {
                out.push(decoded);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    out
}

/// The canonical query string: every name and value decoded and re-encoded per RFC 3986 (space as `%20`,
/// reserved characters escaped, as aws-sdk-go v1 rewrites the query before signing), the pairs sorted by name,
/// then value, and joined with `&`.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode_bytes(&query_unescape(k), false), uri_encode_bytes(&query_unescape(v), false))
        })
        .collect();
    pairs.sort_unstable();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// A header value trimmed, with inner runs of white space collapsed to one space.
fn canonical_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Signs `req` at `now`. `x-amz-date` in `req.headers` must be [`amz_date`]`(now)`.
pub fn sign(req: &Request<'_>, creds: &Credentials, scope: Scope<'_>, now: DateTime<Utc>) -> Signature {
    let date_time = amz_date(now);
    let date = &date_time[..8];

    // Headers: lower-case names, sorted; repeated names joined by commas in their given order.
    let mut headers: Vec<(String, String)> =
        req.headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), canonical_value(v))).collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut merged: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        match merged.last_mut() {
            Some((last, joined)) if *last == name => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => merged.push((name, value)),
        }
    }
    let canonical_headers: String = merged.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_headers = merged.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");

    let path = if req.path.is_empty() { "/" } else { req.path };
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        req.method,
        uri_encode(path, true),
        canonical_query(req.query),
        sha256_hex(req.payload)
    );

    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign =
        format!("{ALGORITHM}\n{date_time}\n{credential_scope}\n{}", sha256_hex(canonical_request.as_bytes()));

    let k_date = hmac_sha256(format!("AWS4{}", creds.secret_key).as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(k_date.as_ref(), scope.region.as_bytes());
    let k_service = hmac_sha256(k_region.as_ref(), scope.service.as_bytes());
    let k_signing = hmac_sha256(k_service.as_ref(), b"aws4_request");
    let signature = hex(hmac_sha256(k_signing.as_ref(), string_to_sign.as_bytes()).as_ref());

    let authorization = format!(
        "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key
    );
    Signature { canonical_request, string_to_sign, signed_headers, signature, authorization }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The credentials, scope and time of AWS's aws-sig-v4-test-suite.
    fn suite() -> (Credentials, DateTime<Utc>) {
        let creds = Credentials {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        (creds, Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap())
    }

    const SCOPE: Scope<'static> = Scope { region: "us-east-1", service: "service" };
    const HOST: (&str, &str) = ("Host", "example.amazonaws.com");
    const DATE: (&str, &str) = ("X-Amz-Date", "20150830T123600Z");

    #[test]
    fn aws_test_suite_vectors() {
        struct Case {
            name: &'static str,
            req: Request<'static>,
            canonical_request: Option<&'static str>,
            string_to_sign: Option<&'static str>,
            authorization: &'static str,
        }
        let (creds, now) = suite();
        let cases = [
            Case {
                name: "get-vanilla",
                req: Request { method: "GET", path: "/", query: "", headers: &[HOST, DATE], payload: b"" },
                canonical_request: Some(
                    "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
                     e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                ),
                string_to_sign: Some(
                    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
                     bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
                ),
                authorization:
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                    SignedHeaders=host;x-amz-date, \
                    Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            },
            Case {
                name: "get-vanilla-query-order-key-case",
                req: Request {
                    method: "GET",
                    path: "/",
                    query: "Param2=value2&Param1=value1",
                    headers: &[HOST, DATE],
                    payload: b"",
                },
                canonical_request: None,
                string_to_sign: None,
                authorization:
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                    SignedHeaders=host;x-amz-date, \
                    Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            },
            Case {
                name: "get-vanilla-query-order-key",
                req: Request {
                    method: "GET",
                    path: "/",
                    query: "Param1=value2&Param1=Value1",
                    headers: &[HOST, DATE],
                    payload: b"",
                },
                canonical_request: None,
                string_to_sign: None,
                authorization:
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                    SignedHeaders=host;x-amz-date, \
                    Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1",
            },
            Case {
                name: "get-vanilla-query-unreserved",
                req: Request {
                    method: "GET",
                    path: "/",
                    query: "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=\
                            -._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    headers: &[HOST, DATE],
                    payload: b"",
                },
                canonical_request: Some(
                    "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=\
                     -._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\
                     host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
                     e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                ),
                string_to_sign: None,
                authorization:
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                    SignedHeaders=host;x-amz-date, \
                    Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
            },
            Case {
                name: "get-vanilla-utf8-query",
                req: Request {
                    method: "GET",
                    path: "/",
                    query: "ሴ=bar",
                    headers: &[HOST, DATE],
                    payload: b"",
                },
                canonical_request: Some(
                    "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
                     host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                ),
                string_to_sign: None,
                authorization:
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                    SignedHeaders=host;x-amz-date, \
                    Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            },
            Case {
                name: "get-vanilla-query-order-encoded",
                req: Request {
                    method: "GET",
                    path: "/",
                    query: "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
                    headers: &[HOST, DATE],
                    payload: b"",
                },
                canonical_request: None,
                string_to_sign: None,
                authorization:
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                    SignedHeaders=host;x-amz-date, \
                    Signature=371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
            },
            Case {
                name: "post-vanilla",
                req: Request { method: "POST", path: "/", query: "", headers: &[HOST, DATE], payload: b"" },
                canonical_request: None,
                string_to_sign: None,
                authorization:
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                    SignedHeaders=host;x-amz-date, \
                    Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            },
            Case {
                name: "post-x-www-form-urlencoded",
                req: Request {
                    method: "POST",
                    path: "/",
                    query: "",
                    headers: &[("Content-Type", "application/x-www-form-urlencoded"), HOST, DATE],
                    payload: b"Param1=value1",
                },
                canonical_request: Some(
                    "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n\
                     x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n\
                     9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                ),
                string_to_sign: Some(
                    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
                     42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
                ),
                authorization:
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                    SignedHeaders=content-type;host;x-amz-date, \
                    Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
            },
        ];
        for c in cases {
            let got = sign(&c.req, &creds, SCOPE, now);
            if let Some(want) = c.canonical_request {
                assert_eq!(got.canonical_request, want, "{}: canonical request", c.name);
            }
            if let Some(want) = c.string_to_sign {
                assert_eq!(got.string_to_sign, want, "{}: string to sign", c.name);
            }
            assert_eq!(got.authorization, c.authorization, "{}", c.name);
        }
    }

    #[test]
    fn header_values_are_trimmed_and_repeated_names_joined() {
        let (creds, now) = suite();
        let req = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &[HOST, ("My-Header1", "  a   b  "), ("my-header1", "c"), DATE],
            payload: b"",
        };
        let got = sign(&req, &creds, SCOPE, now);
        assert!(got.canonical_request.contains("\nmy-header1:a b,c\n"), "{}", got.canonical_request);
        assert_eq!(got.signed_headers, "host;my-header1;x-amz-date");
    }

    #[test]
    fn query_is_decoded_and_encoded_again() {
        struct Case {
            name: &'static str,
            query: &'static str,
            want: &'static str,
        }
        // Expected by hand from RFC 3986 (only A-Z a-z 0-9 - . _ ~ stay) and form decoding (`+` is a space).
        let cases = [
            Case {
                name: "reserved and space",
                query: "b=a+b*c!d'e(f)g:h/i j%2Bk&a=x%20y",
                want: "a=x%20y&b=a%20b%2Ac%21d%27e%28f%29g%3Ah%2Fi%20j%2Bk",
            },
            Case { name: "sorted by name then value", query: "k=2&k=1&K=3&k", want: "K=3&k=&k=1&k=2" },
            Case { name: "lower-case escapes", query: "%7e=%2a%7E", want: "~=%2A~" },
            Case { name: "invalid escape kept literally", query: "x=100%&y=%zz", want: "x=100%25&y=%25zz" },
            Case { name: "empty pairs skipped", query: "&&a=1&", want: "a=1" },
        ];
        for c in cases {
            assert_eq!(canonical_query(c.query), c.want, "{}", c.name);
        }
        // And inside the canonical request.
        let (creds, now) = suite();
        let req = Request {
            method: "POST",
            path: "/",
            query: "b=a+b*c!d'e(f)g:h/i j%2Bk&a=x%20y",
            headers: &[HOST, DATE],
            payload: b"",
        };
        let got = sign(&req, &creds, SCOPE, now);
        assert!(
            got.canonical_request
                .starts_with("POST\n/\na=x%20y&b=a%20b%2Ac%21d%27e%28f%29g%3Ah%2Fi%20j%2Bk\n"),
            "{}",
            got.canonical_request
        );
    }

    #[test]
    fn path_is_encoded_again() {
        let (creds, now) = suite();
        let req =
            Request { method: "POST", path: "/a%20b/", query: "", headers: &[HOST, DATE], payload: b"" };
        let got = sign(&req, &creds, SCOPE, now);
        assert!(got.canonical_request.starts_with("POST\n/a%2520b/\n"), "{}", got.canonical_request);
    }

    #[test]
    fn debug_hides_secrets() {
        let creds = Credentials {
            access_key: "AK".into(),
            secret_key: "SK".into(),
            session_token: Some("TOK".into()),
        };
        let s = format!("{creds:?}");
        assert!(!s.contains("SK") && !s.contains("TOK"), "{s}");
    }
}
