//! Alertmanager's command line (`cmd/alertmanager/main.go` flags parsed by kingpin): the same flag names,
//! meanings, defaults, syntax and error texts, so a unit file or Helm chart written for Alertmanager starts tocsin
//! unchanged. Differences, on purpose: `--cluster.peer-timeout` defaults to 5s (not 15s), and
//! `--web.max-request-body-bytes` and the `check-config` command are tocsin extensions.
//!
//! Entry point: [`parse_args`] → [`Command`]. On error the binary prints [`render_error`] to stderr and exits 1.

mod address;
mod error;
mod features;
mod help;
mod parser;
mod spec;
mod values;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use tocsin_model::duration::parse_go_duration;

pub use address::split_host_port;
pub use error::{render_error, FlagError};
pub use features::{FeatureFlags, ALLOWED_FEATURES};
pub use help::{check_config_usage, usage};
pub use values::{LogFormat, LogLevel};

/// What the command line asks for.
// Built once per process and matched at once, so `Run` stays unboxed for the caller's convenience.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Run the server with these flags.
    Run(Flags),
    /// `tocsin check-config FILE...`: validate config files and exit (like `amtool check-config`). An empty list
    /// means "read the configuration from standard input", as amtool does.
    CheckConfig { files: Vec<PathBuf> },
    /// `-h`/`--help` (and `--help-long`, `--help-man`): print this text to stdout, exit 0.
    Help(String),
    /// `--version`: print the version block to stdout, exit 0.
    Version,
}

/// Every Alertmanager flag, parsed and validated. Go durations become [`Duration`]s (negative values, which
/// upstream treats like zero wherever it gives them a meaning, become zero); empty strings that upstream reads as
/// "unset" become `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Flags {
    /// `--config.file` (default `alertmanager.yml`).
    pub config_file: PathBuf,
    /// `--storage.path` (default `data/`): directory for the `silences` and `nflog` snapshots.
    pub storage_path: PathBuf,
    /// `--data.retention` (120h): how long expired silences and notification log entries are kept.
    pub data_retention: Duration,
    /// `--data.maintenance-interval` (15m): GC + snapshot period of silences and nflog.
    pub data_maintenance_interval: Duration,
    /// `--silences.max-silences` (0): limit including expired silences; ≤ 0 means unlimited.
    pub silences_max_silences: i64,
    /// `--silences.max-silence-size-bytes` (0): limit on one silence's encoded size; ≤ 0 means unlimited.
    pub silences_max_silence_size_bytes: i64,
    /// `--alerts.gc-interval` (30m): period of deleting resolved alerts.
    pub alerts_gc_interval: Duration,
    /// `--web.listen-address`, repeatable (default `[":9093"]`); the first one derives the default external URL.
    pub web_listen_addresses: Vec<String>,
    /// `--web.config.file`: exporter-toolkit web config (TLS, basic auth).
    pub web_config_file: Option<PathBuf>,
    /// `--web.systemd-socket`: use systemd socket activation listeners.
    pub web_systemd_socket: bool,
    /// `--web.external-url`: see [`crate::web_url::external_url`].
    pub web_external_url: Option<String>,
    /// `--web.route-prefix`: see [`crate::web_url::route_prefix`].
    pub web_route_prefix: Option<String>,
    /// `--web.get-concurrency` (0): ≤ 0 means max(available parallelism, 8).
    pub web_get_concurrency: i64,
    /// `--web.timeout` (0): zero means no timeout.
    pub web_timeout: Duration,
    /// `--web.max-request-body-bytes` (64 MiB), tocsin extension: bodies above it get 413; 0 means no limit.
    pub web_max_request_body_bytes: u64,
    /// `--auto-gomemlimit.ratio` (0.9): validated in (0, 1] when the `auto-gomemlimit` feature is on.
    pub auto_gomemlimit_ratio: f64,
    /// `--cluster.listen-address` (`0.0.0.0:9094`); `None` (empty flag) disables HA.
    pub cluster_listen_address: Option<String>,
    /// `--cluster.advertise-address`.
    pub cluster_advertise_address: Option<String>,
    /// `--cluster.peer`, repeatable: initial peers `host:port`.
    pub cluster_peers: Vec<String>,
    /// `--cluster.peer-timeout` (5s in tocsin; 15s upstream): wait per position before notifying.
    pub cluster_peer_timeout: Duration,
    /// `--cluster.gossip-interval` (200ms).
    pub cluster_gossip_interval: Duration,
    /// `--cluster.pushpull-interval` (1m).
    pub cluster_pushpull_interval: Duration,
    /// `--cluster.tcp-timeout` (10s).
    pub cluster_tcp_timeout: Duration,
    /// `--cluster.probe-timeout` (500ms).
    pub cluster_probe_timeout: Duration,
    /// `--cluster.probe-interval` (1s).
    pub cluster_probe_interval: Duration,
    /// `--cluster.settle-timeout` (1m).
    pub cluster_settle_timeout: Duration,
    /// `--cluster.reconnect-interval` (10s); zero disables reconnecting.
    pub cluster_reconnect_interval: Duration,
    /// `--cluster.reconnect-timeout` (6h); zero disables dropping failed peers.
    pub cluster_reconnect_timeout: Duration,
    /// `--cluster.tls-config`: YAML with `tls_server_config` and `tls_client_config` for gossip.
    pub cluster_tls_config: Option<PathBuf>,
    /// `--cluster.allow-insecure-public-advertise-address-discovery`.
    pub cluster_allow_insecure_public_advertise_address_discovery: bool,
    /// `--cluster.label`: messages from peers with another label are dropped.
    pub cluster_label: Option<String>,
    /// `--cluster.key-file` (tocsin): a shared secret; every gossip packet and stream frame carries an HMAC-SHA256
    /// of it, and packets failing the check are dropped and counted.
    pub cluster_key_file: Option<PathBuf>,
    /// `--enable-feature`, parsed.
    pub features: FeatureFlags,
    /// `--log.level` (info).
    pub log_level: LogLevel,
    /// `--log.format` (logfmt).
    pub log_format: LogFormat,
}

