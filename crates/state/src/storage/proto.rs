//! The few pieces of the protobuf wire format that Alertmanager's `silencepb`/`nflogpb` messages use: varints,
//! length-delimited fields (strings, bytes, nested messages, packed repeated scalars) and
//! `google.protobuf.Timestamp{seconds = 1, nanos = 2}`. Hand-written so that no code generator or schema compiler
//! is needed; unknown fields are skipped as protobuf requires, so newer upstream fields do not break an import.

use chrono::{DateTime, Utc};

/// Why bytes are not a valid message; `offset` is absolute within the file being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProtoError {
    pub(crate) offset: u64,
    pub(crate) reason: String,
}

/// A field's value as found on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// Iterates over the fields of one message.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Absolute offset of `buf[0]` in the file, for error messages.
    base: u64,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], base: u64) -> Self {
        Self { buf, pos: 0, base }
    }

    /// The absolute offset of the next unread byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub(crate) fn err(&self, reason: impl Into<String>) -> ProtoError {
        ProtoError { offset: self.offset(), reason: reason.into() }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(crate) fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("truncated varint"));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(self.err("varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7F) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.err("varint overflows 64 bits"))
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ProtoError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            return Err(self.err(format!("{what} of {n} bytes runs past the end of the message")));
        };
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// A length-prefixed byte string (also how varint-delimited files frame each message).
    pub(crate) fn delimited(&mut self) -> Result<&'a [u8], ProtoError> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| self.err("length does not fit in memory"))?;
        self.take(n, "length-delimited field")
    }

    /// The next field number, its value and the absolute offset of that value; `None` at the end.
    pub(crate) fn field(&mut self) -> Result<Option<(u32, Value<'a>, u64)>, ProtoError> {
        if self.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| self.err("field number out of range"))?;
        if number == 0 {
            return Err(self.err("field number 0"));
        }
        let at = self.offset();
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                let b = self.take(8, "fixed64")?;
                Value::Fixed64(u64::from_le_bytes(b.try_into().map_err(|_| self.err("fixed64"))?))
            }
            2 => {
                let b = self.delimited()?;
                // The payload starts after the length prefix.
                return Ok(Some((number, Value::Bytes(b), self.offset() - b.len() as u64)));
            }
            5 => {
                let b = self.take(4, "fixed32")?;
                Value::Fixed32(u32::from_le_bytes(b.try_into().map_err(|_| self.err("fixed32"))?))
            }
            w => return Err(self.err(format!("unsupported wire type {w} for field {number}"))),
        };
        Ok(Some((number, value, at)))
    }
}

/// Field value accessors with the error a schema mismatch deserves.
pub(crate) fn expect_bytes<'a>(v: Value<'a>, field: &str, at: u64) -> Result<&'a [u8], ProtoError> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => {
            Err(ProtoError { offset: at, reason: format!("field {field}: expected length-delimited value") })
        }
    }
}

pub(crate) fn expect_varint(v: Value<'_>, field: &str, at: u64) -> Result<u64, ProtoError> {
    match v {
        Value::Varint(n) => Ok(n),
        _ => Err(ProtoError { offset: at, reason: format!("field {field}: expected varint") }),
    }
}

pub(crate) fn expect_string(v: Value<'_>, field: &str, at: u64) -> Result<String, ProtoError> {
    let b = expect_bytes(v, field, at)?;
    String::from_utf8(b.to_vec())
        .map_err(|_| ProtoError { offset: at, reason: format!("field {field}: invalid UTF-8") })
}

/// `google.protobuf.Timestamp`; an empty message is the Unix epoch, as in protobuf.
pub(crate) fn decode_timestamp(buf: &[u8], base: u64) -> Result<DateTime<Utc>, ProtoError> {
    let mut r = Reader::new(buf, base);
    let (mut secs, mut nanos) = (0i64, 0i64);
    while let Some((n, v, at)) = r.field()? {
        match n {
            1 => secs = expect_varint(v, "Timestamp.seconds", at)? as i64,
            2 => nanos = i64::from(expect_varint(v, "Timestamp.nanos", at)? as i32),
            _ => {}
        }
    }
    u32::try_from(nanos).ok().and_then(|nanos| DateTime::from_timestamp(secs, nanos)).ok_or_else(|| {
        ProtoError { offset: base, reason: format!("timestamp out of range: {secs}s {nanos}ns") }
    })
}

/// Appends protobuf fields to a buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u64) {
        self.varint((u64::from(field) << 3) | wire);
    }

    /// A varint field; zero is omitted as proto3 does.
    pub(crate) fn uint(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, 0);
            self.varint(v);
        }
    }

    /// A length-delimited field, always written (used for non-nullable sub-messages).
    pub(crate) fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    /// A string field; empty is omitted as proto3 does.
    pub(crate) fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    /// A sub-message built by `f`.
    pub(crate) fn message(&mut self, field: u32, f: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::default();
        f(&mut inner);
        self.bytes(field, &inner.buf);
    }

    pub(crate) fn timestamp(&mut self, field: u32, t: &DateTime<Utc>) {
        self.message(field, |w| {
            w.uint(1, t.timestamp() as u64);
            w.uint(2, u64::from(t.timestamp_subsec_nanos()));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip() {
        for v in [0u64, 1, 127, 128, 300, 16_384, u64::MAX, (-62_135_596_800i64) as u64] {
            let mut w = Writer::default();
            w.varint(v);
            let mut r = Reader::new(&w.buf, 0);
            assert_eq!(r.varint(), Ok(v));
            assert!(r.is_empty());
        }
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let cases: &[&[u8]] =
            &[&[0x80], &[0xFF; 11], &[0x0A, 0x05, 1, 2], &[0x0B], &[0x00, 0x01], &[0x09, 1]];
        for buf in cases {
            let mut r = Reader::new(buf, 100);
            let res = (|| {
                while r.field()?.is_some() {}
                Ok::<_, ProtoError>(())
            })();
            let err = res.expect_err("malformed");
            assert!(err.offset >= 100, "{err:?}");
        }
    }

    #[test]
    fn timestamps() {
        let t = DateTime::from_timestamp(1_700_000_000, 123).unwrap();
        let mut w = Writer::default();
        w.timestamp(3, &t);
        let mut r = Reader::new(&w.buf, 0);
        let (n, v, at) = r.field().unwrap().unwrap();
        assert_eq!(n, 3);
        assert_eq!(decode_timestamp(expect_bytes(v, "t", at).unwrap(), at), Ok(t));
        let zero = tocsin_model::silence::go_zero_time();
        let mut w = Writer::default();
        w.timestamp(1, &zero);
        let mut r = Reader::new(&w.buf, 0);
        let (_, v, at) = r.field().unwrap().unwrap();
        assert_eq!(decode_timestamp(expect_bytes(v, "t", at).unwrap(), at), Ok(zero));
    }
}
