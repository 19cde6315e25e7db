//! In-memory state of tocsin: the alert store with its markers (Alertmanager's `provider/mem`, `store` and
//! `types.Marker`), the ingest preprocessing of `POST /api/v2/alerts`, and silences (`silence`).
//!
//! In the flow (DESIGN.md §1) the API writes here, the dispatcher and the inhibitor subscribe to the alert store,
//! the silencer asks [`silences::Silences::mutes`], and gossip/durable storage plug into the silences' change hook
//! (and the notification log's, [`nflog`]).

pub mod alerts;
pub mod ingest;
pub mod marker;
pub mod nflog;
pub mod silences;
pub mod storage;

pub use alerts::{AlertCounts, AlertStore, AlertSubscription, PutOutcome};
pub use ingest::{prepare, IncomingAlert};
pub use marker::{AlertState, Marker};

pub use silences::{
    ChangeOrigin, MatcherSpec, MatchingSilences, MeshSilence, PostableSilence, QueryMetrics, SilenceChange,
    SilenceCounts, SilenceError, SilenceLimits, SilenceView, Silences, SilencesOptions,
};
