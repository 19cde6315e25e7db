//! JSON exactly as Go's `json.NewEncoder(w).Encode(v)` writes it, which is what Alertmanager puts on the wire:
//! `<`, `>`, `&` escaped as `\u003c`, `\u003e`, `\u0026` (HTML-safe mode), U+2028/U+2029 escaped, control
//! characters other than `\n`, `\r`, `\t` as `\u00XX` (Go 1.19, the toolchain of Alertmanager 0.25, has no `\b`
//! or `\f` shorthand), and a trailing newline. Struct fields keep declaration order; maps are sorted by key.

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};
use std::io;

/// Serialises `value` as Go's `json.Encoder.Encode` does, including the trailing newline.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(1024);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut ser)?;
    out.push(b'\n');
    Ok(out)
}

/// Compact output with Go's string escaping.
#[derive(Debug, Clone, Copy, Default)]
pub struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            w.write_all(&fragment.as_bytes()[start..i])?;
            w.write_all(esc.as_bytes())?;
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + io::Write>(&mut self, w: &mut W, esc: CharEscape) -> io::Result<()> {
        let s: &[u8] = match esc {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"/",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::Backspace => b"\\u0008",
            CharEscape::FormFeed => b"\\u000c",
            CharEscape::AsciiControl(byte) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let b = [b'\\', b'u', b'0', b'0', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]];
                return w.write_all(&b);
            }
        };
        w.write_all(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go_1_19() {
        struct Case {
            name: &'static str,
            input: &'static str,
            want: &'static str,
        }
        let cases = [
            Case { name: "html", input: "<a&b>", want: r#""\u003ca\u0026b\u003e""# },
            Case { name: "quotes", input: "\"\\/", want: r#""\"\\/""# },
            Case { name: "whitespace", input: "a\nb\rc\td", want: r#""a\nb\rc\td""# },
            Case {
                name: "controls",
                input: "\u{7}\u{8}\u{c}\u{1b}\u{7f}",
                want: "\"\\u0007\\u0008\\u000c\\u001b\u{7f}\"",
            },
            Case { name: "separators", input: "x\u{2028}y\u{2029}", want: r#""x\u2028y\u2029""# },
            Case { name: "unicode", input: "déjà 🚨 日本", want: "\"déjà 🚨 日本\"" },
        ];
        for c in cases {
            let got = encode(c.input).unwrap();
            assert_eq!(String::from_utf8(got).unwrap(), format!("{}\n", c.want), "{}", c.name);
        }
    }
}
