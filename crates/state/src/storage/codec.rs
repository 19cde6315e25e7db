//! Record payloads: Alertmanager's own protobuf messages `silencepb.MeshSilence` and `nflogpb.MeshEntry`
//! (reference §5.3). tocsin's log and snapshot records use exactly these bytes, so one codec serves our files and
//! the import of Alertmanager's `silences`/`nflog` snapshots, and a record is what a peer would gossip.
//!
//! Schemas (field numbers as upstream):
//! `Matcher{type=1 (EQUAL=0, REGEXP=1, NOT_EQUAL=2, NOT_REGEXP=3), name=2, pattern=3}`,
//! `Comment{author=1, comment=2, timestamp=3}` (legacy),
//! `Silence{id=1, matchers=2, starts_at=3, ends_at=4, updated_at=5, comments=7, created_by=8, comment=9}`,
//! `MeshSilence{silence=1, expires_at=2}`;
//! `Receiver{group_name=1, integration=2, idx=3}`,
//! `Entry{group_key=1 (bytes), receiver=2, group_hash=3, resolved=4, timestamp=5, firing_alerts=6,
//! resolved_alerts=7}` (3 and 4 unused), `MeshEntry{entry=1, expires_at=2}`.

use super::proto::{
    decode_timestamp, expect_bytes, expect_string, expect_varint, ProtoError, Reader, Value, Writer,
};
use crate::nflog::{Entry, MeshEntry, Receiver};
use crate::silences::MeshSilence;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tocsin_model::{MatchType, Matcher, Silence};

/// Why a record could not be decoded: bad wire data, or a silence that is well-formed but unusable (a regex the
/// matcher engine rejects), which an import may skip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    Wire(ProtoError),
    InvalidSilence { offset: u64, reason: String },
}

impl From<ProtoError> for DecodeError {
    fn from(e: ProtoError) -> Self {
        DecodeError::Wire(e)
    }
}

impl DecodeError {
    pub(crate) fn offset(&self) -> u64 {
        match self {
            DecodeError::Wire(e) => e.offset,
            DecodeError::InvalidSilence { offset, .. } => *offset,
        }
    }

    pub(crate) fn reason(&self) -> &str {
        match self {
            DecodeError::Wire(e) => &e.reason,
            DecodeError::InvalidSilence { reason, .. } => reason,
        }
    }
}

fn proto_type(ty: MatchType) -> u64 {
    match ty {
        MatchType::Equal => 0,
        MatchType::Regexp => 1,
        MatchType::NotEqual => 2,
        MatchType::NotRegexp => 3,
    }
}

pub(crate) fn encode_silence(m: &MeshSilence) -> Vec<u8> {
    let s = &m.silence;
    let mut w = Writer::default();
    w.message(1, |w| {
        w.string(1, &s.id);
        for mt in &s.matchers {
            w.message(2, |w| {
                w.uint(1, proto_type(mt.ty));
                w.string(2, &mt.name);
                w.string(3, &mt.value);
            });
        }
        w.timestamp(3, &s.starts_at);
        w.timestamp(4, &s.ends_at);
        w.timestamp(5, &s.updated_at);
        w.string(8, &s.created_by);
        w.string(9, &s.comment);
    });
    w.timestamp(2, &m.expires_at);
    w.buf
}

/// Regex matchers already compiled while loading one file, keyed by their encoded `Matcher` bytes (type, name and
/// pattern). Compiling a regex costs tens of microseconds, most of a silences snapshot's load time, and silences
/// often share patterns (`instance=~"db-.*"`), so each distinct pattern is compiled once per start-up.
#[derive(Debug, Default)]
pub(crate) struct DecodeCache {
    regexes: HashMap<Vec<u8>, Matcher>,
}

