//! The routing tree: the raw `route:` block as written, and the compiled [`Route`] with inherited options,
//! parsed matchers and its key (`{}/{team="b"}`), which is part of every aggregation group key.

use crate::yamlish::PromDuration;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tocsin_model::labels::{is_classic_label_name, NameValidation};
use tocsin_model::matcher::parse::{parse_matchers, ParseMode};
use tocsin_model::matcher::{compile_anchored, MatchType, Matcher, MatcherError, Matchers};
use tocsin_model::LabelSet;

fn null_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `route:` as written (explicit values only). Re-rendered for `/api/v2/status` with `matchers` normalised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub receiver: String,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    #[serde(
        rename = "match",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub match_: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub match_re: BTreeMap<String, Option<String>>,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<String>,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<String>,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub active_time_intervals: Vec<String>,
    #[serde(rename = "continue", default)]
    pub continue_: bool,
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RawRoute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<PromDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<PromDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<PromDuration>,
}

/// How alerts of a route are grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// Group by these label names (empty: one group per route).
    List(Vec<String>),
    /// `group_by: ['...']`: group by all labels.
    All,
}

/// A compiled route node.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub receiver: String,
    pub group_by: GroupBy,
    /// `match`, `match_re` and `matchers` combined, sorted as upstream.
    pub matchers: Matchers,
    pub continue_: bool,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    /// Not inherited: taken from this node only.
    pub mute_time_intervals: Vec<String>,
    /// Not inherited: taken from this node only.
    pub active_time_intervals: Vec<String>,
    pub routes: Vec<Route>,
    key: String,
    id: String,
}

/// Defaults of the root route (`DefaultRouteOpts`).
pub const DEFAULT_GROUP_WAIT: Duration = Duration::from_secs(30);
pub const DEFAULT_GROUP_INTERVAL: Duration = Duration::from_secs(5 * 60);
pub const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_secs(4 * 60 * 60);

impl Route {
    /// Parent key + `/` + matchers (`{}` for the root): part of every group key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// 0.28's route ID: the key plus `/<index in parent>` (the root has no index).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Upstream `Route.Match`: depth-first, left to right; a matching child without `continue` stops the scan of
    /// its siblings; a node none of whose children matched is itself the match.
    pub fn match_labels(&self, labels: &LabelSet) -> Vec<&Route> {
        if !self.matchers.matches(labels) {
            return Vec::new();
        }
        let mut all = Vec::new();
        for child in &self.routes {
            let m = child.match_labels(labels);
            let matched = !m.is_empty();
            all.extend(m);
            if matched && !child.continue_ {
                break;
            }
        }
        if all.is_empty() {
            all.push(self);
        }
        all
    }

    /// Visits this node and all descendants, depth-first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Route)) {
        f(self);
        for c in &self.routes {
            c.walk(f);
        }
    }
}

pub(crate) fn name_validation(mode: ParseMode) -> NameValidation {
    match mode {
        ParseMode::Classic => NameValidation::Classic,
        _ => NameValidation::Utf8,
    }
}

fn regex_reason(e: MatcherError) -> String {
    match e {
        MatcherError::InvalidRegex { reason, .. } => reason,
    }
}

/// Matchers from the deprecated maps plus `matchers:` strings (upstream `Route.Matchers` + sorting in NewRoute).
/// `match_re` values become `^(?:re)$`, as upstream passes the compiled regexp's `String()`.
pub(crate) fn collect_matchers(
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, Option<String>>,
    strings: &[String],
    mode: ParseMode,
) -> Result<Vec<Matcher>, String> {
    let mut out = Vec::new();
    for (k, v) in eq {
        if !is_classic_label_name(k) {
            return Err(format!("invalid label name {k:?}"));
        }
        out.push(Matcher::new(MatchType::Equal, k, v).map_err(|e| e.to_string())?);
    }
    for (k, v) in re {
        if !is_classic_label_name(k) {
            return Err(format!("invalid label name {k:?}"));
        }
        let v = v.as_ref().ok_or_else(|| format!("invalid regexp value for {k:?}"))?;
        compile_anchored(v).map_err(regex_reason)?;
        out.push(Matcher::new(MatchType::Regexp, k, format!("^(?:{v})$")).map_err(|e| e.to_string())?);
    }
    for s in strings {
        out.extend(parse_matchers(s, mode).map_err(|e| e.to_string())?);
    }
    out.sort();
    Ok(out)
}

