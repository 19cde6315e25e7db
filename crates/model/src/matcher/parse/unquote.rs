//! Go's `strconv.Unquote` for double-quoted string literals, as the UTF-8 matchers parser applies it.
//!
//! Go escapes produce bytes, not characters (`\xff`, `\377`), so the result is assembled as bytes and must be
//! valid UTF-8 at the end (`"\xf0\x9f\x99\x82"` is the emoji 🙂, `"\xf0\x9f"` is rejected).

/// Unquotes `"…"`; `None` for anything Go would reject (bad escape, raw newline, unterminated, invalid UTF-8).
pub(super) fn go_unquote(s: &str) -> Option<String> {
    let mut rest = s.strip_prefix('"')?;
    let mut buf: Vec<u8> = Vec::with_capacity(rest.len());
    loop {
        let c = rest.chars().next()?;
        match c {
            '"' => {
                rest = &rest[1..];
                break;
            }
            '\n' => return None,
            '\\' => rest = unquote_escape(rest, &mut buf)?,
            c => {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !rest.is_empty() {
        return None;
    }
    String::from_utf8(buf).ok()
}

/// Decodes one backslash escape at the start of `s` (Go's `UnquoteChar` with quote `"`), returning the rest.
fn unquote_escape<'a>(s: &'a str, buf: &mut Vec<u8>) -> Option<&'a str> {
    let bytes = s.as_bytes();
    let kind = *bytes.get(1)?;
    let tail = &bytes[2..];
    let simple = match kind {
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        b'\\' => Some(b'\\'),
        b'"' => Some(b'"'),
        _ => None,
    };
    if let Some(b) = simple {
        buf.push(b);
        return s.get(2..);
    }
    match kind {
        b'x' | b'u' | b'U' => {
            let n = match kind {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let digits = tail.get(..n)?;
            let mut v: u32 = 0;
            for &d in digits {
                v = (v << 4) | char::from(d).to_digit(16)?;
            }
            if kind == b'x' {
                buf.push(u8::try_from(v).ok()?);
            } else {
                let c = char::from_u32(v)?;
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
            s.get(2 + n..)
        }
        b'0'..=b'7' => {
            let mut v = u32::from(kind - b'0');
            for &d in tail.get(..2)? {
                if !(b'0'..=b'7').contains(&d) {
                    return None;
                }
                v = (v << 3) | u32::from(d - b'0');
            }
            buf.push(u8::try_from(v).ok()?);
            s.get(4..)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_go_strconv_unquote() {
        // Expectations checked against Go 1.19's strconv.Unquote (plus the UTF-8 validity check of the parser).
        let cases: &[(&str, Option<&str>)] = &[
            (r#""""#, Some("")),
            (r#""bar""#, Some("bar")),
            (r#""a\tb\n\\\"""#, Some("a\tb\n\\\"")),
            (r#""\a\b\f\r\v""#, Some("\u{7}\u{8}\u{c}\r\u{b}")),
            (r#""\xf0\x9f\x99\x82""#, Some("🙂")),
            (r#""\U0001f642""#, Some("🙂")),
            (r#""\u00e9\101""#, Some("éA")),
            ("\"a\tb\"", Some("a\tb")),
            ("\"🙂bar\"", Some("🙂bar")),
            (r#""\xf0\x9f""#, None),
            (r#""\xff""#, None),
            (r#""\377""#, None),
            (r#""\400""#, None),
            (r#""\ud800""#, None),
            (r#""\U00110000""#, None),
            (r#""\w""#, None),
            (r#""\'""#, None),
            (r#""\x4""#, None),
            ("\"a\nb\"", None),
            (r#""abc"#, None),
            (r#""a"b""#, None),
            (r#""a\""#, None),
            ("abc", None),
        ];
        for (input, want) in cases {
            assert_eq!(go_unquote(input).as_deref(), *want, "{input}");
        }
    }
}
