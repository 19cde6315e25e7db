//! The message bytes, laid out as upstream writes them: the configured headers (values Q-encoded when not
//! plain ASCII), `Message-Id` unless configured, `Date` (RFC 1123 with numeric zone), a `multipart/alternative`
//! body with the text part and then the HTML part (the preferred alternative last, RFC 2046 §5.1.4), each
//! quoted-printable UTF-8, with Go's `mime/multipart` framing.

use chrono::{DateTime, Utc};
use std::fmt::Write as _;

/// The rendered pieces of one message.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Header name (canonical) → rendered value, in the order to write them.
    pub headers: Vec<(String, String)>,
    pub text: Option<String>,
    pub html: Option<String>,
}

/// Serialises `m`. `message_id` is used only when the headers have no `Message-Id`; `boundary` separates parts.
pub fn build(m: &Rendered, message_id: &str, date: DateTime<Utc>, boundary: &str) -> Vec<u8> {
    let mut out = String::new();
    for (name, value) in &m.headers {
        // Go's `fmt.Fprintf("%s: %s\r\n", header, mime.QEncoding.Encode("utf-8", value))`: a value carrying
        // line breaks would start new headers; Q-encoding turns CR/LF into =0D/=0A, so that cannot happen.
        let _ = write!(out, "{name}: {}\r\n", q_encode(value));
    }
    if !m.headers.iter().any(|(k, _)| k == "Message-Id") {
        let _ = write!(out, "Message-Id: {message_id}\r\n");
    }
    let _ = write!(out, "Date: {}\r\n", date.format("%a, %d %b %Y %H:%M:%S %z"));
    let _ = write!(out, "Content-Type: multipart/alternative;  boundary={boundary}\r\n");
    out.push_str("MIME-Version: 1.0\r\n\r\n");
    let mut first = true;
    for (body, kind) in [(&m.text, "plain"), (&m.html, "html")] {
        let Some(body) = body else { continue };
        if !first {
            out.push_str("\r\n");
        }
        first = false;
        let _ = write!(out, "--{boundary}\r\n");
        out.push_str("Content-Transfer-Encoding: quoted-printable\r\n");
        let _ = write!(out, "Content-Type: text/{kind}; charset=UTF-8\r\n\r\n");
        out.push_str(&quoted_printable(body.as_bytes()));
    }
    let _ = write!(out, "\r\n--{boundary}--\r\n");
    out.into_bytes()
}

/// Go's `mime.QEncoding.Encode("utf-8", s)`: unchanged when every byte is printable ASCII or tab; otherwise
/// encoded words of at most 75 characters, split between characters, joined by spaces.
pub fn q_encode(s: &str) -> String {
    if !s.bytes().any(|b| !(b' '..=b'~').contains(&b) && b != b'\t') {
        return s.to_owned();
    }
    const PREFIX: &str = "=?utf-8?q?";
    const MAX_CONTENT: usize = 75 - PREFIX.len() - 2;
    let mut out = String::from(PREFIX);
    let mut len = 0;
    let mut buf = [0u8; 4];
    for ch in s.chars() {
        let mut enc = String::new();
        for &b in ch.encode_utf8(&mut buf).as_bytes() {
            match b {
                b' ' => enc.push('_'),
                b'!'..=b'~' if b != b'=' && b != b'?' && b != b'_' => enc.push(char::from(b)),
                _ => {
                    let _ = write!(enc, "={b:02X}");
                }
            }
        }
        if len + enc.len() > MAX_CONTENT {
            out.push_str("?= ");
            out.push_str(PREFIX);
            len = 0;
        }
        len += enc.len();
        out.push_str(&enc);
    }
    out.push_str("?=");
    out
}

const LINE_MAX: usize = 76;

/// Go's `mime/quotedprintable.Writer` (text mode): line breaks become CRLF, lines are at most 76 characters
/// with `=` soft breaks, `=` and bytes outside printable ASCII are `=XX`, white space before a line break is
/// encoded.
pub fn quoted_printable(input: &[u8]) -> String {
    let mut w = QpWriter { out: String::new(), line: Vec::with_capacity(LINE_MAX + 2), cr: false };
    for &b in input {
        match b {
            b'!'..=b'~' if b != b'=' => w.write(b),
            b' ' | b'\t' | b'\n' | b'\r' => w.write(b),
            _ => w.encode(b),
        }
    }
    w.check_last_byte();
    w.flush();
    w.out
}

struct QpWriter {
    out: String,
    line: Vec<u8>,
    cr: bool,
}

