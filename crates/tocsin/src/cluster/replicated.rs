//! The replicated states as the gossip layer sees them: silences (`sil`), the notification log (`nfl`) and the
//! in-flight sends (`inf`), each a compact postcard encoding of its entries.
//!
//! A delta and a full state have the same shape: a format byte and a list of entries. Merging is the stores' own
//! last-writer-wins merge, so any order or repetition of deliveries converges; every entry that changed the local
//! state is handed back to gossip as its own delta, to be spread on (upstream re-broadcasts the same way).
//! The encoding is tocsin's own: a tocsin cluster cannot exchange state with Alertmanager (memberlist/protobuf).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tocsin_gossip::{MergeError, Replicated};
use tocsin_model::clock::SharedClock;
use tocsin_model::{MatchType, Matcher, Silence};
use tocsin_pipeline::inflight::{InflightLog, InflightRecord};
use tocsin_state::nflog::{Entry, MeshEntry, NotificationLog, Receiver};
use tocsin_state::{MeshSilence, Silences};

/// Gossip key of the silences (upstream's).
pub const SILENCES_KEY: &str = "sil";
/// Gossip key of the notification log (upstream's).
pub const NFLOG_KEY: &str = "nfl";
/// Gossip key of the in-flight sends (tocsin only).
pub const INFLIGHT_KEY: &str = "inf";

/// Version of the encoding; a node refuses (and counts) entries of another version instead of misreading them.
const FORMAT: u8 = 1;

/// A wall-clock instant as seconds and nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Time(i64, u32);

impl From<DateTime<Utc>> for Time {
    fn from(t: DateTime<Utc>) -> Self {
        Self(t.timestamp(), t.timestamp_subsec_nanos())
    }
}

