//! `basic_auth_users`: HTTP basic auth against bcrypt hashes (exporter-toolkit `webHandler`).
//!
//! The user name is compared in constant time against every configured user, and an unknown user is checked
//! against a fixed dummy hash, so timing reveals neither which users exist nor how much of a name matched.
//! bcrypt is slow on purpose: verdicts are cached (keyed by a SHA-256 of user, hash and password, never the
//! password itself) and at most one bcrypt runs at a time, off the async threads, as upstream serialises it.

use base64::Engine;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use subtle::ConstantTimeEq;

/// bcrypt of "fakepassword" (upstream's dummy), checked for unknown users so they cost the same time.
const DUMMY_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";
/// Cached verdicts kept at most; the cache is emptied when it grows past this.
const CACHE_MAX: usize = 1024;

/// Checks credentials; shared by every connection.
#[derive(Debug, Default)]
pub struct BasicAuth {
    cache: Mutex<HashMap<[u8; 32], bool>>,
    bcrypt: tokio::sync::Mutex<()>,
}

impl BasicAuth {
    /// Whether the `Authorization` header value grants access for `users` (which must not be empty).
    pub async fn allows(&self, users: &BTreeMap<String, String>, authorization: Option<&[u8]>) -> bool {
        let Some((user, pass)) = authorization.and_then(parse_basic) else {
            return false;
        };
        let mut hash = DUMMY_HASH;
        let mut known = subtle::Choice::from(0u8);
        for (name, h) in users {
            let eq = name.as_bytes().ct_eq(user.as_bytes());
            known |= eq;
            if bool::from(eq) {
                hash = h;
            }
        }
        let known = bool::from(known);
        let key = cache_key(&user, hash, &pass);
        if let Some(ok) = self.cache.lock().get(&key) {
            return *ok && known;
        }
        let _one_at_a_time = self.bcrypt.lock().await;
        let hash_owned = hash.to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            bcrypt::verify(pass.as_bytes(), &hash_owned).unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        let verdict = ok && known;
        let mut cache = self.cache.lock();
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, verdict);
        verdict
    }
}

/// Go's `Request.BasicAuth`: `Basic <base64(user:pass)>`, scheme case-insensitive, split at the first colon.
pub fn parse_basic(value: &[u8]) -> Option<(String, String)> {
    let value = std::str::from_utf8(value).ok()?;
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case("basic ") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

fn cache_key(user: &str, hash: &str, pass: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [user, hash, pass] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part.as_bytes());
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(ctx.finish().as_ref());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(user: &str, pass: &str) -> Vec<u8> {
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        format!("Basic {b}").into_bytes()
    }

    struct Case {
        name: &'static str,
        input: Option<Vec<u8>>,
        want: bool,
    }

    #[tokio::test]
    async fn checks_users() {
        let users = BTreeMap::from([("alice".to_owned(), bcrypt::hash("s3cret:x", 4).expect("hash"))]);
        let auth = BasicAuth::default();
        let cases = [
            Case { name: "right", input: Some(header("alice", "s3cret:x")), want: true },
            Case { name: "right again (cached)", input: Some(header("alice", "s3cret:x")), want: true },
            Case { name: "wrong password", input: Some(header("alice", "nope")), want: false },
            Case { name: "unknown user", input: Some(header("bob", "s3cret:x")), want: false },
            Case { name: "prefix of a user", input: Some(header("alic", "s3cret:x")), want: false },
            Case { name: "no header", input: None, want: false },
            Case { name: "bearer", input: Some(b"Bearer abc".to_vec()), want: false },
            Case { name: "bad base64", input: Some(b"Basic !!!".to_vec()), want: false },
            Case {
                name: "lowercase scheme",
                input: Some(header("alice", "s3cret:x")[5..].to_vec()),
                want: false,
            },
        ];
        for c in cases {
            assert_eq!(auth.allows(&users, c.input.as_deref()).await, c.want, "{}", c.name);
        }
        let lower = format!("basic {}", base64::engine::general_purpose::STANDARD.encode("alice:s3cret:x"));
        assert!(auth.allows(&users, Some(lower.as_bytes())).await);
    }
}