fn decode_matcher(buf: &[u8], base: u64, cache: &mut DecodeCache) -> Result<Matcher, DecodeError> {
    if let Some(m) = cache.regexes.get(buf) {
        return Ok(m.clone());
    }
    let mut r = Reader::new(buf, base);
    let (mut ty, mut name, mut pattern) = (MatchType::Equal, String::new(), String::new());
    while let Some((n, v, at)) = r.field()? {
        match n {
            1 => {
                ty = match expect_varint(v, "Matcher.type", at)? {
                    0 => MatchType::Equal,
                    1 => MatchType::Regexp,
                    2 => MatchType::NotEqual,
                    3 => MatchType::NotRegexp,
                    other => {
                        return Err(ProtoError {
                            offset: at,
                            reason: format!("unknown matcher type {other}"),
                        }
                        .into())
                    }
                }
            }
            2 => name = expect_string(v, "Matcher.name", at)?,
            3 => pattern = expect_string(v, "Matcher.pattern", at)?,
            _ => {}
        }
    }
    let m = Matcher::new(ty, name, pattern)
        .map_err(|e| DecodeError::InvalidSilence { offset: base, reason: e.to_string() })?;
    if ty.is_regex() {
        cache.regexes.insert(buf.to_vec(), m.clone());
    }
    Ok(m)
}

/// The first legacy `Comment{author, comment}`: upstream moves it into `created_by`/`comment` on load.
fn decode_comment(buf: &[u8], base: u64) -> Result<(String, String), ProtoError> {
    let mut r = Reader::new(buf, base);
    let (mut author, mut comment) = (String::new(), String::new());
    while let Some((n, v, at)) = r.field()? {
        match n {
            1 => author = expect_string(v, "Comment.author", at)?,
            2 => comment = expect_string(v, "Comment.comment", at)?,
            _ => {}
        }
    }
    Ok((author, comment))
}

fn decode_silence_body(buf: &[u8], base: u64, cache: &mut DecodeCache) -> Result<Silence, DecodeError> {
    let mut r = Reader::new(buf, base);
    let epoch = chrono::DateTime::UNIX_EPOCH;
    let mut s = Silence {
        id: String::new(),
        matchers: Vec::new(),
        starts_at: epoch,
        ends_at: epoch,
        updated_at: epoch,
        created_by: String::new(),
        comment: String::new(),
    };
    let mut legacy: Option<(String, String)> = None;
    while let Some((n, v, at)) = r.field()? {
        match n {
            1 => s.id = expect_string(v, "Silence.id", at)?,
            2 => s.matchers.push(decode_matcher(expect_bytes(v, "Silence.matchers", at)?, at, cache)?),
            3 => s.starts_at = decode_timestamp(expect_bytes(v, "Silence.starts_at", at)?, at)?,
            4 => s.ends_at = decode_timestamp(expect_bytes(v, "Silence.ends_at", at)?, at)?,
            5 => s.updated_at = decode_timestamp(expect_bytes(v, "Silence.updated_at", at)?, at)?,
            7 => {
                let c = decode_comment(expect_bytes(v, "Silence.comments", at)?, at)?;
                legacy.get_or_insert(c);
            }
            8 => s.created_by = expect_string(v, "Silence.created_by", at)?,
            9 => s.comment = expect_string(v, "Silence.comment", at)?,
            _ => {}
        }
    }
    if let Some((author, comment)) = legacy {
        s.created_by = author;
        s.comment = comment;
    }
    if s.id.is_empty() {
        return Err(DecodeError::InvalidSilence { offset: base, reason: "silence without id".to_owned() });
    }
    Ok(s)
}

/// Decodes one `MeshSilence` that starts at absolute offset `base`.
#[cfg(test)]
pub(crate) fn decode_silence(buf: &[u8], base: u64) -> Result<MeshSilence, DecodeError> {
    decode_silence_cached(buf, base, &mut DecodeCache::default())
}

/// [`decode_silence`] reusing the regexes `cache` already compiled.
pub(crate) fn decode_silence_cached(
    buf: &[u8],
    base: u64,
    cache: &mut DecodeCache,
) -> Result<MeshSilence, DecodeError> {
    let mut r = Reader::new(buf, base);
    let (mut silence, mut expires_at) = (None, chrono::DateTime::UNIX_EPOCH);
    while let Some((n, v, at)) = r.field()? {
        match n {
            1 => silence = Some(decode_silence_body(expect_bytes(v, "MeshSilence.silence", at)?, at, cache)?),
            2 => expires_at = decode_timestamp(expect_bytes(v, "MeshSilence.expires_at", at)?, at)?,
            _ => {}
        }
    }
    let silence =
        silence.ok_or_else(|| ProtoError { offset: base, reason: "MeshSilence without silence".into() })?;
    Ok(MeshSilence { silence: Arc::new(silence), expires_at })
}

fn sorted(set: &HashSet<u64>) -> Vec<u64> {
    let mut v: Vec<u64> = set.iter().copied().collect();
    v.sort_unstable();
    v
}

