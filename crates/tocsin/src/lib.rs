//! The tocsin application: Alertmanager's command line ([`flags`]), start-up and shutdown ([`app`]),
//! configuration reload ([`reload`]), signals, self-metrics, logging, and `check-config`. This is where every
//! other crate is wired together (Alertmanager's `cmd/alertmanager`).

pub mod app;
pub mod check_config;
pub mod cluster;
pub mod flags;
pub mod limits;
pub mod listen;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod reload;
pub mod signals;
pub mod state_metrics;
pub mod systemd;
pub mod version;
pub mod web;
pub mod web_url;
pub mod webconfig;