/// The default `--cluster.listen-address`.
pub const DEFAULT_CLUSTER_LISTEN_ADDRESS: &str = "0.0.0.0:9094";
/// The default `--web.listen-address`.
pub const DEFAULT_WEB_LISTEN_ADDRESS: &str = ":9093";
/// The default `--web.max-request-body-bytes`: Prometheus posts at most 64 alerts per request, so even alerts
/// with very large annotations stay far below this, while a runaway client cannot exhaust memory.
pub const DEFAULT_MAX_REQUEST_BODY_BYTES: u64 = 64 << 20;

impl Default for Flags {
    fn default() -> Self {
        Flags {
            config_file: PathBuf::from("alertmanager.yml"),
            storage_path: PathBuf::from("data/"),
            data_retention: Duration::from_secs(120 * 3600),
            data_maintenance_interval: Duration::from_secs(15 * 60),
            silences_max_silences: 0,
            silences_max_silence_size_bytes: 0,
            alerts_gc_interval: Duration::from_secs(30 * 60),
            web_listen_addresses: vec![DEFAULT_WEB_LISTEN_ADDRESS.to_owned()],
            web_config_file: None,
            web_systemd_socket: false,
            web_external_url: None,
            web_route_prefix: None,
            web_get_concurrency: 0,
            web_timeout: Duration::ZERO,
            web_max_request_body_bytes: DEFAULT_MAX_REQUEST_BODY_BYTES,
            auto_gomemlimit_ratio: 0.9,
            cluster_listen_address: Some(DEFAULT_CLUSTER_LISTEN_ADDRESS.to_owned()),
            cluster_advertise_address: None,
            cluster_peers: Vec::new(),
            cluster_peer_timeout: Duration::from_secs(5),
            cluster_gossip_interval: Duration::from_millis(200),
            cluster_pushpull_interval: Duration::from_secs(60),
            cluster_tcp_timeout: Duration::from_secs(10),
            cluster_probe_timeout: Duration::from_millis(500),
            cluster_probe_interval: Duration::from_secs(1),
            cluster_settle_timeout: Duration::from_secs(60),
            cluster_reconnect_interval: Duration::from_secs(10),
            cluster_reconnect_timeout: Duration::from_secs(6 * 3600),
            cluster_tls_config: None,
            cluster_allow_insecure_public_advertise_address_discovery: false,
            cluster_label: None,
            cluster_key_file: None,
            features: FeatureFlags::default(),
            log_level: LogLevel::Info,
            log_format: LogFormat::Logfmt,
        }
    }
}

