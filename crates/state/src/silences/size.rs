//! The protobuf wire size of a `silencepb.MeshSilence`, which is what upstream's `--silences.max-silence-size-bytes`
//! limit compares against (`msil.Size()`). Computed field by field so the number in the error text matches
//! Alertmanager's for the same silence.

use super::MeshSilence;
use chrono::{DateTime, Utc};
use tocsin_model::MatchType;

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// A length-delimited field with a one-byte tag (all field numbers here are < 16).
fn len_field(payload: usize) -> usize {
    1 + varint_len(payload as u64) + payload
}

fn string_field(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        len_field(s.len())
    }
}

/// `google.protobuf.Timestamp{seconds, nanos}`; zero fields are omitted, negative ones take ten bytes.
fn timestamp_size(t: &DateTime<Utc>) -> usize {
    let (secs, nanos) = (t.timestamp(), i64::from(t.timestamp_subsec_nanos()));
    let mut n = 0;
    if secs != 0 {
        n += 1 + varint_len(secs as u64);
    }
    if nanos != 0 {
        n += 1 + varint_len(nanos as u64);
    }
    n
}

/// `silencepb.Matcher_Type`: EQUAL=0, REGEXP=1, NOT_EQUAL=2, NOT_REGEXP=3.
pub(crate) fn proto_type(ty: MatchType) -> u64 {
    match ty {
        MatchType::Equal => 0,
        MatchType::Regexp => 1,
        MatchType::NotEqual => 2,
        MatchType::NotRegexp => 3,
    }
}

/// `MeshSilence.Size()`: `{silence (1), expires_at (2, non-nullable)}`; timestamps of the silence are non-nullable
/// gogoproto `stdtime` fields, so they are always present even when empty.
pub fn mesh_silence_size(m: &MeshSilence) -> usize {
    let s = &m.silence;
    let mut sil = string_field(&s.id);
    for mt in &s.matchers {
        let ty = proto_type(mt.ty);
        let mut msize = string_field(&mt.name) + string_field(&mt.value);
        if ty != 0 {
            msize += 1 + varint_len(ty);
        }
        sil += len_field(msize);
    }
    sil += len_field(timestamp_size(&s.starts_at));
    sil += len_field(timestamp_size(&s.ends_at));
    sil += len_field(timestamp_size(&s.updated_at));
    sil += string_field(&s.created_by);
    sil += string_field(&s.comment);
    len_field(sil) + len_field(timestamp_size(&m.expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        let cases = [(0u64, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (u64::MAX, 10)];
        for (v, want) in cases {
            assert_eq!(varint_len(v), want, "{v}");
        }
    }

    #[test]
    fn timestamps() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(timestamp_size(&t), 1 + 5);
        let t = DateTime::from_timestamp(1_700_000_000, 5).unwrap();
        assert_eq!(timestamp_size(&t), 1 + 5 + 1 + 1);
        assert_eq!(timestamp_size(&DateTime::from_timestamp(0, 0).unwrap()), 0);
    }
}
