//! `inhibit_rules`, both syntaxes (`source_matchers` and the deprecated `source_match`/`source_match_re`).

use crate::route::{collect_matchers, name_validation};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tocsin_model::matcher::parse::{parse_matchers, ParseMode};
use tocsin_model::matcher::{Matcher, Matchers};

/// As written; re-rendered with `*_matchers` normalised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawInhibitRule {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub source_match: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub source_match_re: BTreeMap<String, Option<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_matchers: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub target_match: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub target_match_re: BTreeMap<String, Option<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_matchers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub equal: Vec<String>,
}

/// A compiled inhibition rule.
#[derive(Debug, Clone, PartialEq)]
pub struct InhibitRule {
    pub source_matchers: Matchers,
    pub target_matchers: Matchers,
    /// Labels that must have equal values (missing = "") on source and target.
    pub equal: Vec<String>,
}

fn normalise(strings: &mut Vec<String>, mode: ParseMode) -> Result<(), String> {
    if strings.is_empty() {
        return Ok(());
    }
    let mut ms: Vec<Matcher> = Vec::new();
    for s in strings.iter() {
        ms.extend(parse_matchers(s, mode).map_err(|e| e.to_string())?);
    }
    ms.sort();
    *strings = ms.iter().map(ToString::to_string).collect();
    Ok(())
}

pub(crate) fn compile(raw: &mut RawInhibitRule, mode: ParseMode) -> Result<InhibitRule, String> {
    let names = name_validation(mode);
    let source = collect_matchers(&raw.source_match, &raw.source_match_re, &raw.source_matchers, mode)?;
    let target = collect_matchers(&raw.target_match, &raw.target_match_re, &raw.target_matchers, mode)?;
    for l in &raw.equal {
        if !names.is_valid(l) {
            return Err(format!("invalid label name {l:?} in equal list"));
        }
    }
    normalise(&mut raw.source_matchers, mode)?;
    normalise(&mut raw.target_matchers, mode)?;
    Ok(InhibitRule {
        source_matchers: Matchers::new(source),
        target_matchers: Matchers::new(target),
        equal: raw.equal.clone(),
    })
}
