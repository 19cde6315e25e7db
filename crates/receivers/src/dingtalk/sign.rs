//! Request signing of the chat robots: HMAC-SHA256, standard Base64 and (DingTalk) URL encoding.
//!
//! DingTalk (加签): `sign = urlencode(base64(HMAC(key = secret, msg = timestamp_ms + "\n" + secret)))`, sent as
//! the query parameters `timestamp` and `sign`. Feishu: `sign = base64(HMAC(key = timestamp_s + "\n" + secret,
//! msg = ""))`, sent in the JSON body. Both reject timestamps more than an hour from their clock.

use ring::hmac;

/// Standard Base64 with padding (RFC 4648 §4).
pub fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters (what Go's `url.QueryEscape` does for Base64).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg).as_ref().to_vec()
}

/// DingTalk's `sign` query value (already URL-encoded) for `timestamp_ms`.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let string_to_sign = format!("{timestamp_ms}\n{secret}");
    url_encode(&base64(&hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes())))
}

/// Feishu's `sign` body value for `timestamp_s` (not URL-encoded: it travels in JSON).
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    let key = format!("{timestamp_s}\n{secret}");
    base64(&hmac_sha256(key.as_bytes(), b""))
}

/// `url` with DingTalk's `timestamp` and `sign` parameters appended.
pub fn dingtalk_signed_url(url: &str, secret: &str, timestamp_ms: i64) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}timestamp={timestamp_ms}&sign={}", dingtalk_sign(secret, timestamp_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
        ];
        for (input, want) in cases {
            assert_eq!(base64(input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn dingtalk_vector() {
        assert_eq!(
            dingtalk_sign("SEC0123456789abcdef", 1_700_000_000_000),
            "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D"
        );
        assert_eq!(
            dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", "SEC0123456789abcdef", 1_700_000_000_000),
            "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000&sign=TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D"
        );
    }

    #[test]
    fn feishu_vector() {
        assert_eq!(feishu_sign("demo-secret", 1_700_000_000), "mYHw2R2SOm8Rw/sne3lQdmz4sOfntKR+1P/8RKKTwmA=");
    }
}