impl QpWriter {
    fn write(&mut self, b: u8) {
        if b == b'\n' || b == b'\r' {
            if self.cr && b == b'\n' {
                self.cr = false;
                return;
            }
            if b == b'\r' {
                self.cr = true;
            }
            self.check_last_byte();
            self.insert_crlf();
            return;
        }
        if self.line.len() == LINE_MAX - 1 {
            self.insert_soft_line_break();
        }
        self.line.push(b);
        self.cr = false;
    }

    fn encode(&mut self, b: u8) {
        if LINE_MAX - 1 - self.line.len() < 3 {
            self.insert_soft_line_break();
        }
        self.line.extend_from_slice(format!("={b:02X}").as_bytes());
    }

    fn check_last_byte(&mut self) {
        if let Some(&b) = self.line.last() {
            if b == b' ' || b == b'\t' {
                self.line.pop();
                self.encode(b);
            }
        }
    }

    fn insert_soft_line_break(&mut self) {
        self.line.push(b'=');
        self.insert_crlf();
    }

    fn insert_crlf(&mut self) {
        self.line.extend_from_slice(b"\r\n");
        self.flush();
    }

    fn flush(&mut self) {
        // Every byte pushed is printable ASCII, space, tab, CR or LF.
        self.out.push_str(&String::from_utf8_lossy(&self.line));
        self.line.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_encoding_matches_go() {
        struct Case {
            name: &'static str,
            input: &'static str,
            want: &'static str,
        }
        let cases = [
            Case { name: "ascii unchanged", input: "[FIRING:1] A (x y)", want: "[FIRING:1] A (x y)" },
            Case { name: "tab unchanged", input: "a\tb", want: "a\tb" },
            Case { name: "utf-8", input: "告警 a=b", want: "=?utf-8?q?=E5=91=8A=E8=AD=A6_a=3Db?=" },
            Case { name: "newline", input: "a\r\nb", want: "=?utf-8?q?a=0D=0Ab?=" },
            Case {
                name: "split between characters",
                input: "ééééééééééééééééééééé",
                want: "=?utf-8?q?=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9?= \
                       =?utf-8?q?=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9?= =?utf-8?q?=C3=A9?=",
            },
        ];
        for c in cases {
            assert_eq!(q_encode(c.input), c.want, "{}", c.name);
        }
    }

    #[test]
    fn quoted_printable_matches_go() {
        struct Case {
            name: &'static str,
            input: &'static str,
            want: &'static str,
        }
        let long = "a".repeat(80);
        let long_want = format!("{}=\r\n{}", "a".repeat(75), "a".repeat(5));
        // Expected values printed by Go's mime/quotedprintable.Writer.
        let cases = [
            Case { name: "plain", input: "hello", want: "hello" },
            Case {
                name: "multi-byte across the soft break",
                input: "éééééééééééééééééééééééééééééé",
                want: "=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=\r\n\
                       =A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=\r\n\
                       =C3=A9=C3=A9=C3=A9=C3=A9=C3=A9",
            },
            Case { name: "equals and utf-8", input: "a=b é", want: "a=3Db =C3=A9" },
            Case { name: "lf to crlf", input: "a\nb\r\nc", want: "a\r\nb\r\nc" },
            Case { name: "trailing space before break", input: "a \nb\t", want: "a=20\r\nb=09" },
            Case {
                name: "long line",
                input: Box::leak(long.into_boxed_str()),
                want: Box::leak(long_want.into_boxed_str()),
            },
        ];
        for c in cases {
            assert_eq!(quoted_printable(c.input.as_bytes()), c.want, "{}", c.name);
        }
    }

    #[test]
    fn layout() {
        let m = Rendered {
            headers: vec![("Subject".into(), "S".into()), ("To".into(), "a@b".into())],
            text: Some("t".into()),
            html: Some("<b>h</b>".into()),
        };
        let date = DateTime::parse_from_rfc3339("2024-06-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let got = String::from_utf8(build(&m, "<1.2@h>", date, "BND")).unwrap();
        let want = "Subject: S\r\nTo: a@b\r\nMessage-Id: <1.2@h>\r\nDate: Sat, 01 Jun 2024 00:00:00 +0000\r\n\
            Content-Type: multipart/alternative;  boundary=BND\r\nMIME-Version: 1.0\r\n\r\n\
            --BND\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nt\
            \r\n--BND\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<b>h</b>\
            \r\n--BND--\r\n";
        assert_eq!(got, want);
    }
}
