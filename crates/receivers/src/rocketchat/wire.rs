//! What a Rocket.Chat `chat.postMessage` exchange looks like on the wire: the request body (upstream's
//! `PostMessage`, `Attachment`, `config.RocketchatAttachmentField` and `config.RocketchatAttachmentAction`, with
//! their field order and `omitempty` rules), its encoding as Go 1.22+ writes it, the endpoint URL
//! (`url.JoinPath`), and how a 2xx answer is judged (`checkJSONResponseError`).

use crate::classify;
use crate::gojson::GoFormatter;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::ser::{CharEscape, Formatter};
use std::fmt;
use std::io;
use tocsin_model::labels::go_quote;
use tocsin_pipeline::notifier::{FailureReason, NotifyError, Retry};

/// The API path upstream joins to `api_url`.
pub const POST_MESSAGE_PATH: &str = "api/v1/chat.postMessage";

/// The request (upstream `PostMessage`). Upstream never sets `text`, `parseUrls`, `alias` nor the top-level
/// `actions`, which `omitempty` then drops; they are kept here so the field order stays upstream's.
#[derive(Debug, Serialize)]
pub struct PostMessage {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(rename = "parseUrls", skip_serializing_if = "std::ops::Not::not")]
    pub parse_urls: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub alias: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub emoji: String,
    /// The rendered `icon_url`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub avatar: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<WireAction>,
}

/// The one attachment (upstream `Attachment`): every field `omitempty`.
#[derive(Debug, Serialize)]
pub struct Attachment {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title_link: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub color: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<WireField>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<WireAction>,
}

/// A rendered field. `short` is a `*bool` without `omitempty` upstream, always set when sending: always written.
#[derive(Debug, Serialize)]
pub struct WireField {
    pub short: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
}

/// A rendered action. Upstream only ever sends buttons with `text`, `url` and `msg`; the two booleans have no
/// `omitempty`, so `is_webview` and `msg_in_chat_window` are always written (as `false`).
#[derive(Debug, Serialize)]
pub struct WireAction {
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    pub is_webview: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub webview_height_ratio: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub msg: String,
    pub msg_in_chat_window: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub msg_processing_type: String,
}

/// `v` as Go 1.22+'s `json.Encoder` writes it (Alertmanager 0.28 is built with Go 1.23): the HTML-safe escaping
/// of [`crate::gojson`], except that backspace and form feed are `\b` and `\f` (the `\u0008`/`\u000c` of
/// [`GoFormatter`] are Go 1.19's, which Rocket.Chat's 0.28-only sender never had).
pub fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(1024);
    v.serialize(&mut serde_json::Serializer::with_formatter(&mut out, Go122Formatter))?;
    out.push(b'\n');
    Ok(out)
}

#[derive(Debug, Clone, Copy, Default)]
struct Go122Formatter;

impl Formatter for Go122Formatter {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        GoFormatter.write_string_fragment(w, fragment)
    }

    fn write_char_escape<W: ?Sized + io::Write>(&mut self, w: &mut W, esc: CharEscape) -> io::Result<()> {
        match esc {
            CharEscape::Backspace => w.write_all(b"\\b"),
            CharEscape::FormFeed => w.write_all(b"\\f"),
            other => GoFormatter.write_char_escape(w, other),
        }
    }
}

/// Go's `api_url.JoinPath("api/v1/chat.postMessage").String()` (see [`crate::incident::join_path`]).
pub fn join_api_path(api_url: &str) -> String {
    crate::incident::join_path(api_url, POST_MESSAGE_PATH)
}

/// Judges a 2xx answer as upstream's `checkJSONResponseError`, which unmarshals it into
/// `struct { Success bool "success"; Error string "error" }`: anything that does not decode so is retried
/// (reason `clientError`); `success` not true fails for good with the answer's `error`.
pub fn check_answer(body: &[u8]) -> Result<(), NotifyError> {
    let client_error = |retry, message| NotifyError { retry, reason: FailureReason::ClientError, message };
    let unmarshal_error = |e: &dyn fmt::Display| {
        client_error(
            Retry::Yes,
            format!("could not unmarshal JSON response {}: {e}", go_quote(&classify::bounded_text(body))),
        )
    };
    let answer = match serde_json::from_slice::<Answer>(body) {
        Ok(a) => a,
        Err(e) => return Err(unmarshal_error(&e)),
    };
    let (success, error) = match answer.decode() {
        Ok(v) => v,
        Err(e) => return Err(unmarshal_error(&e)),
    };
    if !success {
        let error = classify::bounded_text(error.as_bytes());
        return Err(client_error(Retry::No, format!("error response from Rocketchat: {error}")));
    }
    Ok(())
}

