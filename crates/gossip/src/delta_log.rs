//! Which deltas this node has seen, and the recent ones it can resend: dissemination without re-flooding.
//!
//! Every delta carries its origin's incarnation id and a per-origin sequence number. The origin sends it once,
//! directly, to every member it knows; nobody relays it. Loss is repaired by digests: while an origin is active,
//! each node tells a few random peers per gossip tick what it knows of that origin (the highest contiguous
//! sequence plus any received above a gap); a peer holding deltas the other lacks pushes just those, and a peer
//! lacking some answers with its own knowledge so the other pushes. Each node merges and stores a delta once
//! (dedup by origin and sequence), so traffic per change is one copy per member plus digests. Anything older
//! than the recent log is repaired by the full-state push-pull.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use tokio::time::{Duration, Instant};

use crate::wire::{Delta, Known, Part};

/// Sequence numbers tracked above a gap per origin; beyond this the oldest gap is given up (push-pull repairs).
/// A busy origin (hundreds of changes a second) must not outrun the repair of one lost delta.
const MAX_ABOVE: usize = 512;
/// Sequence numbers above a gap sent per origin in a digest. Leaving some out is safe: the peer then pushes
/// deltas this node already has, which it drops as duplicates.
pub(crate) const DIGEST_ABOVE: usize = 64;
/// Bound on deltas kept for repair.
const MAX_RECENT: usize = 4096;
/// How long deltas are kept for repair.
const RETAIN: Duration = Duration::from_secs(10);
/// Origins not heard of for this long are forgotten (they are other nodes' past incarnations).
const FORGET_ORIGIN: Duration = Duration::from_secs(3600);
/// Bound on origins tracked; the least recently changed are forgotten first.
const MAX_ORIGINS: usize = 4096;

/// Knowledge of one origin.
#[derive(Debug)]
struct Origin {
    contiguous: u64,
    above: BTreeSet<u64>,
    changed: Instant,
}

impl Origin {
    fn new(now: Instant) -> Self {
        Self { contiguous: 0, above: BTreeSet::new(), changed: now }
    }

    fn knows(&self, seq: u64) -> bool {
        seq <= self.contiguous || self.above.contains(&seq)
    }

    /// Marks `seq` seen; false if it already was.
    fn add(&mut self, seq: u64) -> bool {
        if self.knows(seq) {
            return false;
        }
        self.above.insert(seq);
        self.normalize();
        true
    }

    fn normalize(&mut self) {
        loop {
            while self.contiguous.checked_add(1).is_some_and(|next| self.above.first() == Some(&next)) {
                self.above.pop_first();
                self.contiguous += 1;
            }
            if self.above.len() <= MAX_ABOVE {
                return;
            }
            // Give up on the oldest gap: its deltas are long gone from every recent log.
            if let Some(first) = self.above.pop_first() {
                self.contiguous = first;
            }
        }
    }

    fn known(&self, origin: u64) -> Known {
        Known {
            origin,
            contiguous: self.contiguous,
            above: self.above.iter().take(DIGEST_ABOVE).copied().collect(),
        }
    }

    /// Whether `other` holds a sequence number this one lacks. Counts rather than walks the range: a peer's
    /// `contiguous` may be anything.
    fn lacks_any_of(&self, other: &Known) -> bool {
        if other.contiguous > self.contiguous {
            let span = other.contiguous - self.contiguous;
            let have = self.above.range(self.contiguous + 1..=other.contiguous).count() as u64;
            if have < span {
                return true;
            }
        }
        other.above.iter().any(|s| !self.knows(*s))
    }
}

/// Seen deltas per origin and the recent ones, kept to repair peers.
#[derive(Debug)]
pub(crate) struct DeltaLog {
    /// This node's incarnation id (random, so a restart under the same name is a new origin).
    id: u64,
    next_seq: u64,
    origins: HashMap<u64, Origin>,
    recent: BTreeMap<(u64, u64), Part>,
    order: VecDeque<(Instant, u64, u64)>,
}

impl DeltaLog {
    pub(crate) fn new(id: u64) -> Self {
        Self { id, next_seq: 0, origins: HashMap::new(), recent: BTreeMap::new(), order: VecDeque::new() }
    }

