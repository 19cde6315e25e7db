//! The typed fast path of `POST /api/v2/alerts`: well-formed bodies (every alert Prometheus sends) are decoded
//! straight into [`PostableAlert`]s, with label names and values borrowed from the body and each label set built
//! in one allocation. Anything this path does not fully understand makes it give up (`None`), and the caller
//! runs the `serde_json::Value`-based decoder of [`crate::decode`], which produces upstream's exact 400/422
//! errors. So this path only has to agree with that one on bodies that *succeed*; it never produces an error.
//!
//! What makes it give up: a body not starting with `[`, a syntax error, a `null` alert, a value of the wrong JSON
//! type, a timestamp strfmt rejects, a key that is a case variant of a known one (Go matches keys
//! case-insensitively), a known key given twice, missing `labels`, or a `generatorURL` that is not a URI.
//! Unknown keys are decoded as `serde_json::Value` (not skipped) so that nesting and number limits are the
//! same as on the slow path.

use crate::datetime;
use crate::decode::is_request_uri;
use crate::models::PostableAlert;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use tocsin_model::alert::{intern_generator_url, SharedStr};
use tocsin_model::LabelSet;

/// The decoded alerts, or `None` when the slow path must decide (see the module doc).
pub fn postable_alerts(body: &[u8]) -> Option<Vec<PostableAlert>> {
    let first = body.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
    if *first != b'[' {
        return None;
    }
    // Like Go's decoder (and `decode::first_value`) only the first value is read: no check for trailing bytes.
    let mut de = serde_json::Deserializer::from_slice(body);
    de.deserialize_seq(AlertsVisitor).ok()
}

/// Any error: the slow path will name it.
fn give_up<E: serde::de::Error>() -> E {
    E::custom("fast path declined")
}

struct AlertsVisitor;

impl<'de> Visitor<'de> for AlertsVisitor {
    type Value = Vec<PostableAlert>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of alerts")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        let mut validated = Vec::new();
        while let Some(a) = seq.next_element_seed(AlertSeed { validated: &mut validated })? {
            out.push(a);
        }
        Ok(out)
    }
}

/// Generator URLs already validated in this body, remembered by their interned allocation: a batch carries one
/// URL per alerting rule, so most alerts skip the URL check (a few percent of ingest otherwise).
const VALIDATED_URLS: usize = 16;

struct AlertSeed<'v> {
    validated: &'v mut Vec<SharedStr>,
}

impl<'de> DeserializeSeed<'de> for AlertSeed<'_> {
    type Value = PostableAlert;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PostableAlert, D::Error> {
        d.deserialize_map(AlertVisitor { validated: self.validated })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Labels,
    Annotations,
    StartsAt,
    EndsAt,
    GeneratorUrl,
    /// A case variant of a known key: the slow path knows which one wins.
    Ambiguous,
    Other,
}

const KEYS: [(&str, Key); 5] = [
    ("labels", Key::Labels),
    ("annotations", Key::Annotations),
    ("startsAt", Key::StartsAt),
    ("endsAt", Key::EndsAt),
    ("generatorURL", Key::GeneratorUrl),
];

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<Key, E> {
        for (name, key) in KEYS {
            if k == name {
                return Ok(key);
            }
        }
        if KEYS.iter().any(|(name, _)| k.eq_ignore_ascii_case(name)) {
            return Ok(Key::Ambiguous);
        }
        Ok(Key::Other)
    }
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct AlertVisitor<'v> {
    validated: &'v mut Vec<SharedStr>,
}

