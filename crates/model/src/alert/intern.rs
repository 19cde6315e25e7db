//! A bounded, process-wide table of generator URLs, so alerts of the same Prometheus rule share one `Arc<str>`.
//!
//! Prometheus sends one generator URL per alerting rule, so 100k alerts typically carry a few hundred distinct
//! URLs; storing each as its own `String` costs about 100 bytes per alert (a fifth of a stored alert). The table
//! is split into [`SHARDS`] mutex-protected maps keyed by the URL's 64-bit hash, computed before any lock is
//! taken, so a lookup holds a lock for one probe. It is bounded: a shard that is full first drops the URLs no
//! alert uses any more, and if none can be dropped the URL is returned un-shared (correct, only not deduplicated)
//! and the shard waits [`CAPACITY`] further misses before scanning again, so a flood of unique URLs costs O(1)
//! per alert and at most `SHARDS × CAPACITY` table entries. A hash collision between two different URLs is
//! treated the same way: the newcomer is simply not shared.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Number of shards; a power of two.
const SHARDS: usize = 8;
/// Entries per shard before the shard is pruned.
const CAPACITY: usize = 1024;

/// The key already is a hash: use it as is.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[derive(Default)]
struct Shard {
    urls: HashMap<u64, Arc<str>, BuildHasherDefault<IdentityHasher>>,
    /// Misses left before a full shard is scanned for unused URLs again.
    cooldown: usize,
}

struct Table {
    shards: [Mutex<Shard>; SHARDS],
    empty: Arc<str>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table { shards: Default::default(), empty: Arc::from("") })
}

/// The shared `Arc<str>` for `url` (the empty string is one static allocation).
pub fn intern(url: &str) -> Arc<str> {
    let t = table();
    if url.is_empty() {
        return Arc::clone(&t.empty);
    }
    let h = xxhash_rust::xxh64::xxh64(url.as_bytes(), 0);
    // The map uses the low bits (bucket) and the top seven (tag); the shard comes from bits neither uses.
    let mut shard =
        t.shards[(h >> 32) as usize & (SHARDS - 1)].lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(s) = shard.urls.get(&h) {
        if &**s == url {
            return Arc::clone(s);
        }
        return Arc::from(url);
    }
    if shard.urls.len() >= CAPACITY {
        if shard.cooldown > 0 {
            shard.cooldown -= 1;
            return Arc::from(url);
        }
        shard.urls.retain(|_, s| Arc::strong_count(s) > 1);
        if shard.urls.len() >= CAPACITY {
            shard.cooldown = CAPACITY;
            return Arc::from(url);
        }
    }
    let s: Arc<str> = Arc::from(url);
    shard.urls.insert(h, Arc::clone(&s));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_equal_urls() {
        let a = intern("http://prometheus:9090/graph?g0.expr=up&intern_test=1");
        let b = intern(&String::from("http://prometheus:9090/graph?g0.expr=up&intern_test=1"));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, "http://prometheus:9090/graph?g0.expr=up&intern_test=1");
        let c = intern("http://prometheus:9090/graph?g0.expr=down&intern_test=1");
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(Arc::ptr_eq(&intern(""), &intern("")));
        assert_eq!(&*intern(""), "");
    }

    #[test]
    fn stays_bounded_and_correct_under_a_flood() {
        let n = SHARDS * CAPACITY * 3;
        let kept: Vec<Arc<str>> = (0..n).map(|i| intern(&format!("http://flood/{i}"))).collect();
        for (i, s) in kept.iter().enumerate() {
            assert_eq!(&**s, format!("http://flood/{i}"));
        }
        let total: usize = table().shards.iter().map(|s| s.lock().map(|s| s.urls.len()).unwrap_or(0)).sum();
        assert!(total <= SHARDS * CAPACITY, "{total}");
        drop(kept);
        // Unused URLs are dropped when a shard fills up again, so interning resumes.
        let a = (0..n).fold(None, |_, i| Some(intern(&format!("http://again/{i}"))));
        let b = intern(&format!("http://again/{}", n - 1));
        assert!(a.is_some_and(|a| Arc::ptr_eq(&a, &b)));
    }
}
