//! `--web.external-url` and `--web.route-prefix`, derived exactly as Alertmanager's `extURL` and `main` do: the
//! external URL appears in every notification (`.ExternalURL`, alert generator links), so it must come out the
//! same for the same flags.
//!
//! The URL is parsed with Go `net/url.Parse`'s rules (scheme, optional `//authority`, path, query, fragment; an
//! opaque part after `scheme:` is accepted as Go accepts it) into a small struct that prints back the same way.

use std::fmt;

use crate::flags::split_host_port;

/// Why the external URL could not be determined; the text is upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WebUrlError(pub String);

/// An absolute `http`/`https` URL as Go's `url.URL` holds it. `path` keeps its `%` escapes as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalUrl {
    /// Lower-cased, `http` or `https`.
    pub scheme: String,
    /// Set for `scheme:opaque` (no `//`), which Go accepts.
    pub opaque: Option<String>,
    /// `user:password` before `@`, if any.
    pub userinfo: Option<String>,
    /// `host[:port]`, brackets kept for IPv6.
    pub host: String,
    /// No trailing slash; empty or starting with `/`.
    pub path: String,
    pub query: Option<String>,
    pub fragment: Option<String>,
}

impl fmt::Display for ExternalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = GoUrl {
            scheme: self.scheme.clone(),
            opaque: self.opaque.clone(),
            authority: Some(Authority { userinfo: self.userinfo.clone(), host: self.host.clone() }),
            path: self.path.clone(),
            query: self.query.clone(),
            fragment: self.fragment.clone(),
        };
        f.write_str(&url.to_string())
    }
}

/// Alertmanager's `extURL`: the flag if set, else `http://<hostname>:<port of first listen address>/`; scheme
/// must be http or https; trailing slashes of the path are trimmed and a path gets a leading `/`.
pub fn external_url(
    flag: Option<&str>,
    first_listen: &str,
    hostname: &str,
) -> Result<ExternalUrl, WebUrlError> {
    let derived;
    let raw = match flag {
        Some(raw) if !raw.is_empty() => raw,
        _ => {
            let (_, port) = split_host_port(first_listen).map_err(WebUrlError)?;
            derived = format!("http://{hostname}:{port}/");
            &derived
        }
    };
    let url = GoUrl::parse(raw).map_err(|e| WebUrlError(format!("parse {}: {e}", go_quote(raw))))?;
    if url.scheme != "http" && url.scheme != "https" {
        return Err(WebUrlError(format!(
            "{}: invalid {} scheme, only 'http' and 'https' are supported",
            go_quote(&url.to_string()),
            go_quote(&url.scheme)
        )));
    }
    let mut path = url.path.trim_end_matches('/').to_owned();
    if !path.is_empty() && !path.starts_with('/') {
        path.insert(0, '/');
    }
    let authority = url.authority.unwrap_or_default();
    Ok(ExternalUrl {
        scheme: url.scheme,
        opaque: url.opaque,
        userinfo: authority.userinfo,
        host: authority.host,
        path,
        query: url.query,
        fragment: url.fragment,
    })
}

/// The route prefix: the flag if set, else the external URL's path, normalised to `/` + the path without
/// leading or trailing slashes (`/`, `/alertmanager`).
pub fn route_prefix(flag: Option<&str>, external: &ExternalUrl) -> String {
    let raw = match flag {
        Some(raw) if !raw.is_empty() => raw,
        _ => &external.path,
    };
    format!("/{}", raw.trim_matches('/'))
}

fn go_quote(s: &str) -> String {
    tocsin_model::duration::go_quote(s)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Authority {
    userinfo: Option<String>,
    host: String,
}

/// The parts of Go's `url.URL` that `url.Parse` fills for the inputs used here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct GoUrl {
    scheme: String,
    opaque: Option<String>,
    authority: Option<Authority>,
    path: String,
    query: Option<String>,
    fragment: Option<String>,
}