/// Upstream `Route.UnmarshalYAML` checks for one node.
fn validate_node(raw: &RawRoute, names: NameValidation) -> Result<Option<GroupBy>, String> {
    let mut all = false;
    let mut list: Vec<String> = Vec::new();
    for l in &raw.group_by {
        if l == "..." {
            all = true;
        } else {
            if !names.is_valid(l) {
                return Err(format!("invalid label name {l:?} in group_by list"));
            }
            list.push(l.clone());
        }
    }
    if all && !list.is_empty() {
        return Err("cannot have wildcard group_by (`...`) and other other labels at the same time".into());
    }
    let mut seen = std::collections::HashSet::new();
    for l in &list {
        if !seen.insert(l) {
            return Err(format!("duplicated label {l:?} in group_by"));
        }
    }
    if raw.group_interval.is_some_and(|d| d.is_zero()) {
        return Err("group_interval cannot be zero".into());
    }
    if raw.repeat_interval.is_some_and(|d| d.is_zero()) {
        return Err("repeat_interval cannot be zero".into());
    }
    Ok(if all {
        Some(GroupBy::All)
    } else if list.is_empty() {
        None
    } else {
        Some(GroupBy::List(list))
    })
}

/// Validates every node (parse-time checks), normalises `matchers` for rendering and compiles the tree.
pub(crate) fn compile(
    raw: &mut RawRoute,
    parent: Option<&Route>,
    index: Option<usize>,
    mode: ParseMode,
) -> Result<Route, String> {
    let explicit_group_by = validate_node(raw, name_validation(mode))?;
    let matchers = collect_matchers(&raw.match_, &raw.match_re, &raw.matchers, mode)?;
    // Rendered as upstream's Matchers.MarshalYAML: only the `matchers:` entries, parsed and sorted.
    if !raw.matchers.is_empty() {
        let mut own: Vec<Matcher> = Vec::new();
        for s in &raw.matchers {
            own.extend(parse_matchers(s, mode).map_err(|e| e.to_string())?);
        }
        own.sort();
        raw.matchers = own.iter().map(ToString::to_string).collect();
    }
    let matchers = Matchers::new(matchers);
    let key = match parent {
        Some(p) => format!("{}/{}", p.key, matchers),
        None => matchers.to_string(),
    };
    let id = match index {
        Some(i) => format!("{key}/{i}"),
        None => key.clone(),
    };
    let mut node = Route {
        receiver: if raw.receiver.is_empty() {
            parent.map(|p| p.receiver.clone()).unwrap_or_default()
        } else {
            raw.receiver.clone()
        },
        group_by: explicit_group_by
            .unwrap_or_else(|| parent.map_or(GroupBy::List(Vec::new()), |p| p.group_by.clone())),
        matchers,
        continue_: raw.continue_,
        group_wait: raw
            .group_wait
            .map(|d| d.0)
            .unwrap_or(parent.map_or(DEFAULT_GROUP_WAIT, |p| p.group_wait)),
        group_interval: raw
            .group_interval
            .map(|d| d.0)
            .unwrap_or(parent.map_or(DEFAULT_GROUP_INTERVAL, |p| p.group_interval)),
        repeat_interval: raw
            .repeat_interval
            .map(|d| d.0)
            .unwrap_or(parent.map_or(DEFAULT_REPEAT_INTERVAL, |p| p.repeat_interval)),
        mute_time_intervals: raw.mute_time_intervals.clone(),
        active_time_intervals: raw.active_time_intervals.clone(),
        routes: Vec::new(),
        key,
        id,
    };
    let mut children = Vec::with_capacity(raw.routes.len());
    for (i, child) in raw.routes.iter_mut().enumerate() {
        children.push(compile(child, Some(&node), Some(i), mode)?);
    }
    node.routes = children;
    Ok(node)
}

/// `undefined receiver "x" used in route` (children first, as upstream's `checkReceiver`).
pub(crate) fn check_receivers(r: &RawRoute, known: &dyn Fn(&str) -> bool) -> Result<(), String> {
    for c in &r.routes {
        check_receivers(c, known)?;
    }
    if !r.receiver.is_empty() && !known(&r.receiver) {
        return Err(format!("undefined receiver {:?} used in route", r.receiver));
    }
    Ok(())
}

/// `undefined time interval "x" used in route`.
pub(crate) fn check_time_intervals(r: &RawRoute, known: &dyn Fn(&str) -> bool) -> Result<(), String> {
    for c in &r.routes {
        check_time_intervals(c, known)?;
    }
    for name in r.active_time_intervals.iter().chain(&r.mute_time_intervals) {
        if !known(name) {
            return Err(format!("undefined time interval {name:?} used in route"));
        }
    }
    Ok(())
}

/// Every receiver name referenced anywhere in the tree.
pub(crate) fn referenced_receivers(r: &RawRoute, out: &mut std::collections::HashSet<String>) {
    if !r.receiver.is_empty() {
        out.insert(r.receiver.clone());
    }
    for c in &r.routes {
        referenced_receivers(c, out);
    }
}
