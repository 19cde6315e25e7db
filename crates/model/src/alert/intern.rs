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
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// A string shared between alerts (their generator URL). One pointer wide, an `Arc<String>` rather than a fat
/// `Arc<str>`: those eight bytes put `Alert` (with its `Arc` header) in a smaller allocation class, 16 bytes per
/// stored alert. The extra indirection is paid once per distinct URL, not per alert.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SharedStr(Arc<String>);

impl SharedStr {
    /// Whether both share one allocation (what interning is for).
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The shared empty string: no allocation per alert without a URL.
impl Default for SharedStr {
    fn default() -> Self {
        SharedStr(Arc::clone(&table().empty))
    }
}

/// Not interned: for hand-built alerts; the decoders use `intern_generator_url`.
impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        SharedStr(Arc::new(s.to_owned()))
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        SharedStr(Arc::new(s))
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for SharedStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

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
    urls: HashMap<u64, SharedStr, BuildHasherDefault<IdentityHasher>>,
    /// Misses left before a full shard is scanned for unused URLs again.
    cooldown: usize,
}

struct Table {
    shards: [Mutex<Shard>; SHARDS],
    empty: Arc<String>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table { shards: Default::default(), empty: Arc::new(String::new()) })
}

/// The shared string for `url` (the empty string is one static allocation).
pub fn intern(url: &str) -> SharedStr {
    let t = table();
    if url.is_empty() {
        return SharedStr::default();
    }
    let h = xxhash_rust::xxh64::xxh64(url.as_bytes(), 0);
    // The map uses the low bits (bucket) and the top seven (tag); the shard comes from bits neither uses.
    let mut shard =
        t.shards[(h >> 32) as usize & (SHARDS - 1)].lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(s) = shard.urls.get(&h) {
        if s.as_str() == url {
            return s.clone();
        }
        return SharedStr::from(url);
    }
    if shard.urls.len() >= CAPACITY {
        if shard.cooldown > 0 {
            shard.cooldown -= 1;
            return SharedStr::from(url);
        }
        shard.urls.retain(|_, s| Arc::strong_count(&s.0) > 1);
        if shard.urls.len() >= CAPACITY {
            shard.cooldown = CAPACITY;
            return SharedStr::from(url);
        }
    }
    let s = SharedStr::from(url);
    shard.urls.insert(h, s.clone());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_equal_urls() {
        let a = intern("http://prometheus:9090/graph?g0.expr=up&intern_test=1");
        let b = intern(&String::from("http://prometheus:9090/graph?g0.expr=up&intern_test=1"));
        assert!(SharedStr::ptr_eq(&a, &b));
        assert_eq!(a.as_str(), "http://prometheus:9090/graph?g0.expr=up&intern_test=1");
        let c = intern("http://prometheus:9090/graph?g0.expr=down&intern_test=1");
        assert!(!SharedStr::ptr_eq(&a, &c));
        assert!(SharedStr::ptr_eq(&intern(""), &intern("")));
        assert_eq!(intern("").as_str(), "");
    }

    #[test]
    fn stays_bounded_and_correct_under_a_flood() {
        let n = SHARDS * CAPACITY * 3;
        let kept: Vec<SharedStr> = (0..n).map(|i| intern(&format!("http://flood/{i}"))).collect();
        for (i, s) in kept.iter().enumerate() {
            assert_eq!(s.as_str(), format!("http://flood/{i}"));
        }
        let total: usize = table().shards.iter().map(|s| s.lock().map(|s| s.urls.len()).unwrap_or(0)).sum();
        assert!(total <= SHARDS * CAPACITY, "{total}");
        drop(kept);
        // Unused URLs are dropped when a shard fills up again, so interning resumes.
        let a = (0..n).fold(None, |_, i| Some(intern(&format!("http://again/{i}"))));
        let b = intern(&format!("http://again/{}", n - 1));
        assert!(a.is_some_and(|a| SharedStr::ptr_eq(&a, &b)));
    }
}