/// A decoded answer: `null`, the `success`/`error` members of an object in document order (every other
/// member is skipped unread: a 4 MiB answer echoing the message is not built into a tree), or another JSON type.
enum Answer {
    Null,
    Object(Vec<(String, Member)>),
    Other(&'static str),
}

/// The value of a `success` or `error` member, kept only as far as Go's decoder looks at it.
enum Member {
    Null,
    Bool(bool),
    String(String),
    /// Any other JSON type (its kind, for the type error), skipped without being built.
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MemberVisitor)
    }
}

struct MemberVisitor;

impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Member, E> {
        Ok(Member::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Member, E> {
        Ok(Member::Bool(b))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Member, E> {
        Ok(Member::Other("number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Member, E> {
        Ok(Member::Other("number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Member, E> {
        Ok(Member::Other("number"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Member, E> {
        Ok(Member::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Member, E> {
        Ok(Member::String(s))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Member, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Member::Other("array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Member, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Member::Other("object"))
    }
}

/// A member name: kept only when Go's decoder would fill one of the response's fields from it
/// (case-insensitive match), so other names are never copied.
struct AnswerKey(Option<String>);

impl<'de> Deserialize<'de> for AnswerKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(AnswerKeyVisitor)
    }
}

struct AnswerKeyVisitor;

impl<'de> Visitor<'de> for AnswerKeyVisitor {
    type Value = AnswerKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E>(self, key: &str) -> Result<AnswerKey, E> {
        let wanted = key.eq_ignore_ascii_case("success") || key.eq_ignore_ascii_case("error");
        Ok(AnswerKey(wanted.then(|| key.to_owned())))
    }
}

impl Answer {
    /// `(success, error)` as Go's decoder fills the struct: keys match case-insensitively, the last matching
    /// member wins, `null` leaves a field alone, and a member of the wrong type is an error.
    fn decode(self) -> Result<(bool, String), String> {
        let members = match self {
            Answer::Null => return Ok((false, String::new())),
            Answer::Other(kind) => {
                return Err(format!(
                    "json: cannot unmarshal {kind} into Go value of type rocketchat.response"
                ))
            }
            Answer::Object(m) => m,
        };
        let (mut success, mut error, mut type_error) = (false, String::new(), None);
        for (key, value) in members {
            let mismatch = |want: &str| {
                format!(
                    "json: cannot unmarshal {} into Go struct field response.{key} of type {want}",
                    value.kind()
                )
            };
            if key.eq_ignore_ascii_case("success") {
                match value {
                    Member::Bool(b) => success = b,
                    Member::Null => {}
                    _ => type_error = type_error.or(Some(mismatch("bool"))),
                }
            } else if key.eq_ignore_ascii_case("error") {
                match value {
                    Member::String(s) => error = s,
                    Member::Null => {}
                    _ => type_error = type_error.or(Some(mismatch("string"))),
                }
            }
        }
        type_error.map_or(Ok((success, error)), Err)
    }
}

impl Member {
    /// The JSON type's name as Go's type errors spell it.
    fn kind(&self) -> &'static str {
        match self {
            Member::Null => "null",
            Member::Bool(_) => "bool",
            Member::String(_) => "string",
            Member::Other(kind) => kind,
        }
    }
}

impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnswerVisitor)
    }
}

struct AnswerVisitor;

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = Answer;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Answer, E> {
        Ok(Answer::Null)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Answer, E> {
        Ok(Answer::Other("bool"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Answer, E> {
        Ok(Answer::Other("number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Answer, E> {
        Ok(Answer::Other("number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Answer, E> {
        Ok(Answer::Other("number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Answer, E> {
        Ok(Answer::Other("string"))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Answer, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Answer::Other("array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Answer, A::Error> {
        let mut members = Vec::new();
        while let Some(AnswerKey(key)) = map.next_key::<AnswerKey>()? {
            match key {
                Some(key) => members.push((key, map.next_value::<Member>()?)),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Answer::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_like_go() {
        struct Case {
            input: &'static str,
            want: &'static str,
        }
        let cases = [
            Case {
                input: "https://open.rocket.chat/",
                want: "https://open.rocket.chat/api/v1/chat.postMessage",
            },
            Case { input: "http://h:3000", want: "http://h:3000/api/v1/chat.postMessage" },
            Case { input: "http://h/base", want: "http://h/base/api/v1/chat.postMessage" },
            Case { input: "http://h//a/./b/../", want: "http://h/a/api/v1/chat.postMessage" },
            Case { input: "http://h/x?q=1#f", want: "http://h/x/api/v1/chat.postMessage?q=1#f" },
            Case { input: "http://u:p@h/", want: "http://u:p@h/api/v1/chat.postMessage" },
            Case { input: "http://h/a%2Fb/", want: "http://h/a%2Fb/api/v1/chat.postMessage" },
        ];
        for c in cases {
            assert_eq!(join_api_path(c.input), c.want, "{}", c.input);
        }
    }

    #[test]
    fn escapes_like_go_1_22() {
        let got = encode(&"<a&b>\u{8}\u{c}\u{1b}\n\u{2028}").unwrap();
        assert_eq!(got, b"\"\\u003ca\\u0026b\\u003e\\b\\f\\u001b\\n\\u2028\"\n");
    }

    #[test]
    fn answers() {
        struct Case {
            name: &'static str,
            body: &'static str,
            want: Result<(), (Retry, &'static str)>,
        }
        let cases = [
            Case { name: "ok", body: r#"{"message":{"msg":""},"success":true}"#, want: Ok(()) },
            Case { name: "folded key", body: r#"{"Success":true}"#, want: Ok(()) },
            Case { name: "last member wins", body: r#"{"success":true,"SUCCESS":false}"#, want: Err((Retry::No, "error response from Rocketchat: ")) },
            Case { name: "null keeps default", body: r#"{"success":null}"#, want: Err((Retry::No, "error response from Rocketchat: ")) },
            Case {
                name: "api error",
                body: r#"{"success":false,"error":"error-not-allowed"}"#,
                want: Err((Retry::No, "error response from Rocketchat: error-not-allowed")),
            },
            Case { name: "null", body: "null", want: Err((Retry::No, "error response from Rocketchat: ")) },
            Case {
                name: "empty",
                body: "",
                want: Err((Retry::Yes, "could not unmarshal JSON response \"\": EOF while parsing a value at line 1 column 0")),
            },
            Case {
                name: "array",
                body: "[1]",
                want: Err((Retry::Yes, "could not unmarshal JSON response \"[1]\": json: cannot unmarshal array into Go value of type rocketchat.response")),
            },
            Case {
                name: "wrong type",
                body: r#"{"success":"yes"}"#,
                want: Err((Retry::Yes, "could not unmarshal JSON response \"{\\\"success\\\":\\\"yes\\\"}\": json: cannot unmarshal string into Go struct field response.success of type bool")),
            },
            Case {
                name: "other members skipped, nested and all",
                body: r#"{"message":{"attachments":[{"fields":[1,2.5,null,{"a":"\u00e9"}]}]},"success":true,"x":[[]]}"#,
                want: Ok(()),
            },
            Case { name: "escaped key", body: r#"{"succ\u0065ss":true}"#, want: Ok(()) },
            Case {
                name: "error of the wrong type",
                body: r#"{"success":false,"error":{"code":1}}"#,
                want: Err((Retry::Yes, "could not unmarshal JSON response \"{\\\"success\\\":false,\\\"error\\\":{\\\"code\\\":1}}\": json: cannot unmarshal object into Go struct field response.error of type string")),
            },
            Case {
                name: "skipped member still checked for syntax",
                body: r#"{"success":true,"x":[1,}"#,
                want: Err((Retry::Yes, "could not unmarshal JSON response \"{\\\"success\\\":true,\\\"x\\\":[1,}\": expected value at line 1 column 24")),
            },
        ];
        for c in cases {
            let got = check_answer(c.body.as_bytes()).map_err(|e| {
                assert_eq!(e.reason, FailureReason::ClientError, "{}", c.name);
                (e.retry, e.message)
            });
            let want = c.want.map_err(|(r, m)| (r, m.to_owned()));
            assert_eq!(got, want, "{}", c.name);
        }
    }
}
