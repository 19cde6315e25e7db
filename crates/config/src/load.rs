//! Loading: YAML → raw structs (strict: unknown keys are errors with line and column) → upstream's validations
//! in upstream's order → inheritance from `global` → compiled [`Config`].

use crate::config::{Config, RawConfig};
use crate::error::ConfigError;
use crate::paths::resolve;
use crate::route::{check_receivers, check_time_intervals, referenced_receivers};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use tocsin_model::matcher::parse::ParseMode;

/// Reads and validates `path`; relative paths inside are resolved against the file's directory.
pub fn load(path: &Path, mode: ParseMode) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    load_str(&text, &base, mode)
}

/// Turns a serde_yaml_ng error into `yaml: line L column C: <message>`.
fn yaml_error(e: &serde_yaml_ng::Error) -> ConfigError {
    let msg = e.to_string();
    match e.location() {
        Some(loc) => {
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            let body = msg.replace(&suffix, "");
            ConfigError::Yaml(format!("yaml: line {} column {}: {body}", loc.line(), loc.column()))
        }
        None => ConfigError::Yaml(format!("yaml: {msg}")),
    }
}

/// Parses and validates config text; `base_dir` is the directory relative paths are resolved against.
pub fn load_str(text: &str, base_dir: &Path, mode: ParseMode) -> Result<Config, ConfigError> {
    let parsed: Option<RawConfig> = if text.trim().is_empty() {
        None
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| yaml_error(&e))?
    };
    // An empty document (only whitespace/comments) is "no route provided in config", as upstream.
    let Some(mut raw) = parsed else {
        return Err(ConfigError::Invalid("no route provided in config".into()));
    };

    // Parse-time checks (upstream runs them inside UnmarshalYAML of each type).
    let mut route_raw = raw.route.take();
    let compiled_route = match route_raw.as_mut() {
        Some(r) => Some(crate::route::compile(r, None, None, mode)?),
        None => None,
    };
    let mut inhibit_rules = Vec::with_capacity(raw.inhibit_rules.len());
    for r in &mut raw.inhibit_rules {
        inhibit_rules.push(crate::inhibit::compile(r, mode)?);
    }
    for rcv in &mut raw.receivers {
        rcv.validate_integrations()?;
        if rcv.name.is_empty() {
            return Err(ConfigError::Invalid("missing name in receiver".into()));
        }
    }
    for ti in &raw.mute_time_intervals {
        if ti.name.is_empty() {
            return Err(ConfigError::Invalid("missing name in mute time interval".into()));
        }
    }
    for ti in &raw.time_intervals {
        if ti.name.is_empty() {
            return Err(ConfigError::Invalid("missing name in time interval".into()));
        }
    }

    // Config.UnmarshalYAML.
    let mut global = raw.global.take().unwrap_or_default();
    global.validate()?;
    global.resolve_paths(base_dir);
    let mut names = HashSet::new();
    for rcv in &mut raw.receivers {
        if !names.insert(rcv.name.clone()) {
            return Err(ConfigError::Invalid(format!(
                "notification config name {:?} is not unique",
                rcv.name
            )));
        }
        rcv.resolve_paths(base_dir);
        rcv.inherit(&global)?;
    }
    let (Some(route_raw), Some(route)) = (route_raw, compiled_route) else {
        return Err(ConfigError::Invalid("no routes provided".into()));
    };
    if route_raw.receiver.is_empty() {
        return Err(ConfigError::Invalid("root route must specify a default receiver".into()));
    }
    if !route_raw.match_.is_empty() || !route_raw.match_re.is_empty() || !route_raw.matchers.is_empty() {
        return Err(ConfigError::Invalid("root route must not have any matchers".into()));
    }
    if !route_raw.mute_time_intervals.is_empty() {
        return Err(ConfigError::Invalid("root route must not have any mute time intervals".into()));
    }
    if !route_raw.active_time_intervals.is_empty() {
        return Err(ConfigError::Invalid("root route must not have any active time intervals".into()));
    }
    check_receivers(&route_raw, &|n| names.contains(n))?;
    let mut time_intervals = HashMap::new();
    for ti in &raw.mute_time_intervals {
        if time_intervals.insert(ti.name.clone(), ti.time_intervals.clone()).is_some() {
            return Err(ConfigError::Invalid(format!("mute time interval {:?} is not unique", ti.name)));
        }
    }
    for ti in &raw.time_intervals {
        if time_intervals.insert(ti.name.clone(), ti.time_intervals.clone()).is_some() {
            return Err(ConfigError::Invalid(format!("time interval {:?} is not unique", ti.name)));
        }
    }
    check_time_intervals(&route_raw, &|n| time_intervals.contains_key(n))?;
    // config.Load.
    if route_raw.continue_ {
        return Err(ConfigError::Invalid("cannot have continue in root route".into()));
    }

    // What upstream's email notifier adds when it is built (only receivers a route uses are built).
    let mut used = HashSet::new();
    referenced_receivers(&route_raw, &mut used);
    for rcv in raw.receivers.iter_mut().filter(|r| used.contains(&r.name)) {
        for e in &mut rcv.email_configs {
            e.fill_default_headers();
        }
    }

    raw.templates = raw.templates.iter().map(|t| resolve(base_dir, t)).collect();
    raw.global = Some(global.clone());
    raw.route = Some(route_raw);
    Ok(Config {
        global,
        route,
        inhibit_rules,
        receivers: raw.receivers.clone(),
        templates: raw.templates.iter().map(PathBuf::from).collect(),
        time_intervals,
        original_text: text.to_owned(),
        normalised: raw,
    })
}
