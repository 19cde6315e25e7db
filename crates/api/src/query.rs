//! Query-string parameters as go-openapi binds them: repeated `filter`, Go-style booleans.

/// The decoded `name=value` pairs of a query string, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses `a=1&b=x%20y+z`: `+` is a space, bad escapes are kept literally.
    pub fn parse(raw: &str) -> Self {
        Query(
            raw.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (`collectionFormat: multi`).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A boolean parameter with default `true`. An empty value is the default; a value `strconv.ParseBool`
    /// rejects reads as false, which is what 0.25 does (`?active=notbool` hides active alerts, status 200).
    pub fn flag(&self, name: &str) -> bool {
        match self.get(name) {
            None | Some("") => true,
            Some(v) => matches!(v, "1" | "t" | "T" | "true" | "TRUE" | "True"),
        }
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_repeated_and_escaped() {
        let q = Query::parse("filter=alertname%3D%22A%22&filter=b%3D1+2&active=false&x=%zz&y=%4");
        assert_eq!(q.all("filter").collect::<Vec<_>>(), ["alertname=\"A\"", "b=1 2"]);
        assert!(!q.flag("active"));
        assert!(q.flag("silenced"));
        assert_eq!(q.get("x"), Some("%zz"));
        assert_eq!(q.get("y"), Some("%4"));
    }
}
