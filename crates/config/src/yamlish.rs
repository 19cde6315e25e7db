//! Small serde helpers that give our structs Go yaml.v2's leniency and rendering: scalars accepted as strings,
//! `omitempty` predicates, and the two duration syntaxes as field types.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;
use tocsin_model::duration::{
    format_go_duration, format_prom_duration, parse_go_duration, parse_prom_duration,
};

/// Accepts any YAML scalar as a string, as yaml.v2 does for `string` fields (`agent_id: 1000002`).
pub fn string_like<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
    }
    d.deserialize_any(V)
}

pub fn is_false(b: &bool) -> bool {
    !*b
}

pub fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

/// A Prometheus `model.Duration` field (`1d2h`), rendered back the way Prometheus formats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PromDuration(pub Duration);

impl Serialize for PromDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_prom_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = string_like(d)?;
        parse_prom_duration(&s).map(PromDuration).map_err(de::Error::custom)
    }
}

impl PromDuration {
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

/// A Go `time.Duration` field (`1m30s`, `500ms`, no `d`), rendered as Go's `Duration.String()` (`1m0s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GoDuration(pub Duration);

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_go_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = string_like(d)?;
        parse_go_duration(&s).map(GoDuration).map_err(de::Error::custom)
    }
}

impl GoDuration {
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}