impl TryFrom<Time> for DateTime<Utc> {
    type Error = String;
    fn try_from(t: Time) -> Result<Self, String> {
        DateTime::from_timestamp(t.0, t.1).ok_or_else(|| format!("timestamp out of range: {}.{}", t.0, t.1))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireMatcher {
    ty: MatchType,
    name: String,
    value: String,
}

/// `silencepb.MeshSilence`, flattened.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireSilence {
    id: String,
    matchers: Vec<WireMatcher>,
    starts_at: Time,
    ends_at: Time,
    updated_at: Time,
    created_by: String,
    comment: String,
    expires_at: Time,
}

/// `nflogpb.MeshEntry`, flattened.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireEntry {
    group_key: String,
    receiver: Receiver,
    timestamp: Time,
    firing: Vec<u64>,
    resolved: Vec<u64>,
    expires_at: Time,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireInflight {
    group_key: String,
    receiver: Receiver,
    node: String,
    firing: Vec<u64>,
    resolved: Vec<u64>,
    updated_at: Time,
    expires_at: Time,
    done: bool,
}

fn sorted(set: &std::collections::HashSet<u64>) -> Vec<u64> {
    let mut v: Vec<u64> = set.iter().copied().collect();
    v.sort_unstable();
    v
}

fn silence_to_wire(m: &MeshSilence) -> WireSilence {
    let s = &m.silence;
    WireSilence {
        id: s.id.clone(),
        matchers: s
            .matchers
            .iter()
            .map(|m| WireMatcher { ty: m.ty, name: m.name.clone(), value: m.value.clone() })
            .collect(),
        starts_at: s.starts_at.into(),
        ends_at: s.ends_at.into(),
        updated_at: s.updated_at.into(),
        created_by: s.created_by.clone(),
        comment: s.comment.clone(),
        expires_at: m.expires_at.into(),
    }
}

fn silence_from_wire(w: WireSilence) -> Result<MeshSilence, String> {
    let matchers = w
        .matchers
        .into_iter()
        .map(|m| Matcher::new(m.ty, m.name, m.value).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if w.id.is_empty() || matchers.is_empty() {
        return Err("silence without id or matchers".to_owned());
    }
    Ok(MeshSilence {
        silence: Arc::new(Silence {
            id: w.id,
            matchers,
            starts_at: w.starts_at.try_into()?,
            ends_at: w.ends_at.try_into()?,
            updated_at: w.updated_at.try_into()?,
            created_by: w.created_by,
            comment: w.comment,
        }),
        expires_at: w.expires_at.try_into()?,
    })
}

fn entry_to_wire(m: &MeshEntry) -> WireEntry {
    WireEntry {
        group_key: m.entry.group_key.clone(),
        receiver: m.entry.receiver.clone(),
        timestamp: m.entry.timestamp.into(),
        firing: sorted(&m.entry.firing_alerts),
        resolved: sorted(&m.entry.resolved_alerts),
        expires_at: m.expires_at.into(),
    }
}

fn entry_from_wire(w: WireEntry) -> Result<MeshEntry, String> {
    Ok(MeshEntry {
        entry: Entry {
            group_key: w.group_key,
            receiver: w.receiver,
            timestamp: w.timestamp.try_into()?,
            firing_alerts: w.firing.into_iter().collect(),
            resolved_alerts: w.resolved.into_iter().collect(),
        },
        expires_at: w.expires_at.try_into()?,
    })
}

fn inflight_to_wire(r: &InflightRecord) -> WireInflight {
    WireInflight {
        group_key: r.group_key.clone(),
        receiver: r.receiver.clone(),
        node: r.node.clone(),
        firing: sorted(&r.firing),
        resolved: sorted(&r.resolved),
        updated_at: r.updated_at.into(),
        expires_at: r.expires_at.into(),
        done: r.done,
    }
}

fn inflight_from_wire(w: WireInflight) -> Result<InflightRecord, String> {
    Ok(InflightRecord {
        group_key: w.group_key,
        receiver: w.receiver,
        node: w.node,
        firing: w.firing.into_iter().collect(),
        resolved: w.resolved.into_iter().collect(),
        updated_at: w.updated_at.try_into()?,
        expires_at: w.expires_at.try_into()?,
        done: w.done,
    })
}

/// Encodes a list of wire entries with the format byte.
fn encode<T: Serialize>(items: &[T]) -> Vec<u8> {
    // Encoding owned strings and integers into a Vec cannot fail; an empty message is harmless if it ever did.
    postcard::to_allocvec(&(FORMAT, items)).unwrap_or_default()
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<Vec<T>, MergeError> {
    let (format, items): (u8, Vec<T>) = postcard::from_bytes(bytes).map_err(MergeError::new)?;
    if format != FORMAT {
        return Err(MergeError(format!("unknown state format {format}")));
    }
    Ok(items)
}

/// The delta a local silence change broadcasts.
pub fn silence_delta(m: &MeshSilence) -> Vec<u8> {
    encode(&[silence_to_wire(m)])
}

/// The delta a local nflog change broadcasts.
pub fn nflog_delta(m: &MeshEntry) -> Vec<u8> {
    encode(&[entry_to_wire(m)])
}

/// The delta a local in-flight change broadcasts.
pub fn inflight_delta(r: &InflightRecord) -> Vec<u8> {
    encode(&[inflight_to_wire(r)])
}

/// Merges decoded entries one by one; entries that do not convert are skipped (and reported if nothing merged).
fn merge_all<W: Serialize + DeserializeOwned>(
    bytes: &[u8],
    mut merge_one: impl FnMut(W) -> Result<Option<W>, String>,
) -> Result<Vec<Vec<u8>>, MergeError> {
    let mut changed = Vec::new();
    let mut first_error = None;
    for item in decode::<W>(bytes)? {
        match merge_one(item) {
            Ok(Some(w)) => changed.push(encode(&[w])),
            Ok(None) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if changed.is_empty() => Err(MergeError(e)),
        _ => Ok(changed),
    }
}

/// Silences as a [`Replicated`] state.
#[derive(Debug)]
pub struct SilencesState(pub Arc<Silences>);

impl Replicated for SilencesState {
    fn key(&self) -> &'static str {
        SILENCES_KEY
    }

    fn full_state(&self) -> Vec<u8> {
        let items: Vec<WireSilence> = self.0.full_state().iter().map(silence_to_wire).collect();
        encode(&items)
    }

    fn merge(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, MergeError> {
        merge_all(bytes, |w: WireSilence| {
            let mesh = silence_from_wire(w)?;
            Ok(self.0.merge(mesh.clone()).then(|| silence_to_wire(&mesh)))
        })
    }
}

/// The notification log as a [`Replicated`] state.
#[derive(Debug)]
pub struct NflogState {
    pub nflog: Arc<NotificationLog>,
    pub clock: SharedClock,
}

impl Replicated for NflogState {
    fn key(&self) -> &'static str {
        NFLOG_KEY
    }

    fn full_state(&self) -> Vec<u8> {
        let items: Vec<WireEntry> = self.nflog.full_state().iter().map(entry_to_wire).collect();
        encode(&items)
    }

    fn merge(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, MergeError> {
        let now = self.clock.now();
        merge_all(bytes, |w: WireEntry| {
            let mesh = entry_from_wire(w)?;
            Ok(self.nflog.merge(mesh.clone(), now).then(|| entry_to_wire(&mesh)))
        })
    }
}

/// The in-flight sends as a [`Replicated`] state.
#[derive(Debug)]
pub struct InflightState(pub Arc<InflightLog>);

impl Replicated for InflightState {
    fn key(&self) -> &'static str {
        INFLIGHT_KEY
    }

    fn full_state(&self) -> Vec<u8> {
        let items: Vec<WireInflight> = self.0.full_state().iter().map(inflight_to_wire).collect();
        encode(&items)
    }

    fn merge(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, MergeError> {
        merge_all(bytes, |w: WireInflight| {
            let rec = inflight_from_wire(w)?;
            Ok(self.0.merge(rec.clone()).then(|| inflight_to_wire(&rec)))
        })
    }
}
