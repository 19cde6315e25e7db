//! The validated configuration the rest of tocsin uses, and its two derived views: the normalised YAML
//! upstream shows in `/api/v2/status` (`config.original`) and `alertmanager_config_hash`.

use crate::global::GlobalConfig;
use crate::inhibit::{InhibitRule, RawInhibitRule};
use crate::receiver::Receiver;
use crate::route::{RawRoute, Route};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use tocsin_model::timeinterval::TimeInterval;

/// A named list of time interval specs (`time_intervals:` / `mute_time_intervals:` entries).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTimeInterval {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub time_intervals: Vec<TimeInterval>,
}

/// The whole file as written (after defaults, inheritance and normalisation when rendered).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub global: Option<GlobalConfig>,
    #[serde(default)]
    pub route: Option<RawRoute>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inhibit_rules: Vec<RawInhibitRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub receivers: Vec<Receiver>,
    #[serde(default)]
    pub templates: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<NamedTimeInterval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub time_intervals: Vec<NamedTimeInterval>,
}

/// A loaded, validated alertmanager.yml.
#[derive(Clone)]
pub struct Config {
    pub global: GlobalConfig,
    pub route: Route,
    pub inhibit_rules: Vec<InhibitRule>,
    /// In file order; globals already inherited, defaults filled in.
    pub receivers: Vec<Receiver>,
    /// Template globs, relative ones joined with the config file's directory (not yet expanded).
    pub templates: Vec<PathBuf>,
    /// Both `time_intervals` and the deprecated `mute_time_intervals`, by name.
    pub time_intervals: HashMap<String, Vec<TimeInterval>>,
    /// The file text as read (input of [`Config::hash`]).
    pub original_text: String,
    pub(crate) normalised: RawConfig,
}

impl Config {
    /// `alertmanager_config_hash`: the first 6 bytes of md5(file text) as a little-endian integer.
    pub fn hash(&self) -> u64 {
        config_hash(&self.original_text)
    }

    /// The normalised YAML upstream returns as `config.original` in `/api/v2/status`: all defaults filled in,
    /// globals inherited, secrets as `<secret>`, upstream's key names and order.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(&self.normalised)
            .unwrap_or_else(|e| format!("<error creating config string: {e}>"))
    }

    pub fn receiver(&self, name: &str) -> Option<&Receiver> {
        self.receivers.iter().find(|r| r.name == name)
    }
}

/// Leaves out `original_text`, which holds secrets in clear.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("global", &self.global)
            .field("route", &self.route)
            .field("inhibit_rules", &self.inhibit_rules)
            .field("receivers", &self.receivers)
            .field("templates", &self.templates)
            .field("time_intervals", &self.time_intervals)
            .finish_non_exhaustive()
    }
}

/// `alertmanager_config_hash` of a file's text.
pub fn config_hash(text: &str) -> u64 {
    let sum = Md5::digest(text.as_bytes());
    let mut b = [0u8; 8];
    b[..6].copy_from_slice(&sum[..6]);
    u64::from_le_bytes(b)
}
