//! The HTTP surface of tocsin (Alertmanager's `api/v2` package plus the `/-/healthy`, `/-/ready`, `/-/reload`
//! and `/metrics` handlers of `cmd/alertmanager` and `ui/web.go`).
//!
//! In the flow (DESIGN.md §1) the API is where alerts enter (`POST /api/v2/alerts` → [`tocsin_state::AlertStore`])
//! and where silences are managed (→ [`tocsin_state::Silences`]). The app builds an [`Api`] from [`ApiDeps`] and
//! serves [`routes()`]; everything here is testable with `warp::test` without sockets.
//!
//! Compatibility target: Alertmanager 0.27+ defaults (API v1 gone with 410, UTF-8 label names unless
//! `classic-mode`, `Cache-Control: no-store` and 404 for unknown silences as 0.26+), with 0.25's error bodies.

pub mod alerts;
pub mod context;
pub mod datetime;
pub mod decode;
pub mod decode_fast;
pub mod error;
pub mod general;
pub mod models;
pub mod query;
pub mod render;
pub mod routes;
pub mod silences;

pub use context::{
    build_version_info, normalise_prefix, Api, ApiDeps, ApiMetrics, ApiOptions, ClusterDisabled,
    ClusterStatusSource, ConfigHandle, ConfigRouter, GroupSnapshot, Reloader, Router, SharedRegistry,
    StaticClusterStatus, DEFAULT_MAX_REQUEST_BODY_BYTES,
};
pub use error::ApiError;
pub use routes::routes;
