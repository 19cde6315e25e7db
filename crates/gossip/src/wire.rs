//! The envelope around every datagram and TCP frame: version byte, postcard body, optional HMAC-SHA256.
//!
//! ```text
//! datagram = VERSION | postcard(Envelope) | [hmac-sha256(VERSION | postcard(Envelope))]
//! frame    = u32 big-endian length | datagram
//! ```
//! The envelope carries the cluster label, the sender's name and a per-channel sequence number, so packets from
//! another cluster, forged packets and replays are rejected (and counted) before anything is merged.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
};

use ring::hmac;
use serde::{Deserialize, Serialize};

use crate::config::Key;

/// Wire format version; bumped on incompatible changes. 2: deltas carry their origin and sequence number,
/// digests repair loss, push-pull carries what the sender knows.
pub(crate) const VERSION: u8 = 2;
/// Length of the HMAC-SHA256 tag appended when a key is configured.
const TAG_LEN: usize = 32;
/// Sequence numbers within this distance of the highest seen are accepted once, out of order.
const REPLAY_WINDOW: u64 = 128;
/// Bound on the number of senders tracked by the replay guard.
const MAX_TRACKED_SENDERS: usize = 4096;

/// One state's bytes, keyed by [`crate::Replicated::key`] (upstream `clusterpb.Part`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Part {
    pub(crate) key: String,
    pub(crate) data: Vec<u8>,
}

/// A delta as disseminated: the origin's incarnation id and its per-origin sequence number identify it, so a
/// node merges and stores each delta once however many copies reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Delta {
    pub(crate) origin: u64,
    pub(crate) seq: u64,
    pub(crate) part: Part,
}

/// What a node knows of one origin's deltas: every sequence number up to `contiguous`, plus those in `above`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Known {
    pub(crate) origin: u64,
    pub(crate) contiguous: u64,
    pub(crate) above: Vec<u64>,
}

/// What a datagram or frame carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Body {
    /// A foca (SWIM) packet.
    Swim(Vec<u8>),
    /// Deltas of replicated states (upstream "update" messages).
    Deltas(Vec<Delta>),
    /// What the sender knows of recently active origins; the receiver pushes the deltas the sender lacks and,
    /// if `reply`, answers with its own knowledge of the origins where the sender knows more.
    Digest { known: Vec<Known>, reply: bool },
    /// Full states (upstream "full_state"); `reply` asks the receiver to answer with its own. `known` is what
    /// the sender knew before taking its state, so the receiver can count those deltas as seen after merging.
    PushPull { parts: Vec<Part>, reply: bool, known: Vec<Known> },
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    label: String,
    sender: String,
    seq: u64,
    body: Body,
}

/// Which sequence space a message belongs to: datagrams and frames are numbered independently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Channel {
    Datagram,
    Stream,
}

/// Why an incoming message was dropped; the `reason` label of `tocsin_cluster_dropped_messages_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Empty, truncated or undecodable.
    Malformed,
    /// Unknown wire version.
    Version,
    /// Sent with another `--cluster.label`.
    Label,
    /// Missing or wrong HMAC.
    Auth,
    /// Sequence number already seen or too old.
    Replay,
    /// Larger than the configured limit.
    Oversized,
    /// A delta for a state key this node does not have, or one its state refused to merge.
    Merge,
}

impl DropReason {
    /// The metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Version => "version",
            Self::Label => "label",
            Self::Auth => "auth",
            Self::Replay => "replay",
            Self::Oversized => "oversized",
            Self::Merge => "merge",
        }
    }

    /// All reasons, to pre-initialise the metric.
    pub const ALL: [DropReason; 7] =
        [Self::Malformed, Self::Version, Self::Label, Self::Auth, Self::Replay, Self::Oversized, Self::Merge];
}

/// A decoded, authenticated, fresh message.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) sender: String,
    pub(crate) body: Body,
}

