//! Conversions from the compiled configuration (tocsin-config) into the pipeline's own types, mirroring upstream's
//! `dispatch.NewRoute(config.Route)` and `inhibit.NewInhibitRule(config.InhibitRule)`.

use crate::inhibit::InhibitRule;
use crate::route::{GroupBy, Route, RouteOpts};
use std::sync::Arc;

impl Route {
    /// The dispatcher's tree for a config's `route:` (keys and IDs as the config computed them).
    pub fn from_config(r: &tocsin_config::Route) -> Self {
        Self {
            key: r.key().to_owned(),
            id: r.id().to_owned(),
            matchers: r.matchers.clone(),
            continue_matching: r.continue_,
            opts: Arc::new(RouteOpts {
                receiver: r.receiver.clone(),
                group_by: match &r.group_by {
                    tocsin_config::GroupBy::All => GroupBy::All,
                    tocsin_config::GroupBy::List(names) => GroupBy::Labels(names.clone()),
                },
                group_wait: r.group_wait,
                group_interval: r.group_interval,
                repeat_interval: r.repeat_interval,
                mute_time_intervals: r.mute_time_intervals.clone(),
                active_time_intervals: r.active_time_intervals.clone(),
            }),
            routes: r.routes.iter().map(Route::from_config).collect(),
        }
    }
}

impl From<&tocsin_config::InhibitRule> for InhibitRule {
    fn from(r: &tocsin_config::InhibitRule) -> Self {
        Self {
            source_matchers: r.source_matchers.clone(),
            target_matchers: r.target_matchers.clone(),
            equal: r.equal.clone(),
        }
    }
}

/// The inhibition rules of a config.
pub fn inhibit_rules(cfg: &tocsin_config::Config) -> Vec<InhibitRule> {
    cfg.inhibit_rules.iter().map(InhibitRule::from).collect()
}
