//! The API v2 definitions of `api/v2/openapi.yaml` (go-swagger's `api/v2/models`), field names exact.
//!
//! Field order follows what Alertmanager renders (go-swagger emits `allOf` parts in order, each part's fields
//! sorted), so byte-level diffs against upstream stay small. Timestamps are rendered by [`Millis`] as go-openapi's
//! `strfmt.DateTime` does: milliseconds, the client's offset kept.
//!
//! Response types are serialise-only and borrow from the store where the list can be large (alerts), so a
//! `GET /api/v2/alerts` of 100k alerts copies no label set. Postable bodies are decoded by hand in
//! [`crate::decode`], because upstream's error texts depend on the JSON shape in ways serde cannot express.

use serde::{Serialize, Serializer};
use tocsin_model::alert::AnnotationsRef;
use tocsin_model::time::{format_millis, Timestamp};
use tocsin_model::LabelSet;

/// A timestamp rendered as `2006-01-02T15:04:05.000Z07:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub Timestamp);

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_millis(&self.0))
    }
}

impl From<chrono::DateTime<chrono::Utc>> for Millis {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        Millis(t.fixed_offset())
    }
}

/// `receiver`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receiver {
    pub name: String,
}

/// `alertStatus`. `mutedBy` is 0.28's; the spec requires it, so it is always rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertStatus<'a> {
    #[serde(rename = "inhibitedBy")]
    pub inhibited_by: &'a [String],
    #[serde(rename = "mutedBy")]
    pub muted_by: &'a [String],
    #[serde(rename = "silencedBy")]
    pub silenced_by: &'a [String],
    pub state: &'static str,
}

/// `gettableAlert`. `generatorURL` is omitted when empty, as measured on 0.25 (go-swagger `omitempty`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GettableAlert<'a> {
    pub annotations: AnnotationsRef<'a>,
    #[serde(rename = "endsAt")]
    pub ends_at: Millis,
    pub fingerprint: String,
    pub receivers: Vec<Receiver>,
    #[serde(rename = "startsAt")]
    pub starts_at: Millis,
    pub status: AlertStatus<'a>,
    #[serde(rename = "updatedAt")]
    pub updated_at: Millis,
    #[serde(rename = "generatorURL", skip_serializing_if = "str::is_empty")]
    pub generator_url: &'a str,
    pub labels: &'a LabelSet,
}

/// `alertGroup` (served by `/api/v2/alerts/groups` once the dispatcher exists, issue 3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertGroup<'a> {
    pub alerts: Vec<GettableAlert<'a>>,
    pub labels: LabelSet,
    pub receiver: Receiver,
}

/// `matcher`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matcher {
    #[serde(rename = "isEqual")]
    pub is_equal: bool,
    #[serde(rename = "isRegex")]
    pub is_regex: bool,
    pub name: String,
    pub value: String,
}

impl From<&tocsin_model::Matcher> for Matcher {
    fn from(m: &tocsin_model::Matcher) -> Self {
        Matcher {
            is_equal: m.ty.is_equal(),
            is_regex: m.ty.is_regex(),
            name: m.name.clone(),
            value: m.value.clone(),
        }
    }
}

/// `silenceStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SilenceStatus {
    pub state: &'static str,
}

/// `gettableSilence`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GettableSilence {
    pub id: String,
    pub status: SilenceStatus,
    #[serde(rename = "updatedAt")]
    pub updated_at: Millis,
    pub comment: String,
    #[serde(rename = "createdBy")]
    pub created_by: String,
    #[serde(rename = "endsAt")]
    pub ends_at: Millis,
    pub matchers: Vec<Matcher>,
    #[serde(rename = "startsAt")]
    pub starts_at: Millis,
}

impl GettableSilence {
    pub fn new(s: &tocsin_model::Silence, state: tocsin_model::SilenceState) -> Self {
        GettableSilence {
            id: s.id.clone(),
            status: SilenceStatus { state: state.as_str() },
            updated_at: s.updated_at.into(),
            comment: s.comment.clone(),
            created_by: s.created_by.clone(),
            ends_at: s.ends_at.into(),
            matchers: s.matchers.iter().map(Matcher::from).collect(),
            starts_at: s.starts_at.into(),
        }
    }
}

/// The 200 body of `POST /api/v2/silences`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostSilenceResponse {
    #[serde(rename = "silenceID")]
    pub silence_id: String,
}

/// `peerStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerStatus {
    pub address: String,
    pub name: String,
}

/// `clusterStatus`. `name` is absent when clustering is disabled, as upstream renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub peers: Vec<PeerStatus>,
    pub status: ClusterState,
}

/// `clusterStatus.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterState {
    Ready,
    Settling,
    Disabled,
}

/// `alertmanagerConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertmanagerConfig {
    pub original: String,
}

/// `versionInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    pub branch: String,
    #[serde(rename = "buildDate")]
    pub build_date: String,
    #[serde(rename = "buildUser")]
    pub build_user: String,
    #[serde(rename = "goVersion")]
    pub go_version: String,
    pub revision: String,
    pub version: String,
}

/// `alertmanagerStatus`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertmanagerStatus {
    pub cluster: ClusterStatus,
    pub config: AlertmanagerConfig,
    pub uptime: Millis,
    #[serde(rename = "versionInfo")]
    pub version_info: VersionInfo,
}

/// `postableAlert`, decoded and schema-checked (see [`crate::decode`]). `None` = absent or `null`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PostableAlert {
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub generator_url: tocsin_model::alert::SharedStr,
}

/// `matcher` as posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostableMatcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    pub is_equal: bool,
}

/// `postableSilence`, decoded and schema-checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostableSilence {
    pub id: Option<String>,
    pub matchers: Vec<PostableMatcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}