/// Encodes and checks envelopes for one node.
#[derive(Debug)]
pub(crate) struct Wire {
    label: String,
    name: String,
    key: Option<hmac::Key>,
    datagram_seq: AtomicU64,
    stream_seq: AtomicU64,
    replay: parking_lot::Mutex<HashMap<(String, Channel), Window>>,
}

impl Wire {
    pub(crate) fn new(label: &str, name: &str, key: Option<&Key>) -> Self {
        Self {
            label: label.to_owned(),
            name: name.to_owned(),
            key: key.map(|k| hmac::Key::new(hmac::HMAC_SHA256, k.bytes())),
            datagram_seq: AtomicU64::new(0),
            stream_seq: AtomicU64::new(0),
            replay: parking_lot::Mutex::new(HashMap::new()),
        }
    }

    /// Bytes added around a body, used to size foca's packets so they fit the datagram limit.
    pub(crate) fn overhead(&self) -> usize {
        // version + label + name (varint lengths) + seq + enum tag + body length varint + tag
        1 + self.label.len() + self.name.len() + 2 * 5 + 10 + 1 + 5 + TAG_LEN
    }

    /// Encodes a message for `channel` with the next sequence number.
    pub(crate) fn encode(&self, channel: Channel, body: Body) -> Vec<u8> {
        let counter = match channel {
            Channel::Datagram => &self.datagram_seq,
            Channel::Stream => &self.stream_seq,
        };
        let seq = counter.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        self.encode_with_seq(seq, body)
    }

    fn encode_with_seq(&self, seq: u64, body: Body) -> Vec<u8> {
        let envelope = Envelope { label: self.label.clone(), sender: self.name.clone(), seq, body };
        let mut out = vec![VERSION];
        // Serialising owned strings and byte vectors into a Vec cannot fail.
        match postcard::to_extend(&envelope, out) {
            Ok(v) => out = v,
            Err(_) => out = vec![VERSION],
        }
        if let Some(key) = &self.key {
            let tag = hmac::sign(key, &out);
            out.extend_from_slice(tag.as_ref());
        }
        out
    }

    /// Checks and decodes a message received on `channel`.
    pub(crate) fn decode(&self, channel: Channel, bytes: &[u8]) -> Result<Incoming, DropReason> {
        let Some((&version, _)) = bytes.split_first() else {
            return Err(DropReason::Malformed);
        };
        if version != VERSION {
            return Err(DropReason::Version);
        }
        let signed = match &self.key {
            Some(key) => {
                if bytes.len() < 1 + TAG_LEN {
                    return Err(DropReason::Auth);
                }
                let (signed, tag) = bytes.split_at(bytes.len() - TAG_LEN);
                hmac::verify(key, signed, tag).map_err(|_| DropReason::Auth)?;
                signed
            }
            None => bytes,
        };
        let (envelope, rest) =
            postcard::take_from_bytes::<Envelope>(&signed[1..]).map_err(|_| DropReason::Malformed)?;
        if !rest.is_empty() {
            return Err(DropReason::Malformed);
        }
        if envelope.label != self.label {
            return Err(DropReason::Label);
        }
        if envelope.sender.is_empty() || envelope.sender == self.name {
            return Err(DropReason::Malformed);
        }
        self.check_fresh(&envelope.sender, channel, envelope.seq)?;
        Ok(Incoming { sender: envelope.sender, body: envelope.body })
    }

    fn check_fresh(&self, sender: &str, channel: Channel, seq: u64) -> Result<(), DropReason> {
        let mut windows = self.replay.lock();
        if windows.len() >= MAX_TRACKED_SENDERS && !windows.contains_key(&(sender.to_owned(), channel)) {
            // Names are new at every start, so old senders accumulate: forget them all rather than grow.
            windows.clear();
        }
        windows.entry((sender.to_owned(), channel)).or_default().accept(seq)
    }
}