impl<'de> Visitor<'de> for AlertVisitor<'_> {
    type Value = PostableAlert;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an alert object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PostableAlert, A::Error> {
        let mut labels: Option<Option<LabelSet>> = None;
        let mut annotations: Option<Option<LabelSet>> = None;
        let mut starts_at: Option<Option<Str<'de>>> = None;
        let mut ends_at: Option<Option<Str<'de>>> = None;
        let mut generator_url: Option<Option<Str<'de>>> = None;
        fn set<T, E: serde::de::Error>(slot: &mut Option<T>, v: T) -> Result<(), E> {
            if slot.replace(v).is_some() {
                return Err(give_up());
            }
            Ok(())
        }
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Labels => set(&mut labels, map.next_value_seed(OptLabels)?)?,
                Key::Annotations => set(&mut annotations, map.next_value_seed(OptLabels)?)?,
                Key::StartsAt => set(&mut starts_at, map.next_value::<Option<Str<'de>>>()?)?,
                Key::EndsAt => set(&mut ends_at, map.next_value::<Option<Str<'de>>>()?)?,
                Key::GeneratorUrl => set(&mut generator_url, map.next_value::<Option<Str<'de>>>()?)?,
                Key::Ambiguous => return Err(give_up()),
                Key::Other => drop(map.next_value::<serde_json::Value>()?),
            }
        }
        let labels = labels.flatten().ok_or_else(give_up)?;
        let time = |t: Option<Option<Str<'de>>>| match t.flatten() {
            None => Ok(None),
            Some(s) => datetime::parse(&s.0).map(Some).map_err(|_| give_up()),
        };
        // Interned straight from the body: no per-alert `String` is allocated (and freed again) for it.
        let generator_url = generator_url.flatten().map_or(Cow::Borrowed(""), |s| s.0);
        let generator_url = intern_generator_url(&generator_url);
        if !generator_url.is_empty() && !self.validated.iter().any(|v| SharedStr::ptr_eq(v, &generator_url)) {
            if !is_request_uri(&generator_url) {
                return Err(give_up());
            }
            if self.validated.len() < VALIDATED_URLS {
                self.validated.push(generator_url.clone());
            }
        }
        Ok(PostableAlert {
            labels,
            annotations: annotations.flatten().unwrap_or_default(),
            starts_at: time(starts_at)?,
            ends_at: time(ends_at)?,
            generator_url,
        })
    }
}

/// A JSON string, borrowed from the body when it has no escapes.
struct Str<'de>(Cow<'de, str>);

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Str<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Str<'de>, E> {
        Ok(Str(Cow::Borrowed(s)))
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Str<'de>, E> {
        Ok(Str(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Str<'de>, E> {
        Ok(Str(Cow::Owned(s)))
    }
}

impl<'de> serde::Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Str<'de>, D::Error> {
        d.deserialize_str(StrVisitor)
    }
}

/// A `labelSet` or `null`; `null` values decode to "" as in Go.
struct OptLabels;

impl<'de> DeserializeSeed<'de> for OptLabels {
    type Value = Option<LabelSet>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<LabelSet>, D::Error> {
        d.deserialize_option(OptLabelsVisitor)
    }
}

struct OptLabelsVisitor;

impl<'de> Visitor<'de> for OptLabelsVisitor {
    type Value = Option<LabelSet>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a label set or null")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Option<LabelSet>, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Option<LabelSet>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<LabelSet>, D::Error> {
        d.deserialize_map(LabelsVisitor).map(Some)
    }
}

struct LabelsVisitor;

