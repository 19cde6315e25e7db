//! The flag table: every flag's name, help and how `--help` shows its default, in upstream's order. Parsing
//! (`parser.rs`), applying values (`Flags::set`) and the usage text all read this one list.

/// Whether a flag takes a value. Bool flags take none and also answer to `--no-<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Value,
}

#[derive(Debug)]
pub(crate) struct FlagSpec {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    /// Accumulating flag (`--cluster.peer`); the first explicit value replaces the default.
    pub repeatable: bool,
    /// The default as `--help` shows it after `=` (kingpin quotes string defaults); `None` shows `=NAME`.
    pub shown: Option<&'static str>,
}

const fn flag(name: &'static str, shown: Option<&'static str>, help: &'static str) -> FlagSpec {
    FlagSpec { name, help, kind: Kind::Value, repeatable: false, shown }
}

const fn repeatable(name: &'static str, shown: Option<&'static str>, help: &'static str) -> FlagSpec {
    FlagSpec { name, help, kind: Kind::Value, repeatable: true, shown }
}

const fn switch(name: &'static str, help: &'static str) -> FlagSpec {
    FlagSpec { name, help, kind: Kind::Bool, repeatable: false, shown: None }
}

/// kingpin's built-in flags: `--help` (short `-h`) and its variants, and `--version`.
pub(crate) const HELP: &str = "help";
pub(crate) const HELP_LONG: &str = "help-long";
pub(crate) const HELP_MAN: &str = "help-man";
pub(crate) const VERSION: &str = "version";