impl GoUrl {
    /// Go `url.Parse` (errors without the `parse "<url>": ` prefix).
    fn parse(raw: &str) -> Result<GoUrl, String> {
        let (rest, fragment) = match raw.split_once('#') {
            Some((rest, fragment)) => (rest, Some(fragment.to_owned())),
            None => (raw, None),
        };
        if rest.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err("net/url: invalid control character in URL".to_owned());
        }
        let mut url = GoUrl { fragment, ..GoUrl::default() };
        let (scheme, mut rest) = split_scheme(rest)?;
        url.scheme = scheme.to_ascii_lowercase();
        if rest.ends_with('?') && rest.matches('?').count() == 1 {
            rest = &rest[..rest.len() - 1];
            url.query = Some(String::new());
        } else if let Some((before, query)) = rest.split_once('?') {
            url.query = Some(query.to_owned());
            rest = before;
        }
        if !rest.starts_with('/') {
            if !url.scheme.is_empty() {
                url.opaque = Some(rest.to_owned());
                return Ok(url);
            }
            let segment = rest.split('/').next().unwrap_or_default();
            if segment.contains(':') {
                return Err("first path segment in URL cannot contain colon".to_owned());
            }
        }
        if let Some(after) = rest.strip_prefix("//") {
            if !url.scheme.is_empty() || !rest.starts_with("///") {
                let end = after.find('/').unwrap_or(after.len());
                url.authority = Some(parse_authority(&after[..end])?);
                rest = &after[end..];
            }
        }
        check_escapes(rest)?;
        url.path = rest.to_owned();
        Ok(url)
    }
}

impl fmt::Display for GoUrl {
    /// Go `url.URL.String()` for these fields.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.scheme.is_empty() {
            write!(f, "{}:", self.scheme)?;
        }
        if let Some(opaque) = &self.opaque {
            f.write_str(opaque)?;
        } else {
            let has_host =
                self.authority.as_ref().is_some_and(|a| !a.host.is_empty() || a.userinfo.is_some());
            if !self.scheme.is_empty() || has_host {
                f.write_str("//")?;
                if let Some(authority) = &self.authority {
                    if let Some(userinfo) = &authority.userinfo {
                        write!(f, "{userinfo}@")?;
                    }
                    f.write_str(&authority.host)?;
                }
            }
            if !self.path.is_empty() && !self.path.starts_with('/') && has_host {
                f.write_str("/")?;
            }
            f.write_str(&self.path)?;
        }
        if let Some(query) = &self.query {
            write!(f, "?{query}")?;
        }
        if let Some(fragment) = &self.fragment {
            write!(f, "#{fragment}")?;
        }
        Ok(())
    }
}

/// Go's `getScheme`: letters first, then letters, digits, `+ - .`, up to `:`.
fn split_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return Err("missing protocol scheme".to_owned()),
            ':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

/// Go's `parseAuthority` + `parseHost`, limited to the checks that reject input.
fn parse_authority(authority: &str) -> Result<Authority, String> {
    let (userinfo, host) = match authority.rfind('@') {
        Some(at) => (Some(authority[..at].to_owned()), &authority[at + 1..]),
        None => (None, authority),
    };
    let port_part = if host.starts_with('[') {
        let Some(end) = host.find(']') else {
            return Err("missing ']' in host".to_owned());
        };
        &host[end + 1..]
    } else {
        match host.rfind(':') {
            Some(colon) => &host[colon..],
            None => "",
        }
    };
    let valid_port = port_part.is_empty()
        || port_part.strip_prefix(':').is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !valid_port {
        return Err(format!("invalid port {} after host", go_quote(port_part)));
    }
    Ok(Authority { userinfo, host: host.to_owned() })
}