/// Parses the arguments after `argv[0]`.
///
/// Precedence follows kingpin: `--version`/`--help-long` seen before any error win; then grammar errors
/// (unknown flag, missing value, stray argument); then `-h`/`--help`; then the first bad value in argument order;
/// then the startup checks Alertmanager makes before serving (features, addresses, storage path).
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, FlagError> {
    let parsed = parser::parse(args.into_iter().collect())?;
    match parsed.pre_action {
        Some(parser::PreAction::Version) => return Ok(Command::Version),
        Some(parser::PreAction::Help) => return Ok(Command::Help(usage())),
        None => {}
    }
    if parsed.help {
        return Ok(Command::Help(match parsed.check_config {
            Some(_) => check_config_usage(),
            None => usage(),
        }));
    }
    let mut flags = Flags::default();
    let mut enable_feature = String::new();
    let mut seen: HashSet<&'static str> = HashSet::new();
    for (spec, value) in &parsed.elements {
        let first = seen.insert(spec.name);
        if !first && !spec.repeatable {
            return Err(FlagError::Repeated(spec.name.to_owned()));
        }
        flags.set(spec.name, value, first, &mut enable_feature)?;
    }
    if let Some(files) = parsed.check_config {
        return Ok(Command::CheckConfig { files: files.into_iter().map(PathBuf::from).collect() });
    }
    flags.features = FeatureFlags::parse(&enable_feature)?;
    flags.validate()?;
    Ok(Command::Run(flags))
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

impl Flags {
    /// Applies one occurrence of a flag; `first` is true for its first occurrence (repeatable flags then drop
    /// their default).
    fn set(
        &mut self,
        name: &str,
        value: &str,
        first: bool,
        enable_feature: &mut String,
    ) -> Result<(), FlagError> {
        let invalid = |message: String| FlagError::InvalidValue { flag: name.to_owned(), message };
        let duration = || parse_go_duration(value).map_err(|e| invalid(e.to_string()));
        let int = || values::parse_kingpin_int(value).map_err(invalid);
        let bool_value = value == "true";
        match name {
            "config.file" => self.config_file = PathBuf::from(value),
            "storage.path" => self.storage_path = PathBuf::from(value),
            "data.retention" => self.data_retention = duration()?,
            "data.maintenance-interval" => self.data_maintenance_interval = duration()?,
            "silences.max-silences" => self.silences_max_silences = int()?,
            "silences.max-silence-size-bytes" => self.silences_max_silence_size_bytes = int()?,
            "alerts.gc-interval" => self.alerts_gc_interval = duration()?,
            "web.systemd-socket" => self.web_systemd_socket = bool_value,
            "web.listen-address" => {
                if first {
                    self.web_listen_addresses.clear();
                }
                self.web_listen_addresses.push(value.to_owned());
            }
            "web.config.file" => self.web_config_file = non_empty(value).map(PathBuf::from),
            "web.external-url" => self.web_external_url = non_empty(value),
            "web.route-prefix" => self.web_route_prefix = non_empty(value),
            "web.get-concurrency" => self.web_get_concurrency = int()?,
            "web.timeout" => self.web_timeout = duration()?,
            "web.max-request-body-bytes" => {
                self.web_max_request_body_bytes = values::parse_byte_size(value).map_err(invalid)?
            }
            "auto-gomemlimit.ratio" => {
                self.auto_gomemlimit_ratio = values::parse_go_float(value).map_err(invalid)?
            }
            "cluster.listen-address" => self.cluster_listen_address = non_empty(value),
            "cluster.advertise-address" => self.cluster_advertise_address = non_empty(value),
            "cluster.peer" => {
                if first {
                    self.cluster_peers.clear();
                }
                self.cluster_peers.push(value.to_owned());
            }
            "cluster.peer-timeout" => self.cluster_peer_timeout = duration()?,
            "cluster.gossip-interval" => self.cluster_gossip_interval = duration()?,
            "cluster.pushpull-interval" => self.cluster_pushpull_interval = duration()?,
            "cluster.tcp-timeout" => self.cluster_tcp_timeout = duration()?,
            "cluster.probe-timeout" => self.cluster_probe_timeout = duration()?,
            "cluster.probe-interval" => self.cluster_probe_interval = duration()?,
            "cluster.settle-timeout" => self.cluster_settle_timeout = duration()?,
            "cluster.reconnect-interval" => self.cluster_reconnect_interval = duration()?,
            "cluster.reconnect-timeout" => self.cluster_reconnect_timeout = duration()?,
            "cluster.tls-config" => self.cluster_tls_config = non_empty(value).map(PathBuf::from),
            "cluster.allow-insecure-public-advertise-address-discovery" => {
                self.cluster_allow_insecure_public_advertise_address_discovery = bool_value
            }
            "cluster.label" => self.cluster_label = non_empty(value),
            "cluster.key-file" => self.cluster_key_file = non_empty(value).map(PathBuf::from),
            "enable-feature" => *enable_feature = value.to_owned(),
            "log.level" => self.log_level = value.parse().map_err(invalid)?,
            "log.format" => self.log_format = value.parse().map_err(invalid)?,
            other => {
                // Every name in spec::FLAGS is handled above (a test walks the table); this keeps a mismatch from
                // being silently ignored.
                return Err(FlagError::UnknownLongFlag(format!("--{other}")));
            }
        }
        Ok(())
    }

    /// The checks Alertmanager makes at startup, in its order, before anything is opened.
    fn validate(&self) -> Result<(), FlagError> {
        let ratio = self.auto_gomemlimit_ratio;
        if self.features.auto_gomemlimit && !(ratio > 0.0 && ratio <= 1.0) {
            return Err(FlagError::Invalid(
                "--auto-gomemlimit.ratio must be greater than 0 and less than or equal to 1.".to_owned(),
            ));
        }
        if self.storage_path.as_os_str().is_empty() {
            return Err(FlagError::Invalid(
                "unable to create data directory: --storage.path must not be empty".to_owned(),
            ));
        }
        if let Some(listen) = &self.cluster_listen_address {
            address::check_cluster_address("listen", listen).map_err(FlagError::Invalid)?;
            if let Some(advertise) = &self.cluster_advertise_address {
                address::check_cluster_address("advertise", advertise).map_err(FlagError::Invalid)?;
            }
            for peer in &self.cluster_peers {
                address::check_peer(peer).map_err(FlagError::Invalid)?;
            }
        }
        if !self.web_systemd_socket {
            for listen in &self.web_listen_addresses {
                address::check_listen(listen).map_err(FlagError::Invalid)?;
            }
        }
        Ok(())
    }

    /// The first `--web.listen-address`, from which the default external URL takes its port.
    pub fn first_listen_address(&self) -> &str {
        self.web_listen_addresses.first().map_or(DEFAULT_WEB_LISTEN_ADDRESS, String::as_str)
    }

    /// The matcher grammar selected by `--enable-feature`.
    pub fn parse_mode(&self) -> tocsin_model::matcher::parse::ParseMode {
        self.features.parse_mode()
    }
}