pub(crate) static FLAGS: &[FlagSpec] = &[
    switch(HELP, "Show context-sensitive help (also try --help-long and --help-man)."),
    flag("config.file", Some("\"alertmanager.yml\""), "Alertmanager configuration file name."),
    flag("storage.path", Some("\"data/\""), "Base path for data storage."),
    flag("data.retention", Some("120h"), "How long to keep data for."),
    flag(
        "data.maintenance-interval",
        Some("15m"),
        "Interval between garbage collection and snapshotting to disk of the silences and the notification logs.",
    ),
    flag(
        "silences.max-silences",
        Some("0"),
        "Maximum number of silences, including expired silences. If negative or zero, no limit is set.",
    ),
    flag(
        "silences.max-silence-size-bytes",
        Some("0"),
        "Maximum silence size in bytes. If negative or zero, no limit is set.",
    ),
    flag("alerts.gc-interval", Some("30m"), "Interval between alert GC."),
    switch(
        "web.systemd-socket",
        "Use systemd socket activation listeners instead of port listeners (Linux only).",
    ),
    repeatable(
        "web.listen-address",
        Some(":9093"),
        "Addresses on which to expose metrics and web interface. Repeatable for multiple addresses.",
    ),
    flag(
        "web.config.file",
        Some("\"\""),
        "[EXPERIMENTAL] Path to configuration file that can enable TLS or authentication.",
    ),
    flag(
        "web.external-url",
        None,
        "The URL under which Alertmanager is externally reachable (for example, if Alertmanager is served via a \
         reverse proxy). Used for generating relative and absolute links back to Alertmanager itself. If the URL has \
         a path portion, it will be used to prefix all HTTP endpoints served by Alertmanager. If omitted, relevant \
         URL components will be derived automatically.",
    ),
    flag(
        "web.route-prefix",
        None,
        "Prefix for the internal routes of web endpoints. Defaults to path of --web.external-url.",
    ),
    flag(
        "web.get-concurrency",
        Some("0"),
        "Maximum number of GET requests processed concurrently. If negative or zero, the limit is GOMAXPROC or 8, \
         whichever is larger.",
    ),
    flag(
        "web.timeout",
        Some("0"),
        "Timeout for HTTP requests. If negative or zero, no timeout is set.",
    ),
    flag(
        "web.max-request-body-bytes",
        Some("64MiB"),
        "[tocsin] Maximum size of an HTTP request body (B, KiB, MiB, GiB); larger requests get 413. The default \
         accepts any batch Prometheus sends, with room to spare. 0 means no limit.",
    ),
    flag(
        "auto-gomemlimit.ratio",
        Some("0.9"),
        "The ratio of reserved GOMEMLIMIT memory to the detected maximum container or system memory. The value must \
         be greater than 0 and less than or equal to 1.",
    ),
    flag(
        "cluster.listen-address",
        Some("\"0.0.0.0:9094\""),
        "Listen address for cluster. Set to empty string to disable HA mode.",
    ),
    flag("cluster.advertise-address", None, "Explicit address to advertise in cluster."),
    repeatable("cluster.peer", None, "Initial peers (may be repeated)."),
    flag(
        "cluster.peer-timeout",
        Some("5s"),
        "Time to wait between peers to send notifications.",
    ),
    flag(
        "cluster.gossip-interval",
        Some("200ms"),
        "Interval between sending gossip messages. By lowering this value (more frequent) gossip messages are \
         propagated across the cluster more quickly at the expense of increased bandwidth.",
    ),
    flag(
        "cluster.pushpull-interval",
        Some("1m0s"),
        "Interval for gossip state syncs. Setting this interval lower (more frequent) will increase convergence \
         speeds across larger clusters at the expense of increased bandwidth usage.",
    ),
    flag(
        "cluster.tcp-timeout",
        Some("10s"),
        "Timeout for establishing a stream connection with a remote node for a full state sync, and for stream read \
         and write operations.",
    ),
    flag(
        "cluster.probe-timeout",
        Some("500ms"),
        "Timeout to wait for an ack from a probed node before assuming it is unhealthy. This should be set to \
         99-percentile of RTT (round-trip time) on your network.",
    ),
    flag(
        "cluster.probe-interval",
        Some("1s"),
        "Interval between random node probes. Setting this lower (more frequent) will cause the cluster to detect \
         failed nodes more quickly at the expense of increased bandwidth usage.",
    ),
    flag(
        "cluster.settle-timeout",
        Some("1m0s"),
        "Maximum time to wait for cluster connections to settle before evaluating notifications.",
    ),
    flag(
        "cluster.reconnect-interval",
        Some("10s"),
        "Interval between attempting to reconnect to lost peers.",
    ),
    flag(
        "cluster.reconnect-timeout",
        Some("6h0m0s"),
        "Length of time to attempt to reconnect to a lost peer.",
    ),
    flag(
        "cluster.tls-config",
        Some("\"\""),
        "[EXPERIMENTAL] Path to config yaml file that can enable mutual TLS within the gossip protocol.",
    ),
    switch(
        "cluster.allow-insecure-public-advertise-address-discovery",
        "[EXPERIMENTAL] Allow alertmanager to discover and listen on a public IP address.",
    ),
    flag(
        "cluster.label",
        Some("\"\""),
        "The cluster label is an optional string to include on each packet and stream. It uniquely identifies the \
         cluster and prevents cross-communication issues when sending gossip messages.",
    ),
    flag(
        "cluster.key-file",
        Some("\"\""),
        "[tocsin] File holding a shared secret that authenticates gossip: every packet and stream frame carries an \
         HMAC-SHA256 with it, and peers without the same key are ignored. Empty disables authentication.",
    ),
    flag(
        "enable-feature",
        Some("\"\""),
        "Comma-separated experimental features to enable. Valid options: receiver-name-in-metrics, classic-mode, \
         utf8-strict-mode, auto-gomemlimit, auto-gomaxprocs",
    ),
    flag(
        "log.level",
        Some("info"),
        "Only log messages with the given severity or above. One of: [debug, info, warn, error]",
    ),
    flag(
        "log.format",
        Some("logfmt"),
        "Output format of log messages. One of: [logfmt, json]",
    ),
    switch(VERSION, "Show application version."),
];

/// Hidden kingpin flags: accepted, not listed.
pub(crate) static HIDDEN: &[FlagSpec] =
    &[switch(HELP_LONG, "Generate long help."), switch(HELP_MAN, "Generate a man page.")];

pub(crate) fn lookup(name: &str) -> Option<&'static FlagSpec> {
    FLAGS.iter().chain(HIDDEN).find(|f| f.name == name)
}