pub(crate) fn encode_entry(m: &MeshEntry) -> Vec<u8> {
    let e = &m.entry;
    let mut w = Writer::default();
    w.message(1, |w| {
        w.string(1, &e.group_key);
        w.message(2, |w| {
            w.string(1, &e.receiver.group_name);
            w.string(2, &e.receiver.integration);
            w.uint(3, u64::from(e.receiver.idx));
        });
        w.timestamp(5, &e.timestamp);
        for (field, set) in [(6, &e.firing_alerts), (7, &e.resolved_alerts)] {
            if !set.is_empty() {
                // Packed, as proto3 does by default.
                let mut packed = Writer::default();
                for v in sorted(set) {
                    packed.varint(v);
                }
                w.bytes(field, &packed.buf);
            }
        }
    });
    w.timestamp(2, &m.expires_at);
    w.buf
}

/// A repeated uint64, packed or not.
fn push_u64s(out: &mut HashSet<u64>, v: Value<'_>, field: &str, at: u64) -> Result<(), ProtoError> {
    match v {
        Value::Varint(n) => {
            out.insert(n);
        }
        Value::Bytes(b) => {
            // One varint ends at each byte below 0x80: size the set once instead of growing (and rehashing) it.
            out.reserve(b.iter().filter(|&&x| x < 0x80).count());
            let mut r = Reader::new(b, at);
            while !r.is_empty() {
                out.insert(r.varint()?);
            }
        }
        _ => return Err(ProtoError { offset: at, reason: format!("field {field}: expected uint64") }),
    }
    Ok(())
}

fn decode_receiver(buf: &[u8], base: u64) -> Result<Receiver, ProtoError> {
    let mut r = Reader::new(buf, base);
    let mut recv = Receiver { group_name: String::new(), integration: String::new(), idx: 0 };
    while let Some((n, v, at)) = r.field()? {
        match n {
            1 => recv.group_name = expect_string(v, "Receiver.group_name", at)?,
            2 => recv.integration = expect_string(v, "Receiver.integration", at)?,
            3 => recv.idx = expect_varint(v, "Receiver.idx", at)? as u32,
            _ => {}
        }
    }
    Ok(recv)
}

fn decode_entry_body(buf: &[u8], base: u64) -> Result<Entry, ProtoError> {
    let mut r = Reader::new(buf, base);
    let mut e = Entry {
        group_key: String::new(),
        receiver: Receiver { group_name: String::new(), integration: String::new(), idx: 0 },
        timestamp: chrono::DateTime::UNIX_EPOCH,
        firing_alerts: HashSet::new(),
        resolved_alerts: HashSet::new(),
    };
    while let Some((n, v, at)) = r.field()? {
        match n {
            1 => e.group_key = String::from_utf8_lossy(expect_bytes(v, "Entry.group_key", at)?).into_owned(),
            2 => e.receiver = decode_receiver(expect_bytes(v, "Entry.receiver", at)?, at)?,
            5 => e.timestamp = decode_timestamp(expect_bytes(v, "Entry.timestamp", at)?, at)?,
            6 => push_u64s(&mut e.firing_alerts, v, "Entry.firing_alerts", at)?,
            7 => push_u64s(&mut e.resolved_alerts, v, "Entry.resolved_alerts", at)?,
            _ => {}
        }
    }
    Ok(e)
}

/// Decodes one `MeshEntry` that starts at absolute offset `base` (entries have no regexes to cache).
#[cfg(test)]
pub(crate) fn decode_entry(buf: &[u8], base: u64) -> Result<MeshEntry, DecodeError> {
    decode_entry_cached(buf, base, &mut DecodeCache::default())
}

