//! The process-level metrics Alertmanager's `main` and config coordinator register: build info, config hash and
//! reload outcome, clustering switch, and the sizes of the loaded config. Names, types and help texts are
//! upstream's so existing dashboards and alerts (`alertmanager_config_last_reload_successful == 0`) keep working.
//! The registry is created here and injected into every other component; nothing is global.

use crate::version::{platform, BuildInfo};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tocsin_config::{Config, Route};
use tocsin_model::clock::SharedClock;
use tocsin_state::{AlertState, AlertStore, Silences};

type FloatGauge = Gauge<f64, AtomicU64>;

/// Handles on the application's own gauges.
#[derive(Debug, Clone, Default)]
pub struct AppMetrics {
    pub config_hash: FloatGauge,
    pub config_last_reload_successful: Gauge,
    pub config_last_reload_success_timestamp_seconds: FloatGauge,
    pub cluster_enabled: Gauge,
    pub receivers: Gauge,
    pub integrations: Gauge,
    pub inhibition_rules: Gauge,
}

impl AppMetrics {
    /// Registers the gauges and the constant `alertmanager_build_info` in `registry`.
    pub fn register(registry: &mut Registry, build: &BuildInfo) -> Self {
        let m = AppMetrics::default();
        let build_info = Family::<Vec<(String, String)>, Gauge>::default();
        let (goos, goarch) =
            platform().split_once('/').map(|(a, b)| (a.to_owned(), b.to_owned())).unwrap_or_default();
        build_info
            .get_or_create(&vec![
                ("branch".to_owned(), build.branch.to_owned()),
                ("goarch".to_owned(), goarch),
                ("goos".to_owned(), goos),
                ("goversion".to_owned(), build.compiler.to_owned()),
                ("revision".to_owned(), build.revision.to_owned()),
                ("version".to_owned(), build.version.to_owned()),
            ])
            .set(1);
        registry.register(
            "alertmanager_build_info",
            "A metric with a constant '1' value labeled by version, revision, branch, goversion from which \
             alertmanager was built, and the goos and goarch for the build",
            build_info,
        );
        registry.register(
            "alertmanager_config_hash",
            "Hash of the currently loaded alertmanager configuration",
            m.config_hash.clone(),
        );
        registry.register(
            "alertmanager_config_last_reload_successful",
            "Whether the last configuration reload attempt was successful",
            m.config_last_reload_successful.clone(),
        );
        registry.register(
            "alertmanager_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload",
            m.config_last_reload_success_timestamp_seconds.clone(),
        );
        registry.register(
            "alertmanager_cluster_enabled",
            "Indicates whether the clustering is enabled or not",
            m.cluster_enabled.clone(),
        );
        registry.register("alertmanager_receivers", "Number of configured receivers", m.receivers.clone());
        registry.register(
            "alertmanager_integrations",
            "Number of configured integrations",
            m.integrations.clone(),
        );
        registry.register(
            "alertmanager_inhibition_rules",
            "Number of configured inhibition rules",
            m.inhibition_rules.clone(),
        );
        m
    }

    /// Records a successful (re)load of `config` at `now_seconds` (Unix time).
    pub fn reload_succeeded(&self, config: &Config, now_seconds: f64) {
        self.config_last_reload_successful.set(1);
        self.config_last_reload_success_timestamp_seconds.set(now_seconds);
        // The hash has 48 significant bits: exact in an f64.
        self.config_hash.set(config.hash() as f64);
        let sizes = ConfigSizes::of(config);
        self.receivers.set(sizes.receivers as i64);
        self.integrations.set(sizes.integrations as i64);
        self.inhibition_rules.set(sizes.inhibition_rules as i64);
    }

    /// Records a failed reload; the previous config keeps running.
    pub fn reload_failed(&self) {
        self.config_last_reload_successful.set(0);
    }
}

/// What `alertmanager_receivers`, `_integrations` and `_inhibition_rules` count: like upstream, only receivers a
/// route refers to are built, so only they (and their integrations) count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigSizes {
    pub receivers: usize,
    pub integrations: usize,
    pub inhibition_rules: usize,
}

impl ConfigSizes {
    pub fn of(config: &Config) -> Self {
        let mut used = HashSet::new();
        collect_receivers(&config.route, &mut used);
        let active: Vec<_> = config.receivers.iter().filter(|r| used.contains(r.name.as_str())).collect();
        ConfigSizes {
            receivers: active.len(),
            integrations: active.iter().map(|r| r.integrations().len()).sum(),
            inhibition_rules: config.inhibit_rules.len(),
        }
    }
}

