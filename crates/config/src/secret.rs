//! Secrets: values that must never be shown. Alertmanager's `Secret` and `SecretURL` render as `<secret>` in
//! `/api/v2/status` and in any log or error; [`Secret::expose`] is the one door to the value, for the code that sends.

use crate::url::Url;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The placeholder every secret renders as; also accepted when parsing a previously rendered config.
pub const SECRET_TOKEN: &str = "<secret>";

/// A string that must not be revealed. Empty means "not set" (Go's zero value).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The real value, for the integration that needs it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SECRET_TOKEN)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SECRET_TOKEN)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            s.serialize_str("")
        } else {
            s.serialize_str(SECRET_TOKEN)
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Secret(crate::yamlish::string_like(d)?))
    }
}

/// A URL that must not be revealed (Slack, Discord, MS Teams webhooks, webhook `url` since 0.26).
/// Parsing `<secret>` yields a redacted placeholder, so a config rendered by `/api/v2/status` parses again.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(Option<Url>);

impl SecretUrl {
    pub fn new(url: Url) -> Self {
        Self(Some(url))
    }

    /// The real URL; `None` when the config held the `<secret>` placeholder.
    pub fn expose(&self) -> Option<&Url> {
        self.0.as_ref()
    }

    /// True when the value came from a `<secret>` placeholder.
    pub fn is_placeholder(&self) -> bool {
        self.0.is_none()
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SECRET_TOKEN)
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SECRET_TOKEN)
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(SECRET_TOKEN)
    }
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == SECRET_TOKEN {
            return Ok(SecretUrl(None));
        }
        // Upstream redacts the URL in parse errors of secret URLs (it replaces the raw text; we also replace the
        // quoted form, which the control-character error embeds and upstream leaks).
        Url::parse(&s).map(|u| SecretUrl(Some(u))).map_err(|e| {
            let quoted = format!("{s:?}");
            let msg = e.0.replace(&quoted, &format!("\"{SECRET_TOKEN}\""));
            serde::de::Error::custom(if s.is_empty() { msg } else { msg.replace(&s, SECRET_TOKEN) })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "<secret>");
        assert_eq!(format!("{s:?}"), "<secret>");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"<secret>\"");
        assert_eq!(serde_json::to_string(&Secret::default()).unwrap(), "\"\"");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn secret_url_accepts_placeholder() {
        for bad in ["\"https://hooks.example/tok3n\\u0000\"", "\"ftp://hooks.example/tok3n\""] {
            let e = serde_json::from_str::<SecretUrl>(bad).unwrap_err().to_string();
            assert!(!e.contains("tok3n"), "{e}");
        }
        let u: SecretUrl = serde_json::from_str("\"<secret>\"").unwrap();
        assert!(u.is_placeholder());
        let u: SecretUrl = serde_json::from_str("\"https://hooks.example/x\"").unwrap();
        assert_eq!(u.expose().map(Url::as_str), Some("https://hooks.example/x"));
        assert_eq!(format!("{u} {u:?}"), "<secret> <secret>");
        assert_eq!(serde_json::to_string(&u).unwrap(), "\"<secret>\"");
        let e = serde_json::from_str::<SecretUrl>("\"ftp://x\"").unwrap_err().to_string();
        assert!(e.contains("unsupported scheme \"ftp\" for URL"), "{e}");
    }
}
