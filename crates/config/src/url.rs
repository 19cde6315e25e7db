//! Validated URLs and `host:port` addresses, with Go's acceptance rules and error texts.
//!
//! The original text is kept verbatim because upstream renders `url.URL.String()`, which for the URLs people
//! write is their input unchanged (no trailing slash added, unlike WHATWG parsers).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An `http`/`https` URL with a host (Alertmanager's `config.URL`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Url {
    raw: String,
}

/// Go-worded URL error (`unsupported scheme "ftp" for URL`, `missing host for URL`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(pub String);

impl Url {
    pub fn parse(s: &str) -> Result<Self, UrlError> {
        if s.chars().any(|c| c.is_control()) {
            return Err(UrlError(format!("parse {s:?}: net/url: invalid control character in URL")));
        }
        let scheme = scheme_of(s).unwrap_or_default().to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(UrlError(format!("unsupported scheme {scheme:?} for URL")));
        }
        let u = Url { raw: s.to_owned() };
        if u.host().is_empty() {
            return Err(UrlError("missing host for URL".to_owned()));
        }
        Ok(u)
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    fn after_scheme(&self) -> &str {
        self.raw.split_once(':').map_or("", |(_, r)| r)
    }

    /// `user@host:port`, empty when the URL has no `//` authority.
    fn authority(&self) -> &str {
        match self.after_scheme().strip_prefix("//") {
            Some(rest) => rest.split(['/', '?', '#']).next().unwrap_or(""),
            None => "",
        }
    }

    /// Host and port, without userinfo.
    pub fn host(&self) -> &str {
        let a = self.authority();
        a.rsplit_once('@').map_or(a, |(_, h)| h)
    }

    /// The path (between authority and query/fragment).
    pub fn path(&self) -> &str {
        let rest = self.after_scheme();
        let rest = match rest.strip_prefix("//") {
            Some(r) => &r[r.find(['/', '?', '#']).unwrap_or(r.len())..],
            None => rest,
        };
        rest.split(['?', '#']).next().unwrap_or("")
    }

    /// Upstream appends `/` to the path of OpsGenie, WeChat and VictorOps API URLs.
    pub fn with_trailing_slash(&self) -> Url {
        if self.path().ends_with('/') {
            return self.clone();
        }
        let path = self.path();
        let auth_end = self.raw.len() - self.after_scheme().len() + 2 + self.authority().len();
        let path_end = auth_end + path.len();
        let mut raw = String::with_capacity(self.raw.len() + 1);
        raw.push_str(&self.raw[..path_end]);
        raw.push('/');
        raw.push_str(&self.raw[path_end..]);
        Url { raw }
    }
}

fn scheme_of(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .then_some(scheme)
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Debug output ends up in logs: a password in the userinfo is replaced by `xxxxx`, as Go's `URL.Redacted`.
impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let userinfo = self.authority().rsplit_once('@').map(|(u, _)| u);
        match userinfo.and_then(|u| u.split_once(':')) {
            Some((user, password)) if !password.is_empty() => {
                let start = self.raw.len() - self.after_scheme().len() + 2 + user.len() + 1;
                let end = start + password.len();
                write!(f, "Url({}xxxxx{})", &self.raw[..start], &self.raw[end..])
            }
            _ => write!(f, "Url({})", self.raw),
        }
    }
}

impl Serialize for Url {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Url {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Url::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A `host:port` address (SMTP smarthost). Empty means unset.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct HostPort {
    pub host: String,
    pub port: String,
}

impl HostPort {
    /// Go's `net.SplitHostPort` plus upstream's "port cannot be empty".
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Ok(HostPort::default());
        }
        let addr_err = |why: &str| format!("address {s}: {why}");
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(|| addr_err("missing ']' in address"))?;
            let p = after.strip_prefix(':').ok_or_else(|| addr_err("missing port in address"))?;
            (h, p)
        } else {
            let (h, p) = s.rsplit_once(':').ok_or_else(|| addr_err("missing port in address"))?;
            if h.contains(':') {
                return Err(addr_err("too many colons in address"));
            }
            (h, p)
        };
        if port.is_empty() {
            return Err(format!("address {s:?}: port cannot be empty"));
        }
        Ok(HostPort { host: host.to_owned(), port: port.to_owned() })
    }

    pub fn is_empty(&self) -> bool {
        self.host.is_empty() && self.port.is_empty()
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Debug for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostPort({self})")
    }
}

impl Serialize for HostPort {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HostPort {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        HostPort::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_rules() {
        struct Case {
            name: &'static str,
            input: &'static str,
            want: Result<&'static str, &'static str>,
        }
        let cases = [
            Case { name: "plain", input: "http://127.0.0.1:5001/", want: Ok("127.0.0.1:5001") },
            Case { name: "userinfo", input: "https://u:p@h.example/x?y#z", want: Ok("h.example") },
            Case { name: "ftp", input: "ftp://x", want: Err("unsupported scheme \"ftp\" for URL") },
            Case { name: "no scheme", input: "example.org", want: Err("unsupported scheme \"\" for URL") },
            Case { name: "no host", input: "http:///path", want: Err("missing host for URL") },
            Case { name: "opaque", input: "http:foo", want: Err("missing host for URL") },
        ];
        for c in cases {
            let got = Url::parse(c.input).map_err(|e| e.0);
            match (got, c.want) {
                (Ok(u), Ok(h)) => assert_eq!(u.host(), h, "{}", c.name),
                (Err(e), Err(w)) => assert_eq!(e, w, "{}", c.name),
                (g, w) => panic!("{}: got {g:?}, want {w:?}", c.name),
            }
        }
    }

    #[test]
    fn trailing_slash() {
        let u = Url::parse("https://bob:hunter2@h/p").unwrap();
        assert_eq!(format!("{u:?}"), "Url(https://bob:xxxxx@h/p)");
        let u = Url::parse("https://bob@h/p").unwrap();
        assert_eq!(format!("{u:?}"), "Url(https://bob@h/p)");
        let u = Url::parse("https://api.opsgenie.com?x=1").unwrap();
        assert_eq!(u.with_trailing_slash().as_str(), "https://api.opsgenie.com/?x=1");
        let u = Url::parse("https://h/cgi-bin").unwrap();
        assert_eq!(u.with_trailing_slash().as_str(), "https://h/cgi-bin/");
        let u = Url::parse("https://h/a/").unwrap();
        assert_eq!(u.with_trailing_slash().as_str(), "https://h/a/");
    }

    #[test]
    fn host_port() {
        assert_eq!(HostPort::parse("smtp.example:25").unwrap().to_string(), "smtp.example:25");
        assert_eq!(HostPort::parse("[::1]:25").unwrap().to_string(), "[::1]:25");
        assert_eq!(HostPort::parse("h").unwrap_err(), "address h: missing port in address");
        assert_eq!(HostPort::parse("h:").unwrap_err(), "address \"h:\": port cannot be empty");
        assert!(HostPort::parse("").unwrap().is_empty());
    }
}