fn collect_receivers<'a>(route: &'a Route, out: &mut HashSet<&'a str>) {
    out.insert(route.receiver.as_str());
    for child in &route.routes {
        collect_receivers(child, out);
    }
}

/// `alertmanager_alerts{state}`, `alertmanager_marked_alerts{state}` and `alertmanager_silences{state}`,
/// computed at scrape time from the stores (upstream's `GaugeFunc`s), so ingest pays nothing for them.
#[derive(Debug)]
pub struct StateCollector {
    pub alerts: Arc<AlertStore>,
    pub silences: Arc<Silences>,
    pub clock: SharedClock,
}

impl StateCollector {
    pub fn register(self, registry: &mut Registry) {
        registry.register_collector(Box::new(self));
    }
}

fn encode_by_state(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    values: [(&str, usize); 3],
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (state, v) in values {
        let labels = [("state", state)];
        ConstGauge::new(v as i64).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for StateCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let now = self.clock.now();
        let alerts = self.alerts.counts(now);
        let (mut active, mut suppressed, mut unprocessed) = (0, 0, 0);
        self.alerts.for_each(|_, _, marker| match marker.state {
            AlertState::Active => active += 1,
            AlertState::Suppressed => suppressed += 1,
            AlertState::Unprocessed => unprocessed += 1,
        });
        encode_by_state(
            &mut encoder,
            "alertmanager_alerts",
            "How many alerts by state",
            [
                ("active", alerts.active),
                ("suppressed", alerts.suppressed),
                ("unprocessed", alerts.unprocessed),
            ],
        )?;
        encode_by_state(
            &mut encoder,
            "alertmanager_marked_alerts",
            "How many alerts by state are currently marked in the Alertmanager regardless of their expiry",
            [("active", active), ("suppressed", suppressed), ("unprocessed", unprocessed)],
        )?;
        let silences = self.silences.counts(now);
        encode_by_state(
            &mut encoder,
            "alertmanager_silences",
            "How many silences by state",
            [("active", silences.active), ("expired", silences.expired), ("pending", silences.pending)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;
    use std::path::Path;
    use tocsin_config::ParseMode;

    const CONFIG: &str = "route:\n  receiver: a\n  routes:\n  - receiver: b\nreceivers:\n- name: a\n  \
                          webhook_configs:\n  - url: http://127.0.0.1:9/\n  - url: http://127.0.0.1:10/\n- name: b\n\
                          - name: unused\n  webhook_configs:\n  - url: http://127.0.0.1:9/\ninhibit_rules:\n\
                          - source_matchers: [a=b]\n  target_matchers: [c=d]\n";

    #[test]
    fn sizes_count_only_routed_receivers() {
        let config =
            tocsin_config::load_str(CONFIG, Path::new("."), ParseMode::default()).expect("valid config");
        assert_eq!(
            ConfigSizes::of(&config),
            ConfigSizes { receivers: 2, integrations: 2, inhibition_rules: 1 }
        );
    }

    #[test]
    fn exposition_uses_upstream_names() {
        let mut registry = Registry::default();
        let m = AppMetrics::register(&mut registry, &crate::version::BUILD);
        let config =
            tocsin_config::load_str(CONFIG, Path::new("."), ParseMode::default()).expect("valid config");
        m.reload_succeeded(&config, 1_700_000_000.5);
        let mut text = String::new();
        encode(&mut text, &registry).expect("encode");
        for want in [
            "alertmanager_config_last_reload_successful 1\n",
            "alertmanager_config_last_reload_success_timestamp_seconds 1700000000.5\n",
            "alertmanager_receivers 2\n",
            "alertmanager_integrations 2\n",
            "alertmanager_inhibition_rules 1\n",
            "alertmanager_cluster_enabled 0\n",
            "# TYPE alertmanager_build_info gauge\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert!(text.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))), "{text}");
        m.reload_failed();
        let clock: SharedClock = Arc::new(tocsin_model::clock::SystemClock);
        StateCollector {
            alerts: Arc::new(AlertStore::new(clock.clone())),
            silences: Arc::new(Silences::new(Default::default(), clock.clone())),
            clock,
        }
        .register(&mut registry);
        let mut text = String::new();
        encode(&mut text, &registry).expect("encode");
        assert!(text.contains("alertmanager_config_last_reload_successful 0\n"), "{text}");
        for want in [
            "alertmanager_alerts{state=\"active\"} 0\n",
            "alertmanager_marked_alerts{state=\"suppressed\"} 0\n",
            "alertmanager_silences{state=\"expired\"} 0\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }
}