    /// Numbers a local change and records it as seen.
    pub(crate) fn local(&mut self, part: Part, now: Instant) -> Delta {
        self.next_seq += 1;
        let delta = Delta { origin: self.id, seq: self.next_seq, part };
        self.record(&delta, now);
        delta
    }

    /// Whether the delta was seen already (merged, or covered by a push-pull).
    pub(crate) fn seen(&self, origin: u64, seq: u64) -> bool {
        self.origins.get(&origin).is_some_and(|o| o.knows(seq))
    }

    /// Records a delta as seen (after merging it) and keeps it for repair; false if it was seen already.
    pub(crate) fn record(&mut self, delta: &Delta, now: Instant) -> bool {
        let origin = self.origins.entry(delta.origin).or_insert_with(|| Origin::new(now));
        if !origin.add(delta.seq) {
            return false;
        }
        origin.changed = now;
        self.recent.insert((delta.origin, delta.seq), delta.part.clone());
        self.order.push_back((now, delta.origin, delta.seq));
        self.prune(now);
        true
    }

    /// Deltas kept for repair.
    pub(crate) fn len(&self) -> usize {
        self.recent.len()
    }

    /// Knowledge of the origins that changed within `window`, to gossip on a tick.
    pub(crate) fn digest(&self, now: Instant, window: Duration) -> Vec<Known> {
        let mut out: Vec<Known> = self
            .origins
            .iter()
            .filter(|(_, o)| now.duration_since(o.changed) <= window)
            .map(|(id, o)| o.known(*id))
            .collect();
        out.sort_by_key(|k| k.origin);
        out
    }

    /// Knowledge of every origin, sent with a full state.
    pub(crate) fn all_known(&self) -> Vec<Known> {
        self.origins.iter().map(|(id, o)| o.known(*id)).collect()
    }

    /// Recent deltas a peer with knowledge `known` lacks (at most `limit`), for the origins it mentioned.
    pub(crate) fn missing_for(&self, known: &[Known], limit: usize) -> Vec<Delta> {
        let mut out = Vec::new();
        for k in known {
            let Some(first) = k.contiguous.checked_add(1) else { continue };
            for ((origin, seq), part) in self.recent.range((k.origin, first)..=(k.origin, u64::MAX)) {
                if out.len() >= limit {
                    return out;
                }
                if !k.above.contains(seq) {
                    out.push(Delta { origin: *origin, seq: *seq, part: part.clone() });
                }
            }
        }
        out
    }

    /// This node's knowledge of the origins where a peer's `known` holds something this node lacks.
    pub(crate) fn lacking(&self, known: &[Known], now: Instant) -> Vec<Known> {
        let empty = Origin::new(now);
        known
            .iter()
            .filter_map(|k| {
                let mine = self.origins.get(&k.origin).unwrap_or(&empty);
                mine.lacks_any_of(k).then(|| mine.known(k.origin))
            })
            .collect()
    }

    /// Counts a peer's knowledge as this node's own, after merging that peer's full state.
    pub(crate) fn absorb(&mut self, known: &[Known], now: Instant) {
        for k in known {
            if k.origin == self.id {
                continue;
            }
            let origin = self.origins.entry(k.origin).or_insert_with(|| Origin::new(now));
            if k.contiguous > origin.contiguous {
                origin.contiguous = k.contiguous;
                let contiguous = origin.contiguous;
                origin.above.retain(|s| *s > contiguous);
            }
            for s in k.above.iter().take(MAX_ABOVE) {
                if *s > origin.contiguous {
                    origin.above.insert(*s);
                }
            }
            origin.normalize();
        }
        self.prune(now);
    }