/// Go's `unescape` validation: every `%` starts a two-hex-digit escape.
fn check_escapes(path: &str) -> Result<(), String> {
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok =
                i + 2 < bytes.len() && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit();
            if !ok {
                let end = (i + 3).min(bytes.len());
                let bad = String::from_utf8_lossy(&bytes[i..end]);
                return Err(format!("invalid URL escape {}", go_quote(&bad)));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_url_table() {
        struct Case {
            name: &'static str,
            flag: Option<&'static str>,
            listen: &'static str,
            want: Result<&'static str, &'static str>,
            want_path: &'static str,
        }
        let cases = [
            Case { name: "derived", flag: None, listen: ":9093", want: Ok("http://vm:9093"), want_path: "" },
            Case {
                name: "derived empty flag",
                flag: Some(""),
                listen: "0.0.0.0:19093",
                want: Ok("http://vm:19093"),
                want_path: "",
            },
            Case {
                name: "derived v6",
                flag: None,
                listen: "[::1]:9093",
                want: Ok("http://vm:9093"),
                want_path: "",
            },
            Case {
                name: "derived no port",
                flag: None,
                listen: "localhost",
                want: Err("address localhost: missing port in address"),
                want_path: "",
            },
            Case {
                name: "explicit",
                flag: Some("http://am.example.com/"),
                listen: ":9093",
                want: Ok("http://am.example.com"),
                want_path: "",
            },
            Case {
                name: "path trimmed",
                flag: Some("https://example.com/alertmanager///"),
                listen: ":9093",
                want: Ok("https://example.com/alertmanager"),
                want_path: "/alertmanager",
            },
            Case {
                name: "upper scheme",
                flag: Some("HTTP://x:1/a"),
                listen: ":9093",
                want: Ok("http://x:1/a"),
                want_path: "/a",
            },
            Case {
                name: "query kept",
                flag: Some("http://x/a/?b=c#f"),
                listen: ":9093",
                want: Ok("http://x/a?b=c#f"),
                want_path: "/a",
            },
            Case {
                name: "userinfo",
                flag: Some("http://u:p@x:8080/"),
                listen: ":9093",
                want: Ok("http://u:p@x:8080"),
                want_path: "",
            },
            Case {
                name: "ftp",
                flag: Some("ftp://x/"),
                listen: ":9093",
                want: Err(r#""ftp://x/": invalid "ftp" scheme, only 'http' and 'https' are supported"#),
                want_path: "",
            },
            Case {
                name: "host:port without scheme",
                flag: Some("localhost:9093"),
                listen: ":9093",
                want: Err(
                    r#""localhost:9093": invalid "localhost" scheme, only 'http' and 'https' are supported"#,
                ),
                want_path: "",
            },
            Case {
                name: "no scheme",
                flag: Some("example.com/am"),
                listen: ":9093",
                want: Err(r#""example.com/am": invalid "" scheme, only 'http' and 'https' are supported"#),
                want_path: "",
            },
            Case {
                name: "scheme-relative",
                flag: Some("//example.com/am"),
                listen: ":9093",
                want: Err(r#""//example.com/am": invalid "" scheme, only 'http' and 'https' are supported"#),
                want_path: "",
            },
            Case {
                name: "missing scheme",
                flag: Some("://x"),
                listen: ":9093",
                want: Err(r#"parse "://x": missing protocol scheme"#),
                want_path: "",
            },
            Case {
                name: "bad port",
                flag: Some("http://x:y/"),
                listen: ":9093",
                want: Err(r#"parse "http://x:y/": invalid port ":y" after host"#),
                want_path: "",
            },
            Case {
                name: "bad escape",
                flag: Some("http://x/%zz"),
                listen: ":9093",
                want: Err(r#"parse "http://x/%zz": invalid URL escape "%zz""#),
                want_path: "",
            },
            Case {
                name: "control character",
                flag: Some("http://x/\n"),
                listen: ":9093",
                want: Err(r#"parse "http://x/\n": net/url: invalid control character in URL"#),
                want_path: "",
            },
        ];
        for case in cases {
            let got = external_url(case.flag, case.listen, "vm");
            match (&got, case.want) {
                (Ok(url), Ok(want)) => {
                    assert_eq!(url.to_string(), want, "{}", case.name);
                    assert_eq!(url.path, case.want_path, "{}", case.name);
                }
                (Err(err), Err(want)) => assert_eq!(err.to_string(), want, "{}", case.name),
                _ => panic!("{}: got {got:?}, want {:?}", case.name, case.want),
            }
        }
    }

    #[test]
    fn route_prefix_table() {
        let root = external_url(Some("http://x:9093/"), ":9093", "h").expect("valid");
        let sub = external_url(Some("http://x:9093/am/"), ":9093", "h").expect("valid");
        let cases: [(Option<&str>, &ExternalUrl, &str); 8] = [
            (None, &root, "/"),
            (None, &sub, "/am"),
            (Some(""), &sub, "/am"),
            (Some("/"), &sub, "/"),
            (Some("prefix"), &root, "/prefix"),
            (Some("/prefix/"), &root, "/prefix"),
            (Some("//a/b//"), &root, "/a/b"),
            (Some("a/b"), &sub, "/a/b"),
        ];
        for (flag, url, want) in cases {
            assert_eq!(route_prefix(flag, url), want, "flag {flag:?}");
        }
    }
}