/// [`decode_entry`] with the signature every record decoder shares.
pub(crate) fn decode_entry_cached(
    buf: &[u8],
    base: u64,
    _: &mut DecodeCache,
) -> Result<MeshEntry, DecodeError> {
    let mut r = Reader::new(buf, base);
    let (mut entry, mut expires_at) = (None, chrono::DateTime::UNIX_EPOCH);
    while let Some((n, v, at)) = r.field()? {
        match n {
            1 => entry = Some(decode_entry_body(expect_bytes(v, "MeshEntry.entry", at)?, at)?),
            2 => expires_at = decode_timestamp(expect_bytes(v, "MeshEntry.expires_at", at)?, at)?,
            _ => {}
        }
    }
    let entry = entry.ok_or_else(|| ProtoError { offset: base, reason: "MeshEntry without entry".into() })?;
    Ok(MeshEntry { entry, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn t(s: i64, ns: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(s, ns).unwrap()
    }

    #[test]
    fn silence_round_trip_and_size_matches_upstream() {
        let m = MeshSilence {
            silence: Arc::new(Silence {
                id: "id-1".into(),
                matchers: vec![
                    Matcher::new(MatchType::Equal, "a", "b").unwrap(),
                    Matcher::new(MatchType::NotRegexp, "job", "api|web").unwrap(),
                    Matcher::new(MatchType::NotEqual, "x", "").unwrap(),
                    Matcher::new(MatchType::Regexp, "y", ".+").unwrap(),
                ],
                starts_at: t(1_700_000_000, 5),
                ends_at: t(1_700_003_600, 0),
                updated_at: t(1_700_000_000, 5),
                created_by: "me".into(),
                comment: "ünïcode".into(),
            }),
            expires_at: t(1_700_435_600, 0),
        };
        let buf = encode_silence(&m);
        assert_eq!(buf.len(), crate::silences::mesh_silence_size(&m));
        assert_eq!(decode_silence(&buf, 0).unwrap(), m);
    }

    #[test]
    fn legacy_comments_are_upgraded() {
        let mut w = Writer::default();
        w.message(1, |w| {
            w.string(1, "legacy");
            w.message(2, |w| {
                w.string(2, "a");
                w.string(3, "b");
            });
            w.message(7, |w| {
                w.string(1, "bob");
                w.string(2, "old comment");
            });
        });
        let m = decode_silence(&w.buf, 0).unwrap();
        assert_eq!((m.silence.created_by.as_str(), m.silence.comment.as_str()), ("bob", "old comment"));
    }

    #[test]
    fn shared_regexes_are_compiled_once() {
        let silence = |id: &str, pattern: &str| MeshSilence {
            silence: Arc::new(Silence {
                id: id.into(),
                matchers: vec![
                    Matcher::new(MatchType::Equal, "a", id).unwrap(),
                    Matcher::new(MatchType::Regexp, "instance", pattern).unwrap(),
                ],
                starts_at: t(1, 0),
                ends_at: t(2, 0),
                updated_at: t(1, 0),
                created_by: "me".into(),
                comment: "c".into(),
            }),
            expires_at: t(3, 0),
        };
        let mut cache = DecodeCache::default();
        for (id, pattern) in [("s1", "db-.*"), ("s2", "db-.*"), ("s3", "web-.+")] {
            let m = silence(id, pattern);
            let got = decode_silence_cached(&encode_silence(&m), 0, &mut cache).unwrap();
            assert_eq!(got, m, "{id}");
            assert!(got.silence.matchers[1].matches("db-1") == (pattern == "db-.*"), "{id}");
        }
        assert_eq!(
            cache.regexes.len(),
            2,
            "one entry per distinct regex matcher, none for equality matchers"
        );
    }

    #[test]
    fn bad_regex_is_an_invalid_silence() {
        let mut w = Writer::default();
        w.message(1, |w| {
            w.string(1, "x");
            w.message(2, |w| {
                w.uint(1, 1);
                w.string(2, "a");
                w.string(3, "(");
            });
        });
        assert!(matches!(decode_silence(&w.buf, 0), Err(DecodeError::InvalidSilence { .. })));
    }

    #[test]
    fn entry_round_trip_and_unpacked_input() {
        let m = MeshEntry {
            entry: Entry {
                group_key: "{}:{alertname=\"A\"}".into(),
                receiver: Receiver { group_name: "r".into(), integration: "webhook".into(), idx: 2 },
                timestamp: t(1_700_000_000, 42),
                firing_alerts: [1u64, u64::MAX, 77].into_iter().collect(),
                resolved_alerts: [5u64].into_iter().collect(),
            },
            expires_at: t(1_700_007_200, 42),
        };
        let buf = encode_entry(&m);
        assert_eq!(decode_entry(&buf, 0).unwrap(), m);

        let mut w = Writer::default();
        w.message(1, |w| {
            w.uint(6, 9);
            w.uint(6, 10);
        });
        let e = decode_entry(&w.buf, 0).unwrap();
        assert_eq!(e.entry.firing_alerts, [9u64, 10].into_iter().collect());
    }
}
