//! `alertmanager.yml` (Alertmanager's `config` package): the schema with upstream's defaults, inheritance from
//! `global`, validation with upstream's error texts, and the compiled [`Config`] the dispatcher, inhibitor,
//! receivers and API use.
//!
//! Entry points: [`load`] (a file) and [`load_str`] (text plus the directory relative paths are resolved against).
//! YAML parsing (serde_yaml_ng) stays behind these two functions; see `docs/yaml-parser.md`.

mod config;
mod error;
mod global;
mod http;
mod inhibit;
pub mod integrations;
mod load;
mod paths;
mod receiver;
mod route;
mod secret;
mod url;
mod yamlish;

pub use config::{config_hash, Config, NamedTimeInterval};
pub use error::ConfigError;
pub use global::GlobalConfig;
pub use http::{Authorization, BasicAuth, HttpClientConfig, OAuth2, TlsConfig, TlsVersion};
pub use inhibit::InhibitRule;
pub use integrations::IntegrationConfig;
pub use load::{load, load_str};
pub use receiver::*;
pub use route::{GroupBy, Route, DEFAULT_GROUP_INTERVAL, DEFAULT_GROUP_WAIT, DEFAULT_REPEAT_INTERVAL};
pub use secret::{Secret, SecretUrl, SECRET_TOKEN};
pub use tocsin_model::matcher::parse::ParseMode;
pub use url::{HostPort, Url, UrlError};
pub use yamlish::{GoDuration, PromDuration};
