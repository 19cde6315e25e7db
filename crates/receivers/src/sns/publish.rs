//! The SNS `Publish` request body (AWS query protocol, form-encoded) exactly as aws-sdk-go v1 writes it for
//! Alertmanager 0.25: parameters sorted by name (Go's `url.Values.Encode`), values escaped as Go's
//! `url.QueryEscape` (space as `+`), message attributes as `MessageAttributes.entry.N.{Name,Value.DataType,
//! Value.StringValue}` numbered in name order, and an empty `MessageAttributes=` when there are none.

use std::collections::BTreeMap;

/// SNS's API version.
pub const VERSION: &str = "2010-03-31";

/// The largest message SNS accepts in a Publish (256 KiB).
pub const MAX_MESSAGE: usize = 256 * 1024;

/// The largest SMS message upstream sends (it counts bytes, though its comment says runes).
pub const MAX_SMS_MESSAGE: usize = 1600;

/// SNS rejects subjects of 100 characters or more ("must be less than 100 characters long").
pub const MAX_SUBJECT: usize = 99;

/// The attribute upstream adds when it cut the message.
pub const TRUNCATED_ATTRIBUTE: &str = "truncated";

/// One Publish call, its templates already rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publish {
    pub topic_arn: Option<String>,
    pub phone_number: Option<String>,
    pub target_arn: Option<String>,
    pub subject: Option<String>,
    pub message: String,
    /// String attributes by name.
    pub attributes: BTreeMap<String, String>,
    /// FIFO topics only: both are the SHA-256 of the group key.
    pub deduplication_id: Option<String>,
    pub group_id: Option<String>,
}

/// `s` cut to at most `max` bytes on a character boundary, and whether it was cut. Upstream cuts at exactly
/// `max` bytes, which can split a character; we stop before it instead of sending invalid UTF-8.
pub fn truncate_bytes(s: &str, max: usize) -> (&str, bool) {
    let cut = crate::dingtalk::robot::cut_at_char_boundary(s, max);
    (cut, cut.len() < s.len())
}

impl Publish {
    /// Sets the message, cut to `limit` bytes; a cut adds the attribute `truncated=true` as upstream does.
    pub fn set_message(&mut self, message: &str, limit: usize) {
        let (text, cut) = truncate_bytes(message, limit);
        if cut {
            self.attributes.insert(TRUNCATED_ATTRIBUTE.to_owned(), "true".to_owned());
        }
        self.message = text.to_owned();
    }

    /// The form-encoded body.
    pub fn encode(&self) -> String {
        let mut params: Vec<(String, &str)> = vec![
            ("Action".into(), "Publish"),
            ("Version".into(), VERSION),
            ("Message".into(), self.message.as_str()),
        ];
        let optional = [
            ("TopicArn", &self.topic_arn),
            ("PhoneNumber", &self.phone_number),
            ("TargetArn", &self.target_arn),
            ("Subject", &self.subject),
            ("MessageDeduplicationId", &self.deduplication_id),
            ("MessageGroupId", &self.group_id),
        ];
        params.extend(optional.iter().filter_map(|(k, v)| v.as_deref().map(|v| ((*k).to_owned(), v))));
        if self.attributes.is_empty() {
            params.push(("MessageAttributes".into(), ""));
        }
        for (i, (name, value)) in self.attributes.iter().enumerate() {
            let prefix = format!("MessageAttributes.entry.{}", i + 1);
            params.push((format!("{prefix}.Name"), name.as_str()));
            params.push((format!("{prefix}.Value.DataType"), "String"));
            params.push((format!("{prefix}.Value.StringValue"), value.as_str()));
        }
        // Go sorts the names bytewise (so entry.10 precedes entry.2); a stable sort keeps equal names in order.
        crate::incident::encode_query(&mut params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        struct Case {
            name: &'static str,
            input: &'static str,
            max: usize,
            want: (&'static str, bool),
        }
        let cases = [
            Case { name: "fits", input: "abc", max: 3, want: ("abc", false) },
            Case { name: "ascii cut", input: "abcd", max: 3, want: ("abc", true) },
            Case { name: "inside é", input: "aé", max: 2, want: ("a", true) },
            Case { name: "after é", input: "aéb", max: 3, want: ("aé", true) },
            Case { name: "inside emoji", input: "🚨🚨", max: 7, want: ("🚨", true) },
            Case { name: "zero", input: "é", max: 0, want: ("", true) },
        ];
        for c in cases {
            assert_eq!(truncate_bytes(c.input, c.max), c.want, "{}", c.name);
        }
    }

    #[test]
    fn attributes_sort_like_go() {
        let mut p = Publish { message: "m".into(), topic_arn: Some("t".into()), ..Default::default() };
        for i in 0..11 {
            p.attributes.insert(format!("k{i:02}"), "v".into());
        }
        let body = p.encode();
        let e10 = body.find("entry.10.Name").unwrap();
        let e2 = body.find("entry.2.Name").unwrap();
        assert!(e10 < e2, "{body}");
        assert!(!body.contains("MessageAttributes=&"));
    }

    #[test]
    fn cut_message_is_flagged() {
        let mut p = Publish::default();
        p.set_message("ab€", 3);
        assert_eq!(p.message, "ab");
        assert_eq!(p.attributes.get(TRUNCATED_ATTRIBUTE).map(String::as_str), Some("true"));
    }
}