/// Sliding anti-replay window (as in IPsec): the highest sequence seen and a bitmap of the 128 below it.
#[derive(Debug, Default)]
struct Window {
    highest: u64,
    seen: u128,
}

impl Window {
    fn accept(&mut self, seq: u64) -> Result<(), DropReason> {
        if seq == 0 {
            return Err(DropReason::Replay);
        }
        if seq > self.highest {
            let shift = seq - self.highest;
            self.seen = if shift >= REPLAY_WINDOW { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.highest = seq;
            return Ok(());
        }
        let age = self.highest - seq;
        if age >= REPLAY_WINDOW {
            return Err(DropReason::Replay);
        }
        let bit = 1u128 << age;
        if self.seen & bit != 0 {
            return Err(DropReason::Replay);
        }
        self.seen |= bit;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Body {
        Body::Deltas(vec![Delta { origin: 7, seq: 1, part: Part { key: "sil".into(), data: vec![1, 2, 3] } }])
    }

    #[test]
    fn roundtrip_and_rejections() {
        let key = Key::new(b"secret".to_vec());
        let a = Wire::new("prod", "A", Some(&key));
        let b = Wire::new("prod", "B", Some(&key));
        let packet = a.encode(Channel::Datagram, body());
        let got = b.decode(Channel::Datagram, &packet).expect("valid packet");
        assert_eq!(got.sender, "A");
        assert_eq!(got.body, body());

        struct Case {
            name: &'static str,
            input: Vec<u8>,
            want: DropReason,
        }
        let mut flipped = a.encode(Channel::Datagram, body());
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0xff;
        let other_label = Wire::new("staging", "C", Some(&key)).encode(Channel::Datagram, body());
        let other_key =
            Wire::new("prod", "C", Some(&Key::new(b"other".to_vec()))).encode(Channel::Datagram, body());
        let cases = [
            Case { name: "empty", input: vec![], want: DropReason::Malformed },
            Case { name: "version", input: vec![9, 1, 2], want: DropReason::Version },
            Case { name: "replay", input: packet.clone(), want: DropReason::Replay },
            Case { name: "truncated", input: packet[..packet.len() - 5].to_vec(), want: DropReason::Auth },
            Case { name: "flipped", input: flipped, want: DropReason::Auth },
            Case { name: "label", input: other_label, want: DropReason::Label },
            Case { name: "key", input: other_key, want: DropReason::Auth },
        ];
        for case in cases {
            assert_eq!(b.decode(Channel::Datagram, &case.input).err(), Some(case.want), "{}", case.name);
        }
    }

    #[test]
    fn unauthenticated_garbage_is_malformed() {
        let a = Wire::new("", "A", None);
        let b = Wire::new("", "B", None);
        let packet = a.encode(Channel::Stream, body());
        for cut in 1..packet.len() {
            assert!(b.decode(Channel::Stream, &packet[..cut]).is_err(), "cut {cut}");
        }
        let mut rng_bytes = 0x1234_5678_u64;
        for len in 0..200usize {
            let mut garbage = vec![VERSION];
            for _ in 0..len {
                rng_bytes = rng_bytes.wrapping_mul(6364136223846793005).wrapping_add(1);
                garbage.push((rng_bytes >> 33) as u8);
            }
            let _ = b.decode(Channel::Stream, &garbage);
        }
        assert!(b.decode(Channel::Stream, &packet).is_ok());
    }

    #[test]
    fn window_accepts_out_of_order_once() {
        let mut w = Window::default();
        assert!(w.accept(5).is_ok());
        assert!(w.accept(3).is_ok());
        assert_eq!(w.accept(3), Err(DropReason::Replay));
        assert!(w.accept(200).is_ok());
        assert_eq!(w.accept(5), Err(DropReason::Replay));
        assert!(w.accept(199).is_ok());
        assert_eq!(w.accept(0), Err(DropReason::Replay));
    }
}