impl<'de> Visitor<'de> for LabelsVisitor {
    type Value = LabelSet;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a label set")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LabelSet, A::Error> {
        let mut pairs: Vec<(Cow<'de, str>, Cow<'de, str>)> = Vec::with_capacity(8);
        while let Some(k) = map.next_key::<Str<'de>>()? {
            let v = map.next_value::<Option<Str<'de>>>()?;
            pairs.push((k.0, v.map_or(Cow::Borrowed(""), |v| v.0)));
        }
        Ok(LabelSet::from_pairs(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::postable_alerts_slow;

    /// Wherever the fast path answers, its answer is the slow path's; `want_fast` says whether it must answer.
    #[test]
    fn agrees_with_the_value_path() {
        let deep = format!(r#"[{{"labels":{{"a":"b"}},"x":{}1{}}}]"#, "[".repeat(200), "]".repeat(200));
        let cases: Vec<(&str, String, bool)> = vec![
            (
                "prometheus shape",
                r#"[{"labels":{"alertname":"A","instance":"h:9100"},"annotations":{"summary":"s"},
                   "startsAt":"2026-01-01T10:00:00.123Z","endsAt":"2026-01-01T11:00:00+02:00",
                   "generatorURL":"http://p:9090/graph?g0.expr=up"}]"#
                    .into(),
                true,
            ),
            ("empty array", "[]".into(), true),
            ("blank around, trailing bytes ignored", " \n[{\"labels\":{\"a\":\"b\"}}] junk".into(), true),
            ("escapes", r#"[{"labels":{"a\n":"\u00e9\"x"},"annotations":{"d":"\\"}}]"#.into(), true),
            (
                "a URL validated once per body, and a bad one after it still declined",
                r#"[{"labels":{"a":"1"},"generatorURL":"http://p/g"},{"labels":{"a":"2"},"generatorURL":"http://p/g"},{"labels":{"a":"3"},"generatorURL":"http://p/%zz"}]"#.into(),
                false,
            ),
            (
                "one URL shared by a batch",
                r#"[{"labels":{"a":"1"},"generatorURL":"http://p/g"},{"labels":{"a":"2"},"generatorURL":"http://p/g"}]"#.into(),
                true,
            ),
            ("null values and fields", r#"[{"labels":{"a":null,"b":"1"},"annotations":null,"startsAt":null,"endsAt":null,"generatorURL":null}]"#.into(), true),
            ("duplicate label, last wins", r#"[{"labels":{"b":"1","a":"x","b":"2"}}]"#.into(), true),
            ("unknown keys", r#"[{"labels":{"a":"b"},"status":{"x":[1,2.5,true,null]},"receivers":[]}]"#.into(), true),
            ("empty labels object", r#"[{"labels":{}}]"#.into(), true),
            ("empty time is the epoch", r#"[{"labels":{"a":"b"},"startsAt":""}]"#.into(), true),
            ("case variant key", r#"[{"Labels":{"a":"b"}}]"#.into(), false),
            ("case variant beside exact", r#"[{"labels":{"a":"b"},"LABELS":{"c":"d"}}]"#.into(), false),
            ("duplicate key", r#"[{"labels":{"a":"b"},"labels":{"c":"d"}}]"#.into(), false),
            ("labels missing", r#"[{"annotations":{"a":"b"}}]"#.into(), false),
            ("labels null", r#"[{"labels":null}]"#.into(), false),
            ("null alert", r#"[null]"#.into(), false),
            ("top-level null", "null".into(), false),
            ("top-level object", r#"{"labels":{}}"#.into(), false),
            ("empty body", "".into(), false),
            ("number label", r#"[{"labels":{"a":1}}]"#.into(), false),
            ("array labels", r#"[{"labels":["a"]}]"#.into(), false),
            ("bad time", r#"[{"labels":{"a":"b"},"startsAt":"notadate"}]"#.into(), false),
            ("number time", r#"[{"labels":{"a":"b"},"endsAt":5}]"#.into(), false),
            ("bad url", r#"[{"labels":{"a":"b"},"generatorURL":"a?b"}]"#.into(), false),
            ("syntax error", r#"[{"labels":{"a":"b"}},]"#.into(), false),
            ("deep unknown value", deep, false),
            ("huge number in unknown key", r#"[{"labels":{"a":"b"},"x":1e400}]"#.into(), false),
            ("lone surrogate", r#"[{"labels":{"a":"\ud800"}}]"#.into(), false),
        ];
        for (name, body, want_fast) in cases {
            let fast = postable_alerts(body.as_bytes());
            assert_eq!(fast.is_some(), want_fast, "{name}");
            if let Some(fast) = fast {
                assert_eq!(Ok(fast), postable_alerts_slow(body.as_bytes()), "{name}");
            }
        }
    }
}