    fn prune(&mut self, now: Instant) {
        while let Some(&(at, origin, seq)) = self.order.front() {
            if now.duration_since(at) <= RETAIN && self.order.len() <= MAX_RECENT {
                break;
            }
            self.order.pop_front();
            self.recent.remove(&(origin, seq));
        }
        if self.origins.len() > MAX_ORIGINS
            || self.origins.values().any(|o| now.duration_since(o.changed) > FORGET_ORIGIN)
        {
            let own = self.id;
            self.origins.retain(|id, o| *id == own || now.duration_since(o.changed) <= FORGET_ORIGIN);
            while self.origins.len() > MAX_ORIGINS {
                let oldest = self
                    .origins
                    .iter()
                    .filter(|(id, _)| **id != own)
                    .min_by_key(|(_, o)| o.changed)
                    .map(|(id, _)| *id);
                match oldest {
                    Some(id) => self.origins.remove(&id),
                    None => break,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: u8) -> Part {
        Part { key: "sil".into(), data: vec![n] }
    }

    fn delta(origin: u64, seq: u64) -> Delta {
        Delta { origin, seq, part: part(seq as u8) }
    }

    #[test]
    fn dedup_gaps_and_repair() {
        let now = Instant::now();
        let mut a = DeltaLog::new(1);
        let mut b = DeltaLog::new(2);
        let d1 = a.local(part(1), now);
        let d2 = a.local(part(2), now);
        let d3 = a.local(part(3), now);
        assert_eq!((d1.seq, d3.seq), (1, 3));
        // b got 1 and 3 only.
        assert!(b.record(&d1, now));
        assert!(!b.record(&d1, now), "second copy is a duplicate");
        assert!(b.record(&d3, now));
        assert!(b.seen(1, 3) && !b.seen(1, 2));
        let digest = b.digest(now, Duration::from_secs(1));
        assert_eq!(digest, vec![Known { origin: 1, contiguous: 1, above: vec![3] }]);
        // a pushes exactly what b lacks.
        assert_eq!(a.missing_for(&digest, 100), vec![d2.clone()]);
        // From a's digest, b sees it lacks something and answers with its knowledge.
        let a_digest = a.digest(now, Duration::from_secs(1));
        assert_eq!(b.lacking(&a_digest, now), digest);
        assert!(a.lacking(&digest, now).is_empty());
        assert!(b.record(&d2, now));
        assert!(b.lacking(&a_digest, now).is_empty());
        assert!(a.missing_for(&b.digest(now, Duration::from_secs(1)), 100).is_empty());
        // A node that never heard of the origin lacks everything.
        let c = DeltaLog::new(3);
        assert_eq!(c.lacking(&a_digest, now), vec![Known { origin: 1, contiguous: 0, above: vec![] }]);
    }

    #[test]
    fn quiet_origins_leave_the_digest_and_old_deltas_the_log() {
        let start = Instant::now();
        let mut a = DeltaLog::new(1);
        a.local(part(1), start);
        assert_eq!(a.len(), 1);
        let later = start + RETAIN + Duration::from_secs(1);
        assert!(a.digest(later, Duration::from_secs(2)).is_empty());
        a.record(&delta(9, 1), later);
        assert_eq!(a.len(), 1, "the old delta was pruned");
        assert_eq!(a.digest(later, Duration::from_secs(2)).len(), 1);
    }

    #[test]
    fn absorb_and_bounded_gaps() {
        let now = Instant::now();
        let mut a = DeltaLog::new(1);
        a.absorb(&[Known { origin: 5, contiguous: 10, above: vec![12] }], now);
        assert!(a.seen(5, 10) && a.seen(5, 12) && !a.seen(5, 11));
        assert!(!a.record(&delta(5, 3), now));
        let mut b = DeltaLog::new(2);
        for s in 0..(MAX_ABOVE as u64 + 10) {
            b.record(&delta(7, 2 + 2 * s), now);
        }
        let k = &b.digest(now, Duration::from_secs(1))[0];
        assert!(k.above.len() <= DIGEST_ABOVE, "{k:?}");
        for s in 0..(MAX_ABOVE as u64 * 2) {
            b.record(&delta(8, 2 + 2 * s), now);
        }
        assert!(b.origins[&8].above.len() <= MAX_ABOVE && b.origins[&8].contiguous > 0);
    }

    #[test]
    fn hostile_knowledge_is_cheap_and_safe() {
        let now = Instant::now();
        let mut a = DeltaLog::new(1);
        a.record(&delta(5, u64::MAX), now);
        a.record(&delta(5, 1), now);
        let huge = [Known { origin: 5, contiguous: u64::MAX, above: vec![u64::MAX, 0, 3] }];
        assert_eq!(a.lacking(&huge, now).len(), 1);
        assert!(a.missing_for(&huge, 10).is_empty());
        a.absorb(&huge, now);
        assert!(a.seen(5, u64::MAX - 1));
        assert!(!a.record(&delta(5, u64::MAX), now));
    }
}
